// The time context of the feature state: local time of a sweep, how quiet each hour usually is
// (arrivals and departures over the window), and the usual device count for the hour of the week.
// Times are unix seconds.
import { median } from './quantile.js';

const DAY = 86_400;
/**
 * The least activity assumed at each local hour whatever the history says: people are up and about
 * in the daytime, so only night hours can be "quiet" (a home where nobody comes or goes on weekday
 * afternoons is not asleep then): at the tuned steepness the daytime rarity stays below the night
 * detectors' levels.
 */
const DAYTIME_ACTIVITY = Array.from({ length: 24 }, (_, h) => (h >= 7 && h <= 21 ? 0.25 : h === 6 || h === 22 ? 0.125 : 0));

export interface LocalTime {
  hod: number; // hour of day
  dow: number; // 0 = Sunday
  how: number; // hour of week
  frac: number; // fraction of the day
  day: number; // local day number
}

type Count = { ts: number; v: number };
type Arrival = { ts: number; hod: number; day: number; weekend: number; weight: number };

/** TimeContext as plain data (JSON-safe); part of FeatureStateSnapshot. */
export interface TimeContextSnapshot {
  arrivals: Arrival[];
  /** per slot: ts, count, ts, count, ... */
  slotsHow: number[][];
  slotsHod: number[][];
  recentCounts: number[];
  startTs: number | null;
  quietCache: { key: number; w: number[] };
  countCache: { key: number; med: number; scale: number; n: number };
}

const flatCounts = (list: Count[]): number[] => list.flatMap((e) => [e.ts, e.v]);
function unflatCounts(flat: number[]): Count[] {
  const out: Count[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ ts: flat[i], v: flat[i + 1] });
  return out;
}

export class TimeContext {
  private arrivals: Arrival[] = [];
  private slotsHow: Count[][] = Array.from({ length: 168 }, () => []);
  private slotsHod: Count[][] = Array.from({ length: 24 }, () => []);
  private recentCounts: Count[] = [];
  private startTs: number | null = null;
  private quietCache: { key: number; w: number[] } = { key: -1, w: [] };
  private countCache: { key: number; med: number; scale: number; n: number } = { key: -1, med: 0, scale: 1, n: 0 };

  /** `recentSweeps`: how many sweeps of counts to keep as the last fallback of the typical count (a day). */
  constructor(
    private readonly opts: { windowSeconds: number; tzOffsetMinutes: number; quietSteepness: number },
    private readonly recentSweeps: number,
  ) {}

  snapshot(): TimeContextSnapshot {
    return {
      arrivals: this.arrivals.map((a) => ({ ...a })),
      slotsHow: this.slotsHow.map(flatCounts),
      slotsHod: this.slotsHod.map(flatCounts),
      recentCounts: flatCounts(this.recentCounts),
      startTs: this.startTs,
      quietCache: { key: this.quietCache.key, w: [...this.quietCache.w] },
      countCache: { ...this.countCache },
    };
  }

  restore(snap: TimeContextSnapshot): void {
    this.arrivals = snap.arrivals.map((a) => ({ ...a }));
    this.slotsHow = Array.from({ length: 168 }, (_, i) => unflatCounts(snap.slotsHow[i] ?? []));
    this.slotsHod = Array.from({ length: 24 }, (_, i) => unflatCounts(snap.slotsHod[i] ?? []));
    this.recentCounts = unflatCounts(snap.recentCounts);
    this.startTs = snap.startTs;
    this.quietCache = { key: snap.quietCache.key, w: [...snap.quietCache.w] };
    this.countCache = { ...snap.countCache };
  }

  /** Notes the first sweep's time (the quiet-hours rates count days from there). */
  noteSweep(ts: number): void {
    if (this.startTs === null) this.startTs = ts;
  }

  /** Time of the first sweep folded in (null before any). */
  get firstSweepTs(): number | null {
    return this.startTs;
  }

  localTime(ts: number): LocalTime {
    const local = ts + this.opts.tzOffsetMinutes * 60;
    const days = Math.floor(local / DAY);
    const secOfDay = local - days * DAY;
    const hod = Math.floor(secOfDay / 3600);
    const dow = (((days + 4) % 7) + 7) % 7; // 0 = Sunday (1970-01-01 was a Thursday)
    return { hod, dow, how: dow * 24 + hod, frac: secOfDay / DAY, day: days };
  }

  /** A device arrived at `ts`: first seen (weight 1), or a known one back after >= 1 h (less). */
  addArrival(ts: number, weight: number): void {
    const t = this.localTime(ts);
    this.arrivals.push({ ts, hod: t.hod, day: t.day, weekend: t.dow === 0 || t.dow === 6 ? 1 : 0, weight });
  }

