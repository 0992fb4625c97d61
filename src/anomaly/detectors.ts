/**
 * Layer 1: explainable detectors, one per kind of event. Each reads one or two features, compares
 * them with a baseline learned from the training window (a high quantile, so a few past incidents in
 * the window do not raise it much) and with a physical floor (what is never suspicious, e.g. a family of
 * three phones arriving together), and maps the excess through a logistic to 0..1.
 */
import { FEATURE_INDEX, type FeatureName } from './features.js';

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

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const s = Float64Array.from(values).sort();
  const pos = Math.min(s.length - 1, Math.max(0, q * (s.length - 1)));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Baseline of each detector: a quantile (default 0.9) of the DAILY MAXIMA of its input over the training
 * window. With four weeks of history that is about the third-worst day, so one or two incident days in
 * the window do not raise it, while a network that legitimately grows moves it within days.
 */
export function learnBaselines(rows: readonly (readonly number[])[], ts: readonly number[]): Baselines {
  const out = {} as Baselines;
  for (const d of DETECTORS) {
    if (d.quantile >= 1) {
      out[d.name] = 0;
      continue;
    }
    const daily = new Map<number, number>();
    for (let i = 0; i < rows.length; i++) {
      const day = Math.floor(ts[i] / 86400);
      const x = d.input(rows[i]);
      daily.set(day, Math.max(daily.get(day) ?? -Infinity, x));
    }
    out[d.name] = quantile([...daily.values()], d.quantile);
  }
  return out;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function detectorScores(f: readonly number[], baselines: Baselines): Record<DetectorName, number> {
  const out = {} as Record<DetectorName, number>;
  for (const d of DETECTORS) {
    const center = Math.max(baselines[d.name] ?? 0, d.floor) + d.margin;
    out[d.name] = d.weight * sigmoid((d.input(f) - center) / d.scale);
  }
  return out;
}
