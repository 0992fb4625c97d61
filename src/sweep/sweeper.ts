import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { ArpRequestBuilder } from '../arp/codec.js';
import { intToIpv4, ipv4ToInt } from '../net/ipv4.js';
import type { ArpChannel } from '../capture/arp-channel.js';
import { now, realtimeOffset } from './clock.js';
import { FirstAsks, RequestSender } from './request-sender.js';

export interface SweepOptions {
  /** Requests per second; 0 sends as fast as the host can. */
  rate: number;
  /** Extra rounds that re-ask only the addresses that stayed silent. */
  retries: number;
  /** Longest wait for replies after the last request of a round. */
  timeoutMs: number;
  /** Shorten the waits from measured round-trip times (replies arriving later still count). */
  adaptive?: boolean;
  /** Requests sent back-to-back before yielding to the event loop. */
  burst?: number;
  /** Known MACs to ask by unicast instead of broadcast (re-probing a device believed gone). */
  unicast?: ReadonlyMap<string, string>;
  onProgress?: (p: SweepProgress) => void;
  /** Each new address/MAC pair as its first reply arrives, before the sweep ends. */
  onReply?: (ip: string, mac: string) => void;
  signal?: AbortSignal;
}

export interface SweepProgress {
  round: number;
  sent: number;
  total: number;
  answered: number;
}

export interface SweepInterface {
  name: string;
  mac: string;
  ip: string;
}

export interface DeviceReply {
  ip: string;
  mac: string;
  /** Time from the request to the first reply; null for the scanning host itself. */
  rttMs: number | null;
  self: boolean;
}

export interface SweepStats {
  addresses: number;
  requestsSent: number;
  replies: number;
  duplicates: number;
  pcapDropped: number;
  rounds: number;
  durationMs: number;
}

export interface SweepResult {
  interface: string;
  /** epoch ms */
  startedAtMs: number;
  devices: DeviceReply[];
  /** IPs answered by more than one MAC in this sweep. */
  conflicts: { ip: string; macs: string[] }[];
  stats: SweepStats;
}

function indexOf(sorted: Uint32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid];
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort(); // numeric, without a comparator call per step
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

/** Indices of the addresses that have not answered, written to `out`; returns how many. */
function silentIndices(answered: Uint8Array, out: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < answered.length; i++) if (!answered[i]) out[n++] = i;
  return n;
}

/**
 * now() of the latest first request among the silent addresses, 0 if none. The first round asks
 * every silent address in index order, so that is the first request to the last silent index.
 */
function newestSilentAsk(answered: Uint8Array, firstAsks: FirstAsks): number {
  for (let i = answered.length - 1; i >= 0; i--) if (!answered[i]) return firstAsks.at(i);
  return 0;
}

/**
 * MACs that answered per target index, with the raw RTT of each. Almost every address has at
 * most one: that one is a plain record, not a Map per address (a /16 with thousands of devices
 * kept thousands of small Maps alive).
 */
class Replies {
  private readonly first = new Map<number, { mac: string; rtt: number | null }>();
  private readonly more = new Map<number, Map<string, number | null>>();

  /** Records a reply; false if this MAC already answered for index i. */
  add(i: number, mac: string, rtt: number | null): boolean {
    const first = this.first.get(i);
    if (first === undefined) {
      this.first.set(i, { mac, rtt });
      return true;
    }
    let others = this.more.get(i);
    if (first.mac === mac || others?.has(mac)) return false;
    if (!others) this.more.set(i, (others = new Map()));
    others.set(mac, rtt);
    return true;
  }

  /** Every reply by index (address order, targets are sorted), then in arrival order. */
  forEach(fn: (i: number, mac: string, rtt: number | null) => void): void {
    for (const i of Uint32Array.from(this.first.keys()).sort()) {
      const { mac, rtt } = this.first.get(i)!;
      fn(i, mac, rtt);
      for (const [other, otherRtt] of this.more.get(i) ?? []) fn(i, other, otherRtt);
    }
  }

  /** Indices answered by more than one MAC, with those MACs sorted. */
  conflicts(): [number, string[]][] {
    return Array.from(Uint32Array.from(this.more.keys()).sort(), (i) => [i, [this.first.get(i)!.mac, ...this.more.get(i)!.keys()].sort()]);
  }
}

/**
 * One ARP sweep over sorted `targets`. Stops as soon as every address has answered;
 * otherwise waits after each round (adaptively, from measured RTTs, capped by timeoutMs)
 * and retries only the silent addresses.
 */
