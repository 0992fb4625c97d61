import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { ArpRequestBuilder, intToIpv4, ipv4ToInt } from '../arp/codec.js';
import type { ArpChannel } from '../capture/arp-channel.js';

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
  startedAt: number;
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
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

const now = (): number => performance.timeOrigin + performance.now();

/**
 * Offset (ms) from now() to the realtime clock that stamps captured frames, or null if the host
 * is too busy to measure it. Spins until Date.now() ticks to the next millisecond (< 1 ms): the
 * tick lies between the now() reads around the Date.now() calls that saw the old and the new
 * value, so a sample whose reads were not preempted is exact to a few µs. Median of up to 3
 * samples; usually 1-3 ms, at most 25 ms on a loaded host.
 */
function realtimeOffset(): number | null {
  const samples: number[] = [];
  const t0 = now();
  let before = t0;
  let last = Date.now();
  for (;;) {
    const a = now();
    const d = Date.now();
    const b = now();
    if (d !== last) {
      if (b - before < 0.005) samples.push(d - (before + b) / 2);
      last = d;
    }
    before = a;
    const spent = b - t0;
    if (samples.length === 3 || spent > 25 || (spent > 3 && samples.length > 0)) break;
  }
  samples.sort((x, y) => x - y);
  return samples.length ? samples[(samples.length - 1) >> 1] : null;
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
  const startedAt = Date.now();
  const t0 = now();
  const dropsBefore = channel.stats().dropped;
  const builder = new ArpRequestBuilder(iface.mac, iface.ip);
  // One broadcast frame, rewritten in place for each target: inject() hands the frame to
  // pcap_inject(), which copies it before returning, and a fresh 60-byte Buffer per request was
  // most of a /16 sweep's garbage (and young-generation growth, i.e. RSS).
  const broadcastFrame = builder.build(0);
  const selfIp = ipv4ToInt(iface.ip);
  const sentAt = new Float64Array(targets.length);
  const firstAskedAt = new Float64Array(targets.length); // now() of the first request per address
  const answered = new Uint8Array(targets.length);
  const macsByIndex = new Map<number, Map<string, number | null>>();
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
  let replies = 0;
  let duplicates = 0;
  let requestsSent = 0;

  const selfIndex = indexOf(targets, selfIp);
  if (selfIndex >= 0) {
    answered[selfIndex] = 1;
    answeredCount++;
    macsByIndex.set(selfIndex, new Map([[iface.mac, null]]));
  }

  let wake: (() => void) | null = null;
  const stop = channel.onArp((p, tsMs) => {
    const skew = tsMs - now();
    if (skew > clockOffset) clockOffset = skew;
    if (p.op !== 'reply' || (p.targetIp !== iface.ip && p.targetMac !== iface.mac)) return;
    const i = indexOf(targets, ipv4ToInt(p.senderIp));
    if (i < 0 || i === selfIndex) return;
    replies++;
    let macs = macsByIndex.get(i);
    if (!macs) macsByIndex.set(i, (macs = new Map()));
    if (macs.has(p.senderMac)) {
      duplicates++;
      return;
    }
    const rtt = sentAt[i] > 0 ? tsMs - sentAt[i] : null; // raw, see rttOf
    macs.set(p.senderMac, rtt);
    if (rtt !== null) rtts.push(rtt);
    if (!answered[i]) {
      answered[i] = 1;
      answeredCount++;
      if (answeredCount === targets.length) wake?.();
    }
  });

  const burst = Math.max(1, opts.burst ?? 64);
  const rounds = 1 + Math.max(0, opts.retries);
  let roundsRun = 0;
  try {
    for (let round = 0; round < rounds && answeredCount < targets.length; round++) {
      roundsRun++;
      const pending: number[] = [];
      for (let i = 0; i < targets.length; i++) if (!answered[i]) pending.push(i);
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
        for (; sent < end; sent++) {
          const i = pending[sent];
          if (answered[i]) continue; // a late reply arrived meanwhile
          const ip = targets[i];
          const mac = opts.unicast?.get(intToIpv4(ip));
          let frame = broadcastFrame;
          if (mac) frame = builder.build(ip, mac);
          else frame.writeUInt32BE(ip >>> 0, 38); // ARP target protocol address
          const t = now();
          sentAt[i] = t;
          if (firstAskedAt[i] === 0) firstAskedAt[i] = t;
          channel.inject(frame);
          requestsSent++;
        }
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
        let newest = 0;
        for (let i = 0; i < targets.length; i++) if (!answered[i] && firstAskedAt[i] > newest) newest = firstAskedAt[i];
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
  const conflicts: { ip: string; macs: string[] }[] = [];
  const indices = [...macsByIndex.keys()].sort((a, b) => targets[a] - targets[b]);
  for (const i of indices) {
    const macs = macsByIndex.get(i)!;
    const ip = intToIpv4(targets[i]);
    for (const [mac, rtt] of macs) devices.push({ ip, mac, rttMs: rtt === null ? null : rttOf(rtt), self: i === selfIndex });
    if (macs.size > 1) conflicts.push({ ip, macs: [...macs.keys()].sort() });
  }
  return {
    interface: iface.name,
    startedAt,
    devices,
    conflicts,
    stats: {
      addresses: targets.length,
      requestsSent,
      replies,
      duplicates,
      pcapDropped: Math.max(0, channel.stats().dropped - dropsBefore),
      rounds: roundsRun,
      durationMs: now() - t0,
    },
  };
}
