/**
 * AnomalyEngine: feature state + detectors + isolation forest + threshold, for ONE interface.
 *
 *  - observe(sweep): features from past sweeps only, then score with the current model. Cheap and
 *    synchronous; never trains.
 *  - retrainIfDue(): once warm, a retrain is due every `retrainEverySweeps` sweeps. It trains on the
 *    feature rows of the sliding window ending at the sweep where it became due (so the result does not
 *    depend on when the caller gets round to it), yielding to the event loop between small forests and
 *    between chunks of scoring.
 *  - restore(history): rebuilds the feature state and window from stored sweeps; the next
 *    retrainIfDue() then trains exactly the model a live engine would have had.
 */
import { performance } from 'node:perf_hooks';
import type { AnomalyOptions, AnomalyResult, Contribution, EngineStatus, KnownDevice, SweepRecord } from './types.js';
import { FEATURE_INDEX, FEATURE_NAMES, FOREST_FEATURES, FeatureState, featureRecord, type FeatureName } from './features.js';
import { DETECTORS, DETECTOR_NAMES, detectorScores, learnBaselines, quantile, sigmoid, type Baselines } from './detectors.js';
import { featureAttribution, modelBytes, scoreRow, trainForestModel, type ForestModel } from './forest.js';
import { chooseThreshold, DEFAULT_THRESHOLD_OPTIONS } from './threshold.js';
import { mixSeed } from './prng.js';

export const DEFAULT_OPTIONS: AnomalyOptions = {
  warmupSweeps: 288,
  windowSeconds: 28 * 86400,
  retrainEverySweeps: 12,
  falseAlarmsPerWeek: 1,
  seed: 1,
};

/** Weight of the isolation-forest part in the combined score. */
const FOREST_WEIGHT = 0.7;
const FOREST_COLUMNS = FOREST_FEATURES.map((n) => FEATURE_INDEX[n]);
const SCORE_CHUNK = 250;

interface Row {
  ts: number;
  f: number[];
}

export interface TrainedModel {
  forest: ForestModel;
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

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function forestRow(f: readonly number[]): number[] {
  return FOREST_COLUMNS.map((c) => f[c]);
}

export function combine(f: readonly number[], m: Pick<TrainedModel, 'forest' | 'baselines' | 'forestCenter' | 'forestScale'>): ScoreParts {
  const detectors = detectorScores(f, m.baselines);
  let det = 0;
  for (const n of DETECTOR_NAMES) det = Math.max(det, detectors[n]);
  const forestRaw = scoreRow(m.forest, forestRow(f));
  const forest = sigmoid((forestRaw - m.forestCenter) / m.forestScale);
  const score = 1 - (1 - det) * (1 - FOREST_WEIGHT * forest);
  return { score, detectors, forest, forestRaw };
}

export class AnomalyEngine {
  private opts: AnomalyOptions & { tzOffsetMinutes: number };
  private state: FeatureState;
  private known: KnownDevice[];
  private rows: Row[] = [];
  private model: TrainedModel | null = null;
  private due: { ts: number } | null = null;
  private sweepsSeen = 0;
  private training: Promise<boolean> | null = null;
  private lastTs = -Infinity;
  /** Cost of the last retrain: CPU time of its synchronous slices and the longest slice (ms). */
  lastTrainCost: { cpuMs: number; longestSliceMs: number } | null = null;

  constructor(known: KnownDevice[], opts: Partial<AnomalyOptions> = {}) {
    const clean = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as Partial<AnomalyOptions>;
    this.opts = {
      ...DEFAULT_OPTIONS,
      tzOffsetMinutes: -new Date().getTimezoneOffset(),
      ...clean,
    } as AnomalyOptions & { tzOffsetMinutes: number };
    if (!(this.opts.warmupSweeps >= 1)) this.opts.warmupSweeps = 1;
    if (!(this.opts.retrainEverySweeps >= 1)) this.opts.retrainEverySweeps = 1;
    this.known = known;
    this.state = this.newState();
  }