export async function sweep(
  channel: ArpChannel,
  iface: SweepInterface,
  targets: Uint32Array,
  opts: SweepOptions,
): Promise<SweepResult> {
  const startedAtMs = Date.now();
  const t0 = now();
  const dropsBefore = channel.stats().dropped;
  const builder = new ArpRequestBuilder(iface.mac, iface.ip);
  const selfIp = ipv4ToInt(iface.ip);
  const sentAt = new Float64Array(targets.length);
  const firstAsks = new FirstAsks(targets.length, t0);
  const answered = new Uint8Array(targets.length);
  const replies = new Replies();
  // Capture timestamps come from the kernel's realtime clock, request times from now():
  // performance.timeOrigin is off from realtime by up to ~0.1 ms and misses clock steps (NTP
  // at boot on RTC-less hosts), which turned most LAN RTTs into 0 or garbage. The offset is
  // measured per sweep; every captured frame's (capture time - now() on arrival) is a lower
  // bound of it, which also covers a host too busy to measure (RTTs then come out high by the
  // shortest capture-to-handler delay of the sweep, never negative).
  const measuredOffset = realtimeOffset();
  let clockOffset = measuredOffset ?? -Infinity;
  const rtts: number[] = []; // raw tsMs - sentAt: the RTT plus the clock offset
  const rttOf = (raw: number): number => Math.max(0, raw - clockOffset);
  let answeredCount = 0;
  let replyCount = 0;
  let duplicates = 0;
  let requestsSent = 0;

  const selfIndex = indexOf(targets, selfIp);
  if (selfIndex >= 0) {
    answered[selfIndex] = 1;
    answeredCount++;
    replies.add(selfIndex, iface.mac, null);
  }

  let wake: (() => void) | null = null;
  const stop = channel.onArp((p, tsMs) => {
    const skew = tsMs - now();
    if (skew > clockOffset) clockOffset = skew;
    if (p.op !== 'reply' || (p.targetIp !== iface.ip && p.targetMac !== iface.mac)) return;
    const i = indexOf(targets, ipv4ToInt(p.senderIp));
    if (i < 0 || i === selfIndex) return;
    replyCount++;
    const rtt = sentAt[i] > 0 ? tsMs - sentAt[i] : null; // raw, see rttOf
    if (!replies.add(i, p.senderMac, rtt)) {
      duplicates++;
      return;
    }
    opts.onReply?.(p.senderIp, p.senderMac);
    if (rtt !== null) rtts.push(rtt);
    if (!answered[i]) {
      answered[i] = 1;
      answeredCount++;
      if (answeredCount === targets.length) wake?.();
    }
  });

  const burst = Math.max(1, opts.burst ?? 64);
  const rounds = 1 + Math.max(0, opts.retries);
  const sender = new RequestSender(channel, builder, targets, answered, sentAt, firstAsks, opts.unicast, burst);
  const pendingBuffer = new Uint32Array(targets.length);
  let roundsRun = 0;
  try {
    for (let round = 0; round < rounds && answeredCount < targets.length; round++) {
      roundsRun++;
      const pending = pendingBuffer.subarray(0, silentIndices(answered, pendingBuffer));
      const roundStart = now();
      let sent = 0;
      while (sent < pending.length) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('sweep aborted');
        let allowed = burst;
        if (opts.rate > 0) {
          const due = Math.floor(((now() - roundStart) * opts.rate) / 1000) + 1 - sent;
          if (due <= 0) {
            await sleep(Math.max(1, Math.ceil(1000 / opts.rate)));
            continue;
          }
          allowed = Math.min(burst, due);
        }
        const end = Math.min(pending.length, sent + allowed);
        requestsSent += sender.send(pending, sent, end);
        sent = end;
        opts.onProgress?.({ round, sent, total: pending.length, answered: answeredCount });
        await yieldToLoop();
      }
      await waitForReplies(round === rounds - 1);
    }
    if (answeredCount === targets.length && requestsSent > 0) {
      // Everyone answered: linger briefly so a second MAC answering for the same IP is still seen.
      await sleep(Math.min(opts.timeoutMs, Math.max(5, 2 * rttOf(percentile(rtts, 0.99)))));
    }
  } finally {
    stop();
  }

  async function waitForReplies(lastRound: boolean): Promise<void> {
    if (answeredCount === targets.length) return;
    let waitMs = opts.timeoutMs;
    if (opts.adaptive !== false && rtts.length >= 3) {
      const p99 = rttOf(percentile(rtts, 0.99));
      // The last round waits longer: nothing asks again after it.
      const floor = lastRound ? 100 : 30;
      waitMs = Math.min(opts.timeoutMs, Math.max(floor, p99 * (lastRound ? 8 : 4)));
      if (lastRound) {
        // Fast answers from most devices say nothing about a slow one (a Wi-Fi client in power
        // save answers after 100-300 ms): before giving up, every silent address has had the
        // full timeout since it was first asked. Long sweeps have already spent it sending.
        const newest = newestSilentAsk(answered, firstAsks);
        if (newest > 0) waitMs = Math.max(waitMs, Math.min(opts.timeoutMs, newest + opts.timeoutMs - now()));
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done(): void {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  const devices: DeviceReply[] = [];
  replies.forEach((i, mac, rtt) => {
    devices.push({ ip: intToIpv4(targets[i]), mac, rttMs: rtt === null ? null : rttOf(rtt), self: i === selfIndex });
  });
  return {
    interface: iface.name,
    startedAtMs,
    devices,
    conflicts: replies.conflicts().map(([i, macs]) => ({ ip: intToIpv4(targets[i]), macs })),
    stats: {
      addresses: targets.length,
      requestsSent,
      replies: replyCount,
      duplicates,
      pcapDropped: Math.max(0, channel.stats().dropped - dropsBefore),
      rounds: roundsRun,
      durationMs: now() - t0,
    },
  };
}
