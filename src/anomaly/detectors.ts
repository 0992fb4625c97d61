/**
 * Layer 1: explainable detectors, one per kind of event. Each reads one or two features and fires
 * (score >= 0.5) when its input passes its own level, calibrated on THIS network's training window:
 *
 *   level = max(floor, q75) + max(margin, k * (q75 - q50))
 *
 * where q50 and q75 are quantiles of the input's DAILY MAXIMA over the window. Read as a Gumbel fit of
 * the daily maxima through those two quantiles, `k` puts the level where a day exceeds it with
 * probability budget / (7 * number of detectors): each detector gets its share of the false-alarm
 * budget, a network where a detector's input is noisy gets a higher level, a quiet one keeps the
 * physical floor plus margin. The quantiles ignore the worst quarter of the days, so incidents in the
 * window (even one every few days) do not raise the level. Detectors whose input means the same on every
 * network (the gateway answered by a stranger, an arrival at an hour nothing arrives) are not
 * adapted: their level is floor + margin.
 */
import { FEATURE_INDEX, type FeatureName } from './feature-names.js';
import type { InvolvedGroup } from './features.js';
import { quantileOfSorted } from './quantile.js';

export const DETECTOR_NAMES = [
  'new_burst',
  'night_device',
  'mass_drop',
  'segment_down',
  'always_on_missing',
  'gateway_spoof',
  'ip_conflict',
  'mac_churn',
  'count_deviation',
] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

export interface DetectorSpec {
  name: DetectorName;
  /** features the detector reads (its explanation) */
  features: FeatureName[];
  input: (f: readonly number[]) => number;
  /** value never considered suspicious, whatever the history */
  floor: number;
  /** least distance above max(floor, q75 of the daily maxima) where the detector fires */
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
  // MACs of one prefix count twice: a batch of one vendor's devices (or VMs) arriving together is rarer than the same number of phones
  { name: 'new_burst', features: ['new_30m', 'new_vendor_30m', 'new_cohort'], input: (f) => Math.max(v(f, 'new_30m'), v(f, 'new_cohort'), 2 * v(f, 'new_vendor_30m')), floor: 3, margin: 1.5, scale: 0.5, adaptive: true, devices: 'new' },
  { name: 'night_device', features: ['night_new'], input: (f) => v(f, 'night_new'), floor: 0.3, margin: 0.15, scale: 0.07, adaptive: false, devices: 'night' },
  { name: 'mass_drop', features: ['drop_sync', 'drop_share'], input: (f) => v(f, 'drop_sync'), floor: 1.5, margin: 1, scale: 0.4, adaptive: true, devices: 'drop' },
  { name: 'segment_down', features: ['always_on_missing', 'segment_missing_frac'], input: (f) => v(f, 'always_on_missing'), floor: 1, margin: 1.2, scale: 0.35, adaptive: true, devices: 'overdue' },
  { name: 'always_on_missing', features: ['always_on_gap_ratio', 'always_on_missing'], input: (f) => v(f, 'always_on_gap_ratio'), floor: 1, margin: 0.6, scale: 0.3, adaptive: true, devices: 'overdue' },
  { name: 'gateway_spoof', features: ['gateway_conflict'], input: (f) => v(f, 'gateway_conflict'), floor: 0, margin: 0.5, scale: 0.1, adaptive: false, devices: 'gateway' },
  { name: 'ip_conflict', features: ['dup_ip', 'ip_takeover'], input: (f) => v(f, 'dup_ip') + v(f, 'ip_takeover'), floor: 0, margin: 0.6, scale: 0.2, adaptive: true, devices: 'ip' },
  { name: 'mac_churn', features: ['random_churn', 'random_new_1h'], input: (f) => v(f, 'random_churn'), floor: 1, margin: 0.6, scale: 0.25, adaptive: true, devices: 'churn' },
  { name: 'count_deviation', features: ['count_dev'], input: (f) => Math.abs(v(f, 'count_dev')), floor: 3, margin: 1, scale: 0.7, adaptive: true },
];

/** Where each detector fires on this network, and its logistic scale there. */
export type Calibration = Record<DetectorName, { level: number; scale: number }>;

/** A level calibrated on the daily maxima of one input (a detector's, or the forest's score). */
export interface Level {
  level: number;
  scale: number;
}

const gumbel = (q: number) => -Math.log(-Math.log(q));

/**
 * How many (q75 - q50) spreads above the 75 % quantile of the daily maxima a day's maximum exceeds
 * with probability p, when the daily maxima follow a Gumbel law (its quantiles: mu - beta ln(-ln q)).
 */
export function spreadsAboveQ75(p: number): number {
  return Math.max(0, (gumbel(1 - p) - gumbel(0.75)) / (gumbel(0.75) - gumbel(0.5)));
}

/** The level of one input from its daily maxima (see the file comment). */
export function calibrateLevel(dailyMax: number[], o: { floor: number; margin: number; scale: number; adaptive: boolean }, k: number): Level {
  if (!o.adaptive || dailyMax.length === 0) return { level: o.floor + o.margin, scale: o.scale };
  const s = Float64Array.from(dailyMax).sort();
  const q50 = quantileOfSorted(s, 0.5);
  const q75 = quantileOfSorted(s, 0.75);
  const spread = Math.max(0, q75 - q50);
  return { level: Math.max(o.floor, q75) + Math.max(o.margin, k * spread), scale: Math.max(o.scale, spread) };
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

/** Every detector's level from the window's detector inputs (DETECTORS.length per row), with the false-alarm budget split between `shares` parts. */
export function calibrateDetectors(inputs: ArrayLike<number>, ts: ArrayLike<number>, from: number, to: number, budgetPerWeek: number, shares: number): Calibration {
  const k = spreadsAboveQ75(Math.min(0.5, budgetPerWeek / (7 * shares)));
  const daily = dailyMaxima(inputs, DETECTORS.length, ts, from, to);
  const out = {} as Calibration;
  DETECTORS.forEach((d, j) => (out[d.name] = calibrateLevel(daily[j], d, k)));
  return out;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function detectorScores(f: readonly number[], cal: Calibration): Record<DetectorName, number> {
  const out = {} as Record<DetectorName, number>;
  for (const d of DETECTORS) {
    const c = cal[d.name];
    out[d.name] = sigmoid((d.input(f) - c.level) / c.scale);
  }
  return out;
}
