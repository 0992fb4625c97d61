/**
 * The feature windows counted in sweeps, derived from the sweep interval so that they mean the same
 * hours and days whatever scan.interval is. At the default 5 minutes: an hour is 12 sweeps, three
 * hours 36, a day 288.
 */
export interface SweepWindows {
  /** An hour: the bootstrap, "within the hour", MAC rotation, IP takeover, gateway learning, back after >= 1 h. */
  hour: number;
  /** Three hours: recent arrivals; a randomized MAC present this long is long-lived. */
  recent: number;
  /** A day: dormancy, the recent count history, pruning. */
  day: number;
  /** Half an hour: new devices arriving together, devices vanishing together (a mass drop). */
  halfHour: number;
  /** A quarter of an hour: devices whose last sweeps lie this close vanished at the same moment. */
  quarter: number;
  /** A randomized MAC present for at most this long (30 min) is short-lived. */
  shortLived: number;
  /** New randomized MACs keep appearing while one was first seen within this many sweeps (an hour). */
  fresh: number;
  /** Presence bits that make "the previous hour" (the bit history holds 32 sweeps), and how many of them are "most". */
  hourBits: number;
  hourBitsMost: number;
}

export function sweepWindows(intervalSeconds: number): SweepWindows {
  const sweeps = (seconds: number) => Math.max(1, Math.round(seconds / intervalSeconds));
  const hour = sweeps(3600);
  const day = sweeps(86_400);
  const hourBits = Math.min(hour, 31);
  return {
    hour,
    recent: sweeps(3 * 3600),
    day,
    halfHour: sweeps(1800),
    quarter: sweeps(900),
    shortLived: sweeps(1800),
    fresh: sweeps(3600),
    hourBits,
    hourBitsMost: Math.ceil(0.75 * hourBits),
  };
}
