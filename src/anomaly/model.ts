// The anomaly model: small isolation forests per slot plus detector baselines, a forest-score scale
// and a threshold, all learned from the feature window; and how it scores a window row.
import { DETECTOR_NAMES, detectorScores, learnBaselines, maxDetectorScore, sigmoid, type Baselines } from './detectors.js';
import { forestSeed, forestTerm, modelBytes, trainSmallForestOn, type ForestModel, type SmallForest } from './forest.js';
import { mixSeed } from './prng.js';
import { quantileOfSorted } from './quantile.js';
import { chooseThreshold, DEFAULT_THRESHOLD_OPTIONS } from './threshold.js';
import type { AnomalyOptions } from './types.js';
import { FeatureWindow } from './window.js';

/** Weight of the isolation-forest part in the combined score. */
export const FOREST_WEIGHT = 0.7;
/** Forest terms computed between two yields to the event loop while re-scoring the window. */
const TERMS_PER_SLICE = 4000;
/** Rows combined into calibration scores between two yields. */
const ROWS_PER_SLICE = 10_000;
export interface TrainedModel {
  forest: ForestModel;
  /** due ts each slot's forest was trained at */
  slotDue: number[];
  baselines: Baselines;
  forestCenter: number;
  forestScale: number;
  threshold: number;
  trainedTs: number;
  samples: number;
  bytes: number;
}

export interface ScoreParts {
  score: number;
  detectors: Record<string, number>;
  forest: number;
  forestRaw: number;
}

/** Forest score of window row p, filling its per-slot cache for the model's slots. */
export function forestRaw(win: FeatureWindow, p: number, m: Pick<TrainedModel, 'forest' | 'slotDue'>): number {
  const slots = m.forest.forests;
  const S = win.slots;
  let total = 0;
  for (let k = 0; k < slots.length; k++) {
    if (win.termDue[p * S + k] !== m.slotDue[k]) {
      win.term[p * S + k] = forestTerm(slots[k], win.x, p * FeatureWindow.forestWidth);
      win.termDue[p * S + k] = m.slotDue[k];
    }
    total += win.term[p * S + k];
  }
  return slots.length === 0 ? 0 : total / slots.length;
}

export function combine(f: readonly number[], win: FeatureWindow, p: number, m: TrainedModel): ScoreParts {
  const detectors = detectorScores(f, m.baselines);
  let det = 0;
  for (const n of DETECTOR_NAMES) det = Math.max(det, detectors[n]);
  const raw = forestRaw(win, p, m);
  const forest = sigmoid((raw - m.forestCenter) / m.forestScale);
  const score = 1 - (1 - det) * (1 - FOREST_WEIGHT * forest);
  return { score, detectors, forest, forestRaw: raw };
}

export interface TrainInput {
  /** pinned: physical row indices stay valid across the yields */
  win: FeatureWindow;
  /** physical rows [from, to) of the window ending at the due point */
  from: number;
  to: number;
  /** due time each slot's forest must come from, and the rows of the window ending at a due time */
  targets: number[];
  windowRange: (dueTs: number) => [number, number];
  /** the current model: slots whose due time did not change keep their forest */
  prev: TrainedModel | null;
  /** generation of the detector scores cached in the window (bumped when the baselines move) */
  baselineGen: number;
  dueTs: number;
  opts: Pick<AnomalyOptions, 'treesPerForest' | 'sampleSize' | 'seed' | 'intervalSeconds' | 'falseAlarmsPerWeek'>;
}

/**
 * Trains the slots whose forest is due, re-scores the window with the forests and the detectors, and
 * chooses the threshold from the false-alarm budget. Calls `pause` between slices of work (yields
 * to the event loop). Null when a slot's window is too small for a forest.
 */
export async function trainModel(input: TrainInput, pause: () => Promise<void>): Promise<{ model: TrainedModel; baselineGen: number; forestsTrained: number } | null> {
  const { win, from, to, targets, prev, opts } = input;
  const n = to - from;
  const slots: SmallForest[] = [];
  let forestsTrained = 0;
  for (let k = 0; k < targets.length; k++) {
    if (prev && prev.slotDue[k] === targets[k] && prev.forest.forests[k]) {
      slots.push(prev.forest.forests[k]);
      continue;
    }
    const [a, b] = input.windowRange(targets[k]);
    const forest = trainSmallForestOn(
      (i) => win.forestRow(a + i),
      b - a,
      opts.treesPerForest ?? 10,
      opts.sampleSize ?? 256,
      forestSeed(mixSeed(opts.seed ?? 1, targets[k]), k),
    );
    if (!forest) return null;
    slots.push(forest);
    forestsTrained++;
    await pause();
  }
  const model = { forest: { forests: slots, width: FeatureWindow.forestWidth }, slotDue: targets };
  // re-score the window: only the slots a row has not been scored by yet
  const raw = new Float64Array(n);
  let work = 0;
  for (let i = 0; i < n; i++) {
    const p = from + i;
    for (let k = 0; k < slots.length; k++) if (win.termDue[p * win.slots + k] !== targets[k]) work++;
    raw[i] = forestRaw(win, p, model);
    if (work >= TERMS_PER_SLICE) {
      work = 0;
      await pause();
    }
  }
  const sorted = raw.slice().sort();
  const q50 = quantileOfSorted(sorted, 0.5);
  const q999 = quantileOfSorted(sorted, 0.999);
  const forestCenter = q999;
  const forestScale = Math.max(0.005, (q999 - q50) / 3);
  await pause();
  const baselines = learnBaselines(win.det, win.ts, from, to);
  // the baselines move only when the window's daily maxima do: rows keep their detector score until then
  const sameBaselines = prev !== null && DETECTOR_NAMES.every((n) => prev.baselines[n] === baselines[n]);
  const baselineGen = sameBaselines ? input.baselineGen : input.baselineGen + 1;
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = from + i;
    if (win.detGen[p] !== baselineGen) {
      win.detMax[p] = maxDetectorScore(win.det, p * FeatureWindow.detectorWidth, baselines);
      win.detGen[p] = baselineGen;
    }
    scores[i] = 1 - (1 - win.detMax[p]) * (1 - FOREST_WEIGHT * sigmoid((raw[i] - forestCenter) / forestScale));
    if (i % ROWS_PER_SLICE === ROWS_PER_SLICE - 1) await pause();
  }
  const span = win.ts[to - 1] - win.ts[from] + opts.intervalSeconds;
  // alarms less than half an hour apart are one episode
  const mergeGap = Math.max(1, Math.round(1800 / opts.intervalSeconds));
  const threshold = chooseThreshold(scores, span, { ...DEFAULT_THRESHOLD_OPTIONS, mergeGap, budgetPerWeek: opts.falseAlarmsPerWeek });
  return {
    model: { ...model, baselines, forestCenter, forestScale, threshold, trainedTs: input.dueTs, samples: n, bytes: modelBytes(model.forest) },
    baselineGen,
    forestsTrained,
  };
}
