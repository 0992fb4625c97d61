/**
 * Layer 1: explainable detectors, one per kind of event. Each reads one or two features and fires
 * (score >= 0.5) when its input passes its own level, calibrated on THIS network's training window:
 *
 *   level = max(floor + margin, q75 + margin, the Gumbel quantile at budget / (7 * detectors))
 *
 * over the input's DAILY MAXIMA in the window: a Gumbel law is fitted to them (gumbel.ts, robust to a
 * fifth of the days being incidents), and the level is where a day exceeds it with probability
 * budget / (7 * (detectors + the forest)): each detector gets its share of the false-alarm budget, a
 * network where a detector's input is noisy gets a higher level, a quiet one keeps the physical floor
 * plus margin. Days below the floor count at the floor, so how far below it a day stayed does not widen
 * the fit. Detectors whose input means the same on every network (the gateway answered by a stranger, a
 * vendor-MAC device arriving at an hour nothing arrives) are not adapted: their level is floor + margin.
 */
import { FEATURE_INDEX, type FeatureName } from './feature-names.js';
import type { InvolvedGroup } from './features.js';
import { DEFAULT_TUNING } from './tuning.js';
import type { Tuning } from './types.js';
import { gumbelFit, gumbelLevel } from './gumbel.js';
import { quantileOfSorted } from './quantile.js';

export const DETECTOR_NAMES = [
  'new_burst',
  'night_device',
  'night_random',
  'mass_drop',
  'segment_down',
  'always_on_missing',
  'gateway_spoof',
  'ip_conflict',
  'mac_churn',
] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

export interface DetectorSpec {
  name: DetectorName;
  /** features the detector reads (its explanation) */
  features: FeatureName[];
  input: (f: readonly number[]) => number;
  /** value never considered suspicious, whatever the history */
  floor: number;
  /** the Tuning setting that replaces `floor`, if any */
  tunedFloor?: 'dropFloor' | 'alwaysOnFloor';
  /** least distance above the floor and above the upper quartile of the daily maxima where the detector fires */
  margin: number;
  /** least logistic scale (the score goes from 0.27 to 0.73 over two scales around the level) */
  scale: number;
  /** calibrated on the network's daily maxima (false: fixed level floor + margin) */
  adaptive: boolean;
  /** the devices that explain it (features.ts records them per sweep) */
  devices?: InvolvedGroup;
}

const v = (f: readonly number[], n: FeatureName) => f[FEATURE_INDEX[n]];

export const DETECTORS: DetectorSpec[] = [
  { name: 'new_burst', features: ['new_30m', 'new_cohort'], input: (f) => Math.max(v(f, 'new_30m'), v(f, 'new_cohort')), floor: 3, margin: 1.5, scale: 0.5, adaptive: true, devices: 'new' },
  { name: 'night_device', features: ['night_new'], input: (f) => v(f, 'night_new'), floor: 0.3, margin: 0.15, scale: 0.07, adaptive: false, devices: 'night' },
  // private MACs at odd hours are common where a phone re-randomizes its MAC: calibrated per network
  { name: 'night_random', features: ['night_new_random'], input: (f) => v(f, 'night_new_random'), floor: 0.4, margin: 0.1, scale: 0.07, adaptive: true, devices: 'night_random' },
  { name: 'mass_drop', features: ['drop_sync', 'drop_share'], input: (f) => v(f, 'drop_sync'), floor: DEFAULT_TUNING.dropFloor, tunedFloor: 'dropFloor', margin: 1.5, scale: 1, adaptive: true, devices: 'drop' },
  { name: 'segment_down', features: ['always_on_missing', 'segment_missing_frac'], input: (f) => v(f, 'always_on_missing'), floor: 1, margin: 1.2, scale: 0.35, adaptive: true, devices: 'overdue' },
  { name: 'always_on_missing', features: ['always_on_surprise', 'always_on_missing'], input: (f) => v(f, 'always_on_surprise'), floor: DEFAULT_TUNING.alwaysOnFloor, tunedFloor: 'alwaysOnFloor', margin: 1, scale: 1, adaptive: true, devices: 'overdue' },
  { name: 'gateway_spoof', features: ['gateway_conflict'], input: (f) => v(f, 'gateway_conflict'), floor: 0, margin: 0.5, scale: 0.1, adaptive: false, devices: 'gateway' },
  { name: 'ip_conflict', features: ['dup_ip', 'ip_takeover'], input: (f) => v(f, 'dup_ip') + v(f, 'ip_takeover'), floor: 0, margin: 0.6, scale: 0.2, adaptive: true, devices: 'ip' },
  { name: 'mac_churn', features: ['random_churn', 'random_new_1h'], input: (f) => v(f, 'random_churn'), floor: 1, margin: 0.6, scale: 0.25, adaptive: true, devices: 'churn' },
];

/** Where each detector fires on this network, its logistic scale there, and how its values rank below that. */
export type Calibration = Record<DetectorName, Level>;

