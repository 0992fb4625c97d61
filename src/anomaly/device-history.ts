// What the feature state remembers of one device (by MAC) or one client behind an extender's
// MAC-NAT (by IP): when it was seen, its gaps and a decaying presence average. Times are unix
// seconds, indices and gaps are counted in sweeps.

const DAY = 86_400;

export interface MacInfo {
  firstTs: number;
  firstIdx: number;
  lastIdx: number;
  lastTs: number;
  lastIp: string | null;
  bootstrap: boolean;
  random: boolean;
  rotation: boolean; // a randomized MAC that replaced a long-lived one that just vanished (private-MAC rotation)
  quietAtFirst: number; // rarity weight of the hour it was first seen
  presentSweeps: number;
  curGap: number; // consecutive sweeps missed so far
  dayMaxGap: { day: number; len: number }[]; // longest gap (sweeps) that ended on each day
  bits: number; // presence in the last 32 sweeps, bit 0 = most recent
  ema: number;
  norm: number; // 1 - (1 - alpha)^age, so ema / norm is the presence ratio since first seen
  hereNow: boolean; // present (directly or through an extender) in the sweep being processed
  updIdx: number; // presence statistics are folded in up to (excluding) this sweep index
  age: number; // sweeps since first seen
  days: number; // distinct days seen
  lastDay: number;
  proxySinceTs: number | null;
  proxySweeps: number;
  replaced: boolean;
}

/** A device first seen now: present in this one sweep. `alpha` is the presence average's weight per sweep. */
export function newInfo(ts: number, idx: number, day: number, alpha: number, o: Partial<MacInfo> = {}): MacInfo {
  return {
    firstTs: ts,
    firstIdx: idx,
    lastIdx: idx,
    lastTs: ts,
    lastIp: null,
    bootstrap: false,
    random: false,
    rotation: false,
    quietAtFirst: 0,
    presentSweeps: 1,
    curGap: 0,
    dayMaxGap: [],
    bits: 1,
    ema: alpha,
    norm: alpha,
    hereNow: true,
    updIdx: idx + 1,
    age: 1,
    days: 1,
    lastDay: day,
    proxySinceTs: null,
    proxySweeps: 0,
    replaced: false,
    ...o,
  };
}

export const copyInfo = (i: MacInfo): MacInfo => ({ ...i, dayMaxGap: i.dayMaxGap.map((g) => ({ ...g })) });

/** Folds one sweep (present or not) into the presence bits and average. */
export function foldPresence(info: MacInfo, here: boolean, alpha: number): void {
  info.bits = ((info.bits << 1) | (here ? 1 : 0)) >>> 0;
  info.ema = info.ema * (1 - alpha) + (here ? alpha : 0);
  info.norm = info.norm * (1 - alpha) + alpha;
  info.age++;
}

/** Applies the sweeps a dormant device missed (absent in all of them) in one step. */
export function catchUp(info: MacInfo, idx: number, alpha: number): void {
  const k = idx - info.updIdx;
  if (k <= 0) return;
  const decay = Math.pow(1 - alpha, k);
  info.ema *= decay;
  info.norm = 1 - (1 - info.norm) * decay;
  info.age += k;
  info.curGap += k;
  info.bits = k >= 32 ? 0 : (info.bits << k) >>> 0;
  info.updIdx = idx;
}

/** A gap just ended at `ts`: keep the longest of its day, for the days of the window. */
export function recordGap(info: MacInfo, ts: number, windowSeconds: number): void {
  const day = Math.floor(ts / DAY);
  const last = info.dayMaxGap[info.dayMaxGap.length - 1];
  if (last && last.day === day) last.len = Math.max(last.len, info.curGap);
  else info.dayMaxGap.push({ day, len: info.curGap });
  const oldest = day - Math.ceil(windowSeconds / DAY);
  while (info.dayMaxGap.length && info.dayMaxGap[0].day <= oldest) info.dayMaxGap.shift();
}

/** Sweeps present among the `n` before the current one (bit 0). */
export function presentBefore(info: MacInfo, n: number): number {
  return popcount((info.bits >>> 1) & (2 ** n - 1));
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