  private newState(): FeatureState {
    return new FeatureState(
      { windowSeconds: this.opts.windowSeconds, gatewayIp: this.opts.gatewayIp, tzOffsetMinutes: this.opts.tzOffsetMinutes },
      this.known,
    );
  }

  get options(): Readonly<AnomalyOptions> {
    return this.opts;
  }

  setKnown(known: KnownDevice[]): void {
    this.known = known;
    this.state.setKnown(known);
  }

  /** Fold one sweep into the state and window; returns its feature vector. */
  private ingest(sweep: SweepRecord): number[] {
    const f = this.state.step(sweep);
    this.rows.push({ ts: sweep.ts, f });
    const from = sweep.ts - this.opts.windowSeconds;
    if (this.rows.length > 0 && this.rows[0].ts <= from) {
      let k = 0;
      while (k < this.rows.length && this.rows[k].ts <= from) k++;
      this.rows.splice(0, k);
    }
    this.sweepsSeen++;
    this.lastTs = sweep.ts;
    const w = this.opts.warmupSweeps;
    if (this.sweepsSeen >= w && (this.sweepsSeen - w) % this.opts.retrainEverySweeps === 0) this.due = { ts: sweep.ts };
    return f;
  }

  restore(history: SweepRecord[]): void {
    this.state = this.newState();
    this.rows = [];
    this.model = null;
    this.due = null;
    this.sweepsSeen = 0;
    this.lastTs = -Infinity;
    const sorted = [...history].sort((a, b) => a.ts - b.ts);
    for (const s of sorted) this.ingest(s);
  }

  /**
   * Same as restore(), but yields to the event loop every `chunk` sweeps: a large history (weeks of
   * sweeps on a busy network) then never blocks the loop at start. Sweeps observed meanwhile must wait.
   */
  async restoreAsync(history: SweepRecord[], chunk = 250): Promise<void> {
    this.restore([]);
    const sorted = [...history].sort((a, b) => a.ts - b.ts);
    for (let i = 0; i < sorted.length; i++) {
      this.ingest(sorted[i]);
      if (i % chunk === chunk - 1) await yieldToLoop();
    }
  }

  observe(sweep: SweepRecord): AnomalyResult {
    if (sweep.ts <= this.lastTs) {
      // out-of-order or duplicate sweep: score it against the current state without folding it in twice
      return this.result(sweep.ts, null);
    }
    const f = this.ingest(sweep);
    return this.result(sweep.ts, f);
  }

  private result(ts: number, f: number[] | null): AnomalyResult {
    const m = this.model;
    const features = f ? featureRecord(f) : {};
    if (!m || !f) {
      return { ts, state: m ? 'ready' : 'training', score: null, threshold: m?.threshold ?? null, anomalous: false, detectors: {}, contributions: [], features, forestScore: null };
    }
    const parts = combine(f, m);
    const detectors: Record<string, number> = {};
    for (const n of DETECTOR_NAMES) detectors[n] = round(parts.detectors[n]);
    return {
      ts,
      state: 'ready',
      score: round(parts.score),
      threshold: round(m.threshold),
      anomalous: parts.score >= m.threshold,
      detectors,
      contributions: this.explain(f, parts, m),
      features,
      forestScore: round(parts.forest),
    };
  }

  private explain(f: number[], parts: ScoreParts, m: TrainedModel): Contribution[] {
    const weights = new Map<FeatureName, number>();
    const add = (n: FeatureName, w: number) => weights.set(n, Math.max(weights.get(n) ?? 0, w));
    for (const d of DETECTORS) {
      const s = parts.detectors[d.name];
      d.features.forEach((n, i) => add(n, i === 0 ? s : s * 0.5));
    }
    if (parts.forest > 0.05) {
      const attr = featureAttribution(m.forest, forestRow(f));
      const top = attr.map((a, i) => ({ a, n: FOREST_FEATURES[i] })).sort((x, y) => y.a - x.a).slice(0, 3);
      for (const t of top) add(t.n, FOREST_WEIGHT * parts.forest * t.a * 2);
    }
    return [...weights.entries()]
      .filter(([, w]) => w >= 0.01)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([feature, weight]) => ({ feature, value: round(f[FEATURE_INDEX[feature]]), weight: round(Math.min(1, weight)) }));
  }