  /**
   * Rarity of arrivals at this hour of day: exp(-s * r) (s: Tuning.quietSteepness), where r is the larger of the weekday and the
   * weekend rate of activity in this hour, smoothed over +-1 h. A day's activity in an hour is its
   * arrivals there, at most 1: a new device makes the hour busy that day (the question is whether new
   * devices show up at this hour), a known device back after >= 1 h counts 1/6 (one phone back from a
   * long doze or a guard's round makes an hour a little busy, a household coming home makes it busy),
   * and one burst in the history counts no more than one guest. Taking the larger of the two day types
   * makes "quiet" mean night, not "nobody home on weekdays".
   */
  quietWeight(hod: number, ts: number): number {
    // recomputed once per local hour (deterministic: depends only on the sweeps folded in so far)
    const key = this.localHour(ts);
    if (this.quietCache.key !== key) this.quietCache = { key, w: this.computeQuiet(ts) };
    return this.quietCache.w[hod];
  }

  private localHour(ts: number): number {
    return Math.floor((ts + this.opts.tzOffsetMinutes * 60) / 3600);
  }

  private computeQuiet(ts: number): number[] {
    const from = ts - this.opts.windowSeconds;
    // per day type and hour: arrivals on each day
    const perDay: Map<number, number>[][] = [0, 1].map(() => Array.from({ length: 24 }, () => new Map<number, number>()));
    for (const a of this.arrivals) if (a.ts >= from) perDay[a.weekend][a.hod].set(a.day, (perDay[a.weekend][a.hod].get(a.day) ?? 0) + a.weight);
    const activity = perDay.map((hours) => hours.map((days) => [...days.values()].reduce((sum, n) => sum + Math.min(1, n), 0)));
    const start = Math.max(this.startTs ?? ts, from);
    let weekdays = 0;
    let weekends = 0;
    for (let d = this.localTime(start).day; d <= this.localTime(ts).day; d++) {
      const dow = (((d + 4) % 7) + 7) % 7;
      if (dow === 0 || dow === 6) weekends++;
      else weekdays++;
    }
    const out: number[] = [];
    for (let hod = 0; hod < 24; hod++) {
      const rate = (k: 0 | 1, n: number) => {
        const c = (h: number) => activity[k][(h + 24) % 24];
        return (0.25 * c(hod - 1) + 0.5 * c(hod) + 0.25 * c(hod + 1)) / Math.max(1, n);
      };
      out.push(Math.exp(-this.opts.quietSteepness * Math.max(rate(0, weekdays), rate(1, weekends), DAYTIME_ACTIVITY[hod])));
    }
    return out;
  }

  /** Robust z-score of `count` against the same hour of the week (fallback: hour of day, then the last day). */
  countDeviation(count: number, t: LocalTime, ts: number): number {
    // the typical value for this hour of the week is computed once per local hour
    const key = this.localHour(ts);
    if (this.countCache.key !== key) this.countCache = { key, ...this.typicalCount(t.how, t.hod, ts) };
    const c = this.countCache;
    if (c.n < 3) return 0;
    return (count - c.med) / c.scale;
  }

  private typicalCount(how: number, hod: number, ts: number): { med: number; scale: number; n: number } {
    const from = ts - this.opts.windowSeconds;
    let vals = this.slotsHow[how].filter((e) => e.ts >= from).map((e) => e.v);
    if (vals.length < 6) vals = this.slotsHod[hod].filter((e) => e.ts >= from).map((e) => e.v);
    if (vals.length < 6) vals = this.recentCounts.map((e) => e.v);
    if (vals.length < 3) return { med: 0, scale: 1, n: vals.length };
    const med = median(vals);
    return { med, scale: Math.max(1, 1.4826 * median(vals.map((v) => Math.abs(v - med)))), n: vals.length };
  }

  /** Folds in the device count of the sweep at `ts`. */
  recordCount(t: LocalTime, ts: number, count: number): void {
    const entry = { ts, v: count };
    this.slotsHow[t.how].push(entry);
    this.slotsHod[t.hod].push(entry);
    this.recentCounts.push(entry);
    if (this.recentCounts.length > this.recentSweeps) this.recentCounts.shift();
  }

  /** Forgets what happened before `from`. */
  prune(from: number): void {
    this.arrivals = this.arrivals.filter((a) => a.ts >= from);
    for (const s of this.slotsHow) while (s.length && s[0].ts < from) s.shift();
    for (const s of this.slotsHod) while (s.length && s[0].ts < from) s.shift();
  }
}
