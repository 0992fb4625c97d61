// The anomaly model: small isolation forests per slot, and where each detector and the forest fire on
// this network, all learned from the feature window; and how it scores a window row.
import { calibrateDetectors, dailyShare, calibrateLevel, dailyMaxima, DETECTORS, DETECTOR_NAMES, detectorScores, levelScore, rankSample, type Calibration, type Level } from './detectors.js';
import { forestSeed, forestTerm, modelBytes, trainSmallForestOn, type ForestModel, type SmallForest } from './forest.js';
import { mixSeed } from './prng.js';
import type { AnomalyOptions, Tuning } from './types.js';
import { FeatureWindow } from './window.js';

/** Every score is calibrated so that 0.5 is where it fires: the threshold is the same on every network. */
export const THRESHOLD = 0.5;
/** The forest's calibration: its raw score's daily maxima, with this least margin and scale. */
const FOREST_LEVEL = { floor: 0, margin: 0.02, scale: 0.01, adaptive: true };
/** Forest terms computed between two yields to the event loop while re-scoring the window. */
const TERMS_PER_SLICE = 4000;
export interface TrainedModel {
  forest: ForestModel;
  /** due ts each slot's forest was trained at */
  slotDue: number[];
  calibration: Calibration;
  forestLevel: Level;
  threshold: number;
  trainedTs: number;
  samples: number;
  /** the forests' typed arrays and the levels' ranking samples */
  bytes: number;
}

/** Bytes of the ranking samples kept with the levels. */
function rankBytes(cal: Calibration, forest: Level): number {
  return Object.values(cal).reduce((a, l) => a + l.rows.byteLength, forest.rows.byteLength);
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

/** The sweep's score: the strongest of the detectors and the forest, each calibrated to fire at 0.5. */
export function combine(f: readonly number[], win: FeatureWindow, p: number, m: TrainedModel): ScoreParts {
  const detectors = detectorScores(f, m.calibration);
  let score = 0;
  for (const n of DETECTOR_NAMES) score = Math.max(score, detectors[n]);
  const raw = forestRaw(win, p, m);
  const forest = levelScore(raw, m.forestLevel);
  return { score: Math.max(score, forest), detectors, forest, forestRaw: raw };
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
  dueTs: number;
  tuning: Tuning;
  /** rows before this time are not used for calibration (the network's first days, when every device is new) */
  calibrateFromTs: number;
  opts: Pick<AnomalyOptions, 'treesPerForest' | 'sampleSize' | 'seed' | 'intervalSeconds' | 'falseAlarmsPerWeek'>;
}

/**
 * Trains the slots whose forest is due, re-scores the window with the forests, and calibrates every
 * detector and the forest on the window's daily maxima with its share of the false-alarm budget.
 * Calls `pause` between slices of work (yields to the event loop). Null when a slot's window is too
 * small for a forest.
 */
export async function trainModel(input: TrainInput, pause: () => Promise<void>): Promise<{ model: TrainedModel; forestsTrained: number } | null> {
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
  await pause();
  // the budget is shared by the detectors and the forest
  const shares = DETECTORS.length + 1;
  const budget = opts.falseAlarmsPerWeek;
  // the first days of a network are left out when at least three days remain
  let calFrom = win.firstAfter(input.calibrateFromTs - 1e-9);
  if (calFrom < from || (to - calFrom) * opts.intervalSeconds < 3 * 86400) calFrom = from;
  const forestDaily = dailyMaxima(raw.subarray(calFrom - from), 1, win.ts.subarray(calFrom, to), 0, to - calFrom)[0];
  const forestLevel: Level = { ...calibrateLevel(forestDaily, FOREST_LEVEL, dailyShare(budget, shares)), rows: rankSample(raw, 1, 0, calFrom - from, to - from) };
  await pause();
  const calibration = calibrateDetectors(win.det, win.ts, calFrom, to, budget, shares, input.tuning);
  return {
    model: { ...model, calibration, forestLevel, threshold: THRESHOLD, trainedTs: input.dueTs, samples: n, bytes: modelBytes(model.forest) + rankBytes(calibration, forestLevel) },
    forestsTrained,
  };
}