/**
 * A level calibrated on the daily maxima of one input (a detector's, or the forest's score): at and
 * above `level` the score is sigmoid((x - level) / scale), from 0.5 up. Below it the score ranks the
 * value against the window's rows (`rows`, a sorted sample): 0.5 * r / (R + 1), where r = -ln p and p
 * is the conformal p-value (rows at or above x, plus one, over rows plus one) and R its largest
 * possible value. So a value no row reached scores just under 0.5, and a value most rows reach near 0:
 * scores below the threshold rank sweeps by how rare each detector's value is on this network.
 */
export interface Level {
  level: number;
  scale: number;
  rows: Float64Array;
}

/** Rows sampled (evenly) from the window for the ranking below the level: bounds the retrain cost at any sweep interval. */
export const RANK_SAMPLE = 4096;

/** Score (0..1) of `x` against its level; 0.5 at the level. */
export function levelScore(x: number, c: Level): number {
  if (x >= c.level) return sigmoid((x - c.level) / c.scale);
  const m = c.rows.length;
  if (m === 0) return sigmoid((x - c.level) / c.scale);
  // rows >= x: binary search for the first row >= x in the ascending sample
  let lo = 0;
  let hi = m;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (c.rows[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) return 0; // every row reaches it
  const rarest = Math.log(m + 1);
  const r = -Math.log((m - lo + 1) / (m + 1));
  return (0.5 * r) / (rarest + 1);
}

/** Every `stride`-th value of column j of a row-major table (rows [from, to)), sorted: the ranking sample. */
export function rankSample(values: ArrayLike<number>, width: number, j: number, from: number, to: number): Float64Array {
  const stride = Math.max(1, Math.ceil((to - from) / RANK_SAMPLE));
  const out = new Float64Array(Math.ceil((to - from) / stride));
  for (let p = from, k = 0; p < to; p += stride, k++) out[k] = values[p * width + j];
  return out.sort();
}

/** The level and scale of one input from its daily maxima (see the file comment); p is a day's share of the false-alarm budget. */
export function calibrateLevel(dailyMax: number[], o: { floor: number; margin: number; scale: number; adaptive: boolean }, p: number): { level: number; scale: number } {
  if (!o.adaptive || dailyMax.length === 0) return { level: o.floor + o.margin, scale: o.scale };
  const s = Float64Array.from(dailyMax, (x) => Math.max(o.floor, x)).sort();
  const q50 = quantileOfSorted(s, 0.5);
  const g = gumbelFit(s, q50, 0);
  const level = Math.max(o.floor + o.margin, quantileOfSorted(s, 0.75) + o.margin, gumbelLevel(g, p));
  return { level, scale: Math.max(o.scale, g.beta) };
}

/**
 * Daily maxima of each column of a row-major table (`width` values per row, rows [from, to) in time
 * order, their times in ts[]). Days are UTC days; rows come in time order, so one pass suffices.
 */
export function dailyMaxima(values: ArrayLike<number>, width: number, ts: ArrayLike<number>, from: number, to: number): number[][] {
  if (width === 0) return [];
  const daily: number[][] = Array.from({ length: width }, () => []);
  const running = new Float64Array(width);
  let day = NaN;
  for (let p = from; p <= to; p++) {
    const d = p < to ? Math.floor(ts[p] / 86400) : NaN;
    if (d !== day) {
      if (p > from) for (let j = 0; j < width; j++) daily[j].push(running[j]);
      running.fill(-Infinity);
      day = d;
    }
    if (p < to) for (let j = 0; j < width; j++) running[j] = Math.max(running[j], values[p * width + j]);
  }
  return daily;
}

/** A day's share of the false-alarm budget for one of `shares` parts: budget / (7 * shares), at most one day in two. */
export function dailyShare(budgetPerWeek: number, shares: number): number {
  return Math.min(0.5, budgetPerWeek / (7 * shares));
}

/** Every detector's level from the window's detector inputs (DETECTORS.length per row, rows [from, to)), with the false-alarm budget split between `shares` parts. */
export function calibrateDetectors(inputs: ArrayLike<number>, ts: ArrayLike<number>, from: number, to: number, budgetPerWeek: number, shares: number, tuning: Tuning = DEFAULT_TUNING): Calibration {
  const p = dailyShare(budgetPerWeek, shares);
  const daily = dailyMaxima(inputs, DETECTORS.length, ts, from, to);
  const out = {} as Calibration;
  DETECTORS.forEach((d, j) => {
    const spec = d.tunedFloor ? { ...d, floor: tuning[d.tunedFloor] } : d;
    out[d.name] = { ...calibrateLevel(daily[j], spec, p), rows: rankSample(inputs, DETECTORS.length, j, from, to) };
  });
  return out;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function detectorScores(f: readonly number[], cal: Calibration): Record<DetectorName, number> {
  const out = {} as Record<DetectorName, number>;
  for (const d of DETECTORS) out[d.name] = levelScore(d.input(f), cal[d.name]);
  return out;
}
