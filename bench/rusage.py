#!/usr/bin/python3
"""Runs a command and reports what it cost, for bench/run.ts.

usage: rusage.py <out.json> <ifname> <cmd> [args...]

Runs inside the lab's scanner namespace (under `ip netns exec`), so /sys/class/net/<ifname>
is the scanner interface. Writes {wall_s, user_s, sys_s, maxrss_kb, tx_packets, rx_packets, code}
with microsecond CPU times from wait4() (GNU time prints only 10 ms steps). The wall clock
starts right before fork() and stops when wait4() returns: process start-up of the measured
command is included, this wrapper's own start-up is not.
"""
import json
import os
import sys
import time


def counter(ifname, name):
    try:
        with open(f"/sys/class/net/{ifname}/statistics/{name}") as f:
            return int(f.read())
    except OSError:
        return -1


def main():
    out, ifname, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    tx0, rx0 = counter(ifname, "tx_packets"), counter(ifname, "rx_packets")
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    tx1, rx1 = counter(ifname, "tx_packets"), counter(ifname, "rx_packets")
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w") as f:
        json.dump(
            {
                "wall_s": wall,
                "user_s": ru.ru_utime,
                "sys_s": ru.ru_stime,
                "maxrss_kb": ru.ru_maxrss,
                "tx_packets": tx1 - tx0,
                "rx_packets": rx1 - rx0,
                "code": code,
            },
            f,
        )
    sys.exit(0 if code >= 0 else 1)


main()
