#!/usr/bin/env bash
# Installs the Debian packages the test suites need; run as root before `npm ci && npm test`.
#
# Several of them are daemons (dnsmasq, avahi-daemon, radvd, arpwatch, prometheus, ...) that the
# tests start inside their own network namespaces only: on the host they would talk on the real
# LAN. So they are installed while a policy-rc.d forbids starting any service, the ones this run
# installs are not enabled at boot either, and any of them found running on the host afterwards
# that was not running before is stopped.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1

# Build tools, lab plumbing, peers and clients; recommends are fine here (chromium's fonts).
PACKAGES=(
  libpcap-dev python3 make g++                       # node_pcap, better-sqlite3, our packet sender
  iproute2 nftables procps util-linux mount          # namespaces, veth/macvlan, tc, nft, sysctl, setpriv, nsenter
  arp-scan nmap curl git openssl e2fsprogs systemd   # peers, HTTP and TLS, loop file systems, systemd-analyze
  udhcpc isc-dhcp-client chromium                    # DHCP clients and a headless browser, run in labs
)
# Daemons (and docker-compose, whose recommends would bring the Docker daemon): no recommends, so
# nothing else that listens comes along (prometheus would bring prometheus-node-exporter).
DAEMON_PACKAGES=(prometheus prometheus-alertmanager victoria-metrics arpwatch dnsmasq avahi-daemon radvd docker-compose)
# Process names of those daemons.
DAEMONS=(prometheus prometheus-alertmanager alertmanager victoria-metrics arpwatch dnsmasq avahi-daemon radvd)

[ "$(id -u)" = 0 ] || { echo "install-test-deps: run as root (apt-get)" >&2; exit 1; }

host_net=$(readlink /proc/self/ns/net)
# pids of DAEMONS running as services (children of init) in this, the host's, network namespace;
# the ones tests start have the test as parent and run in a lab's namespace.
host_daemons() {
  local pid d names=()
  for d in "${DAEMONS[@]}"; do names+=("${d:0:15}"); done # the kernel keeps 15 characters of a name
  for pid in $(pgrep -x "$(IFS='|'; echo "${names[*]}")" || true); do
    [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "$host_net" ] && [ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = 1 ] && echo "$pid"
  done
  return 0
}
installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }

before_pids=" $(host_daemons | tr '\n' ' ') "
new_packages=()
for p in "${DAEMON_PACKAGES[@]}"; do installed "$p" || new_packages+=("$p"); done

policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then
  saved=$(mktemp)
  cp -p "$policy" "$saved"
fi
restore_policy() {
  if [ -n "$saved" ]; then cp -p "$saved" "$policy" && rm -f "$saved"; else rm -f "$policy"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by ghost-hunter scripts/install-test-deps.sh: start no service while installing\nexit 101\n' > "$policy"
chmod 755 "$policy"

apt-get update
apt-get install -y "${PACKAGES[@]}"
apt-get install -y --no-install-recommends "${DAEMON_PACKAGES[@]}"

# Packages installed just now are not started at boot (the tests start them in namespaces).
for p in ${new_packages[@]+"${new_packages[@]}"}; do
  for unit in $(dpkg -L "$p" | grep -E '^/(usr/)?lib/systemd/system/[^/@]+\.(service|socket)$' | xargs -r -n1 basename); do
    echo "install-test-deps: disabling $unit (installed for the tests only)"
    systemctl disable --quiet "$unit" || echo "install-test-deps: could not disable $unit" >&2
  done
done

started_by_install() { # host daemons that were not running before the install
  local pid
  for pid in $(host_daemons); do
    case "$before_pids" in *" $pid "*) ;; *) echo "$pid" ;; esac
  done
}
for pid in $(started_by_install); do
  echo "install-test-deps: stopping $(cat "/proc/$pid/comm" 2>/dev/null) (pid $pid), started on the host by the install" >&2
  kill "$pid" 2>/dev/null || true
done
for _ in 1 2 3 4 5 6 7 8 9 10; do
  [ -z "$(started_by_install)" ] && exit 0
  sleep 1
done
echo "install-test-deps: still running on the host: $(started_by_install | tr '\n' ' ')" >&2
exit 1