  async retrainIfDue(): Promise<boolean> {
    if (this.training) return this.training;
    if (!this.due) return false;
    const due = this.due;
    this.due = null;
    this.training = this.train(due.ts).finally(() => {
      this.training = null;
    });
    return this.training;
  }

  private async train(dueTs: number): Promise<boolean> {
    const from = dueTs - this.opts.windowSeconds;
    const rows = this.rows.filter((r) => r.ts > from && r.ts <= dueTs);
    if (rows.length < 2) return false;
    const seed = mixSeed(this.opts.seed ?? 1, dueTs);
    // CPU time of the synchronous slices (what a retrain costs the event loop), excluding the yields
    let cpu = 0;
    let slice = performance.now();
    let longest = 0;
    const pause = async () => {
      const d = performance.now() - slice;
      cpu += d;
      longest = Math.max(longest, d);
      await yieldToLoop();
      slice = performance.now();
    };
    const forestRows = rows.map((r) => forestRow(r.f));
    const forest = await trainForestModel(
      forestRows,
      {
        forests: this.opts.forests ?? 6,
        treesPerForest: this.opts.treesPerForest ?? 10,
        sampleSize: this.opts.sampleSize ?? 256,
        seed,
      },
      pause,
    );
    if (!forest) return false;
    const feats = rows.map((r) => r.f);
    const baselines = learnBaselines(feats, rows.map((r) => r.ts));
    await pause();
    const raw = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      raw[i] = scoreRow(forest, forestRows[i]);
      if (i % SCORE_CHUNK === SCORE_CHUNK - 1) await pause();
    }
    const rawArr = Array.from(raw);
    const q50 = quantile(rawArr, 0.5);
    const q999 = quantile(rawArr, 0.999);
    const forestCenter = q999;
    const forestScale = Math.max(0.005, (q999 - q50) / 3);
    const partial = { forest, baselines, forestCenter, forestScale };
    const scores = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const det = detectorScores(rows[i].f, baselines);
      let d = 0;
      for (const n of DETECTOR_NAMES) d = Math.max(d, det[n]);
      scores[i] = 1 - (1 - d) * (1 - FOREST_WEIGHT * sigmoid((raw[i] - forestCenter) / forestScale));
      if (i % (SCORE_CHUNK * 4) === SCORE_CHUNK * 4 - 1) await pause();
    }
    const span = rows[rows.length - 1].ts - rows[0].ts + 300;
    const threshold = chooseThreshold(scores, span, { ...DEFAULT_THRESHOLD_OPTIONS, budgetPerWeek: this.opts.falseAlarmsPerWeek });
    const d = performance.now() - slice;
    this.lastTrainCost = { cpuMs: cpu + d, longestSliceMs: Math.max(longest, d) };
    this.model = { ...partial, threshold, trainedTs: dueTs, samples: rows.length, bytes: modelBytes(forest) };
    return true;
  }

  status(): EngineStatus {
    return {
      state: this.model ? 'ready' : 'training',
      samples: this.rows.length,
      lastTrainedTs: this.model?.trainedTs ?? null,
      threshold: this.model ? round(this.model.threshold) : null,
    };
  }

  /** Introspection for the harness and tests. */
  modelInfo(): { bytes: number; samples: number; trainedTs: number; threshold: number } | null {
    const m = this.model;
    return m ? { bytes: m.bytes, samples: m.samples, trainedTs: m.trainedTs, threshold: m.threshold } : null;
  }

  isRetrainDue(): boolean {
    return this.due !== null;
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export { FEATURE_NAMES, DETECTOR_NAMES };
