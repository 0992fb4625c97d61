// What the feature state remembers of one device (by MAC) or one client behind an extender's
// MAC-NAT (by IP): when it was seen, its gaps, in how many clock hours it answered at least once
// (its "hour coverage": brief misses inside an hour do not count against it) and at which hours of
// the day it is usually there. Times are unix seconds, indices and gaps are counted in sweeps.

const DAY = 86_400;
/** Weight of one hour in the hour coverage (a one-week half-life). */
const HOUR_ALPHA = Math.LN2 / (7 * 24);
/** Weight of one day in the usual presence at an hour of the day (about the last week). */
const PROFILE_BETA = 1 / 7;
/** Gap lengths (sweeps) whose counts a device keeps: gaps of at least 2, 3, 4, 6 and 9 sweeps. */
export const GAP_BUCKETS = [2, 3, 4, 6, 9];
/** The gap counts decay with the hour coverage's one-week half-life (in seconds). */
const GAP_TAU = (7 * 86_400) / Math.LN2;

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
  missSinceTs: number; // time of the first sweep of the current gap (0 while present)
  dayMaxGap: { day: number; len: number }[]; // longest gap (sweeps) that ended on each day
  gapCounts: number[]; // decaying counts of ended gaps of at least GAP_BUCKETS[k] sweeps ...
  gapCountsTs: number; // ... decayed up to this time
  bits: number; // presence in the last 32 sweeps, bit 0 = most recent
  hourCov: number; // decaying share of clock hours in which it answered at least once ...
  hourNorm: number; // ... (hourCov / hourNorm), over `hours` hours since first seen
  hours: number;
  seenHour: boolean; // answered in the current clock hour
  hourUpd: number; // clock hours folded in up to (excluding) this hour count
  profile: number[]; // per local hour of day: share of recent days it answered in that hour (-1: never observed)
  hereNow: boolean; // present (directly or through an extender) in the sweep being processed
  updIdx: number; // presence statistics are folded in up to (excluding) this sweep index
  age: number; // sweeps since first seen
  days: number; // distinct days seen
  lastDay: number;
  proxySinceTs: number | null;
  proxySweeps: number;
  replaced: boolean;
}

/** A device first seen now: present in this one sweep, in clock hour number `hourCount`. */
export function newInfo(ts: number, idx: number, day: number, hourCount: number, o: Partial<MacInfo> = {}): MacInfo {
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
    missSinceTs: 0,
    dayMaxGap: [],
    gapCounts: GAP_BUCKETS.map(() => 0),
    gapCountsTs: ts,
    bits: 1,
    hourCov: 0,
    hourNorm: 0,
    hours: 0,
    seenHour: true,
    hourUpd: hourCount,
    profile: new Array<number>(24).fill(-1),
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

export const copyInfo = (i: MacInfo): MacInfo => ({ ...i, dayMaxGap: i.dayMaxGap.map((g) => ({ ...g })), gapCounts: [...i.gapCounts], profile: [...i.profile] });

/** Folds one sweep (present or not) into the presence bits and the current hour. */
export function foldPresence(info: MacInfo, here: boolean, ts: number): void {
  info.bits = ((info.bits << 1) | (here ? 1 : 0)) >>> 0;
  info.age++;
  if (here) {
    info.seenHour = true;
    info.missSinceTs = 0;
  } else if (info.missSinceTs === 0) info.missSinceTs = ts;
}

/** A clock hour (local hour of day `hod`) has ended: fold whether the device answered in it. */
export function foldHour(info: MacInfo, hod: number): void {
  const seen = info.seenHour ? 1 : 0;
  info.hourCov = info.hourCov * (1 - HOUR_ALPHA) + HOUR_ALPHA * seen;
  info.hourNorm = info.hourNorm * (1 - HOUR_ALPHA) + HOUR_ALPHA;
  info.hours++;
  const p = info.profile[hod];
  info.profile[hod] = p < 0 ? seen : p * (1 - PROFILE_BETA) + PROFILE_BETA * seen;
  info.seenHour = false;
  info.hourUpd++;
}

/**
 * How often the device has had gaps of at least `gap` sweeps, per hour it was present (recent weeks
 * weigh most; both counts decay with a one-week half-life). Gaps longer than the buckets count as the
 * longest bucket.
 */
export function gapsPerHour(info: MacInfo, gap: number, ts: number): number {
  let k = 0;
  while (k + 1 < GAP_BUCKETS.length && GAP_BUCKETS[k + 1] <= gap) k++;
  const count = info.gapCounts[k] * Math.exp(-(ts - info.gapCountsTs) / GAP_TAU);
  return count / Math.max(1, info.hourCov / HOUR_ALPHA);
}

/** Share of clock hours since first seen in which the device answered (recent weeks weigh most). */
export function hourCoverage(info: MacInfo): number {
  return info.hourNorm > 0 ? info.hourCov / info.hourNorm : 0;
}

/** Applies the sweeps and clock hours a dormant device missed (absent in all of them) in one step. */
export function catchUp(info: MacInfo, idx: number, hourCount: number): void {
  const k = idx - info.updIdx;
  if (k > 0) {
    info.age += k;
    info.curGap += k;
    info.bits = k >= 32 ? 0 : (info.bits << k) >>> 0;
    info.updIdx = idx;
  }
  const h = hourCount - info.hourUpd;
  if (h > 0) {
    const decay = Math.pow(1 - HOUR_ALPHA, h);
    info.hourCov *= decay;
    info.hourNorm = 1 - (1 - info.hourNorm) * decay;
    info.hours += h;
    const dayDecay = Math.pow(1 - PROFILE_BETA, h / 24);
    for (let j = 0; j < 24; j++) if (info.profile[j] > 0) info.profile[j] *= dayDecay;
    info.seenHour = false;
    info.hourUpd = hourCount;
  }
}

/** A gap just ended at `ts`: count it, and keep the longest of its day for the days of the window. */
export function recordGap(info: MacInfo, ts: number, windowSeconds: number): void {
  const decay = Math.exp(-(ts - info.gapCountsTs) / GAP_TAU);
  for (let k = 0; k < GAP_BUCKETS.length; k++) info.gapCounts[k] = info.gapCounts[k] * decay + (info.curGap >= GAP_BUCKETS[k] ? 1 : 0);
  info.gapCountsTs = ts;
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
