/**
 * Layer 1: explainable detectors, one per kind of event. Each reads one or two features, compares
 * them with a baseline learned from the training window (a high quantile, so a few past incidents in
 * the window do not raise it much) and with a physical floor (what is never suspicious, e.g. a family of
 * three phones arriving together), and maps the excess through a logistic to 0..1.
 */
import { FEATURE_INDEX, type FeatureName } from './feature-names.js';
import { quantile } from './quantile.js';

export const DETECTOR_NAMES = [
  'new_burst',
  'night_device',
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
  /** distance above max(baseline, floor) where the score reaches 0.5 */
  margin: number;
  /** logistic scale */
  scale: number;
  /** quantile of the daily maxima in the training window used as the adaptive baseline (1 = no adaptation) */
  quantile: number;
  weight: number;
}

const v = (f: readonly number[], n: FeatureName) => f[FEATURE_INDEX[n]];

export const DETECTORS: DetectorSpec[] = [
  { name: 'new_burst', features: ['new_cohort', 'new_devices'], input: (f) => v(f, 'new_cohort'), floor: 3, margin: 1.5, scale: 0.6, quantile: 0.9, weight: 1 },
  { name: 'night_device', features: ['night_new'], input: (f) => v(f, 'night_new'), floor: 0.3, margin: 0.15, scale: 0.07, quantile: 1, weight: 1 },
  { name: 'segment_down', features: ['always_on_missing', 'segment_missing_frac'], input: (f) => v(f, 'always_on_missing'), floor: 1, margin: 1.2, scale: 0.35, quantile: 0.9, weight: 1 },
  { name: 'always_on_missing', features: ['always_on_gap_ratio', 'always_on_missing'], input: (f) => v(f, 'always_on_gap_ratio'), floor: 1, margin: 0.6, scale: 0.3, quantile: 0.9, weight: 1 },
  { name: 'gateway_spoof', features: ['gateway_conflict'], input: (f) => v(f, 'gateway_conflict'), floor: 0, margin: 0.5, scale: 0.1, quantile: 1, weight: 1 },
  { name: 'ip_conflict', features: ['dup_ip', 'ip_takeover'], input: (f) => v(f, 'dup_ip') + v(f, 'ip_takeover'), floor: 0, margin: 0.6, scale: 0.2, quantile: 0.9, weight: 1 },
  { name: 'mac_churn', features: ['random_churn', 'random_new_1h'], input: (f) => v(f, 'random_churn'), floor: 1, margin: 0.6, scale: 0.25, quantile: 0.9, weight: 1 },
  { name: 'count_deviation', features: ['count_dev'], input: (f) => Math.abs(v(f, 'count_dev')), floor: 3, margin: 1, scale: 0.7, quantile: 0.9, weight: 0.7 },
];

export type Baselines = Record<DetectorName, number>;

/**
 * Baseline of each detector: a quantile (default 0.9) of the DAILY MAXIMA of its input over the training
 * window. With four weeks of history that is about the third-worst day, so one or two incident days in
 * the window do not raise it, while a network that legitimately grows moves it within days.
 * Row p in [from, to) has DETECTORS[j].input at inputs[p * DETECTORS.length + j] and its time in ts[p].
 */
export function learnBaselines(inputs: ArrayLike<number>, ts: ArrayLike<number>, from: number, to: number): Baselines {
  // rows come in time order, so each day's rows are contiguous: one pass, running maxima per detector
  const n = DETECTORS.length;
  const daily: number[][] = DETECTORS.map(() => []);
  const running = new Float64Array(n);
  let day = NaN;
  for (let p = from; p <= to; p++) {
    const d = p < to ? Math.floor(ts[p] / 86400) : NaN;
    if (d !== day) {
      if (p > from) for (let j = 0; j < n; j++) daily[j].push(running[j]);
      running.fill(-Infinity);
      day = d;
    }
    if (p < to) for (let j = 0; j < n; j++) running[j] = Math.max(running[j], inputs[p * n + j]);
  }
  const out = {} as Baselines;
  DETECTORS.forEach((d, j) => (out[d.name] = d.quantile >= 1 ? 0 : quantile(daily[j], d.quantile)));
  return out;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Where `input` stands against the detector's center, max(baseline, floor) + margin, in units of its scale. */
function detectorZ(d: DetectorSpec, input: number, baselines: Baselines): number {
  const center = Math.max(baselines[d.name] ?? 0, d.floor) + d.margin;
  return (input - center) / d.scale;
}

export function detectorScores(f: readonly number[], baselines: Baselines): Record<DetectorName, number> {
  const out = {} as Record<DetectorName, number>;
  for (const d of DETECTORS) out[d.name] = d.weight * sigmoid(detectorZ(d, d.input(f), baselines));
  return out;
}

/** Detectors grouped by weight: the logistic is monotonic, so a group's strongest score is that of its largest z. */
const WEIGHT_GROUPS = [...new Set(DETECTORS.map((d) => d.weight))].map((w) => ({ w, members: DETECTORS.flatMap((d, j) => (d.weight === w ? [j] : [])) }));

/** The strongest detector score of a row from its inputs at inputs[offset + j]; one logistic per weight group (threshold calibration). */
export function maxDetectorScore(inputs: ArrayLike<number>, offset: number, baselines: Baselines): number {
  let best = 0;
  for (const g of WEIGHT_GROUPS) {
    let z = -Infinity;
    for (const j of g.members) z = Math.max(z, detectorZ(DETECTORS[j], inputs[offset + j], baselines));
    best = Math.max(best, g.w * sigmoid(z));
  }
  return best;
}
