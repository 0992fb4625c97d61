/**
 * AnomalyEngine: feature state + calibrated detectors + isolation forest, for ONE interface.
 *
 *  - observe(sweep): features from past sweeps only, then score with the current model. Cheap and
 *    synchronous; never trains.
 *  - retrainIfDue(): once warm, a retrain is due every `retrainEverySweeps` sweeps. The forest is a set of
 *    small forests ("slots"); each due point retrains ONE slot, in turn, on the sliding window ending at
 *    that due point, so a retrain costs one small forest plus re-scoring the window with it (each row
 *    keeps the terms of the slots that scored it). The detectors' and the forest's levels are
 *    recalibrated every time.
 *    The first training after start trains every slot at the due point it belongs to, so the model
 *    depends only on the sweep history, not on when the process started. Yields to the event loop
 *    between slots and between chunks of scoring.
 *  - restore(history) rebuilds the feature state and window from stored sweeps; snapshot() /
 *    restoreSnapshot() save and load that state directly (no replay), so a restart costs one training.
 */
import { performance } from 'node:perf_hooks';
import type { AnomalyOptions, AnomalyResult, Contribution, DeviceContribution, EngineStatus, KnownDevice, SweepRecord, Tuning } from './types.js';
import { FEATURE_INDEX, FEATURE_NAMES, FOREST_FEATURES, featureRecord, type FeatureName } from './feature-names.js';
import { FeatureState, type InvolvedGroup } from './features.js';
import { DETECTORS, DETECTOR_NAMES } from './detectors.js';
import { DEFAULT_TUNING } from './tuning.js';
import { featureAttribution } from './forest.js';
import { combine, trainModel, type ScoreParts, type TrainedModel } from './model.js';
import type { EngineSnapshot } from './snapshot-codec.js';
import { FeatureWindow } from './window.js';

export const DEFAULT_OPTIONS: AnomalyOptions = {
  intervalSeconds: 300,
  warmupSweeps: 288,
  windowSeconds: 28 * 86400,
  retrainEverySweeps: 12,
  falseAlarmsPerWeek: 1,
  seed: 1,
};

const SNAPSHOT_VERSION = 2;
/** The first days of a network's history, when every device is new, are not used to calibrate the detectors. */
const DISCOVERY_SECONDS = 3 * 86_400;
/** Devices named in a result (and exported per interface): at most this many. */
export const MAX_DEVICES = 5;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class AnomalyEngine {
  private opts: AnomalyOptions & { tzOffsetMinutes: number };
  private state: FeatureState;
  private known: KnownDevice[];
  private win: FeatureWindow;
  private model: TrainedModel | null = null;
  private due: { ts: number; index: number } | null = null;
  private sweepsSeen = 0;
  /** due points: index (0 = end of warm-up) and ts, the last 2 * slots of them */
  private dues: [number, number][] = [];
  private firstDueTs: number | null = null;
  /** the last scored sweep was at or above the threshold (the minimum-evidence rule) */
  private prevAbove = false;
  private training: Promise<boolean> | null = null;
  private lastTs = -Infinity;
  /** Cost of the last retrain: small forests trained, CPU time of its synchronous slices and the longest slice (ms). */
  lastTrainCost: { forestsTrained: number; cpuMs: number; longestSliceMs: number } | null = null;

  constructor(known: KnownDevice[], opts: Partial<AnomalyOptions> = {}) {
    const clean = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as Partial<AnomalyOptions>;
    this.opts = {
      ...DEFAULT_OPTIONS,
      tzOffsetMinutes: -new Date().getTimezoneOffset(),
      ...clean,
    } as AnomalyOptions & { tzOffsetMinutes: number };
    if (!(this.opts.warmupSweeps >= 1)) this.opts.warmupSweeps = 1;
    if (!(this.opts.retrainEverySweeps >= 1)) this.opts.retrainEverySweeps = 1;
    if (!(this.opts.intervalSeconds > 0)) this.opts.intervalSeconds = DEFAULT_OPTIONS.intervalSeconds;
    this.known = known;
    this.state = this.newState();
    this.win = new FeatureWindow(this.slots);
  }

  private newState(): FeatureState {
    return new FeatureState(this.stateOptions(), this.known);
  }

  private stateOptions() {
    return { windowSeconds: this.opts.windowSeconds, gatewayIp: this.opts.gatewayIp, tzOffsetMinutes: this.opts.tzOffsetMinutes, intervalSeconds: this.opts.intervalSeconds, quietSteepness: this.tuning.quietSteepness };
  }

  /** The tuned settings in use (DEFAULT_TUNING unless the options override some). */
  get tuning(): Tuning {
    return { ...DEFAULT_TUNING, ...this.opts.tuning };
  }

  private get slots(): number {
    return Math.max(1, this.opts.forests ?? 6);
  }

  /** Time of the newest sweep folded into the state (-Infinity before the first). */
  get lastSweepTsSeconds(): number {
    return this.lastTs;
  }

  get options(): Readonly<AnomalyOptions> {
    return this.opts;
  }

  setKnown(known: KnownDevice[]): void {
    this.known = known;
    this.state.setKnown(known);
  }

  /**
   * Due ts of the forest each slot should hold at due point `index`: slot k is retrained at the due
   * points whose index is k modulo the slot count; until its first turn it keeps the forest of the
   * first training (due point 0).
   */
  private slotTargets(index: number): number[] {
    const n = this.slots;
    const out = new Array<number>(n).fill(this.firstDueTs ?? NaN);
    for (const [i, ts] of this.dues) if (i >= 1 && i > index - n && i <= index) out[i % n] = ts;
    return out;
  }

  /** Fold one sweep into the state and window; returns its features and window row. */
  private ingest(sweep: SweepRecord): { f: number[]; p: number } {
    const f = this.state.step(sweep);
    const p = this.win.push(sweep.tsSeconds, f);
    this.sweepsSeen++;
    this.lastTs = sweep.tsSeconds;
    const w = this.opts.warmupSweeps;
    if (this.sweepsSeen >= w && (this.sweepsSeen - w) % this.opts.retrainEverySweeps === 0) {
      const index = (this.sweepsSeen - w) / this.opts.retrainEverySweeps;
      if (index === 0) this.firstDueTs = sweep.tsSeconds;
      this.dues.push([index, sweep.tsSeconds]);
      if (this.dues.length > 2 * this.slots) this.dues.shift();
      this.due = { ts: sweep.tsSeconds, index };
    }
    this.dropOldRows(); // only advances the window's start: p stays valid
    return { f, p };
  }

  /** Keep the rows of every window a slot may still be trained on (the oldest slot's due point is the limit). */
  private dropOldRows(): void {
    let oldestNeeded = this.lastTs;
    if (this.dues.length > 0) {
      const index = this.dues[this.dues.length - 1][0];
      for (const t of this.slotTargets(index)) if (t < oldestNeeded) oldestNeeded = t;
    }
    const from = oldestNeeded - this.opts.windowSeconds;
    this.win.dropThrough(from);
  }

  private reset(): void {
    this.state = this.newState();
    this.win = new FeatureWindow(this.slots);
    this.model = null;
    this.due = null;
    this.dues = [];
    this.firstDueTs = null;
    this.sweepsSeen = 0;
    this.lastTs = -Infinity;
    this.prevAbove = false;
  }

  restore(history: SweepRecord[]): void {
    this.reset();
    for (const s of this.newerThanState(history)) this.ingest(s);
  }

  /**
   * Same as restore(), but yields to the event loop every `chunk` sweeps: a large history (weeks of
   * sweeps on a busy network) then never blocks the loop at start. Sweeps observed meanwhile must wait.
   */
  async restoreAsync(history: SweepRecord[], chunk = 250): Promise<number> {
    this.reset();
    return this.catchUp(history, chunk);
  }

  /** Fold in stored sweeps newer than the state (after restoreSnapshot), without scoring them; returns how many. */
  async catchUp(history: SweepRecord[], chunk = 250): Promise<number> {
    const newer = this.newerThanState(history);
    for (let i = 0; i < newer.length; i++) {
      this.ingest(newer[i]);
      if (i % chunk === chunk - 1) await yieldToLoop();
    }
    return newer.length;
  }

  private newerThanState(history: SweepRecord[]): SweepRecord[] {
    return history.filter((s) => s.tsSeconds > this.lastTs).sort((a, b) => a.tsSeconds - b.tsSeconds);
  }

  /** The feature state and window (not the model: the next retrainIfDue() trains it from these). */
  snapshot(): EngineSnapshot {
    const w = this.win;
    return {
      version: SNAPSHOT_VERSION,
      features: FEATURE_NAMES.join(','),
      windowSeconds: this.opts.windowSeconds,
      intervalSeconds: this.opts.intervalSeconds,
      tzOffsetMinutes: this.opts.tzOffsetMinutes,
      gatewayIp: this.opts.gatewayIp ?? null,
      warmupSweeps: this.opts.warmupSweeps,
      retrainEverySweeps: this.opts.retrainEverySweeps,
      forest: this.forestFingerprint(),
      tuning: this.tuningFingerprint(),
      sweepsSeen: this.sweepsSeen,
      lastTs: this.lastTs,
      dues: this.dues.map(([i, t]) => [i, t]),
      firstDueTs: this.firstDueTs,
      above: this.prevAbove,
      state: this.state.snapshot(),
      rowTs: Array.from(w.ts.subarray(w.start, w.end())),
      rows: w.f.slice(w.start * FeatureWindow.featureWidth, w.end() * FeatureWindow.featureWidth),
      terms: w.term.slice(w.start * w.slots, w.end() * w.slots),
      termDue: w.termDue.slice(w.start * w.slots, w.end() * w.slots),
    };
  }

  private forestFingerprint(): string {
    const o = this.opts;
    return `seed ${o.seed ?? 1}, ${this.slots} forests of ${o.treesPerForest ?? 10} trees, samples of ${o.sampleSize ?? 256}`;
  }

  /** The tuning the feature state depends on (a snapshot taken under another is not used). */
  private tuningFingerprint(): string {
    return `quiet steepness ${this.tuning.quietSteepness}`;
  }

  /**
   * Why `snap` cannot be used by this engine (built with other options or another feature set), or
   * null when it can. A snapshot that cannot be used is ignored and history is replayed instead.
   */
  snapshotMismatch(snap: EngineSnapshot): string | null {
    if (snap.version !== SNAPSHOT_VERSION) return `snapshot format ${snap.version}, expected ${SNAPSHOT_VERSION}`;
    if (snap.features !== FEATURE_NAMES.join(',')) return 'snapshot has another feature set';
    const o = this.opts;
    const same: [string, unknown, unknown][] = [
      ['window', snap.windowSeconds, o.windowSeconds],
      ['sweep interval', snap.intervalSeconds ?? 300, o.intervalSeconds],
      ['time zone offset', snap.tzOffsetMinutes, o.tzOffsetMinutes],
      ['gateway', snap.gatewayIp, o.gatewayIp ?? null],
      ['warm-up', snap.warmupSweeps, o.warmupSweeps],
      ['retrain interval', snap.retrainEverySweeps, o.retrainEverySweeps],
      ['forest', snap.forest, this.forestFingerprint()],
      ['tuning', snap.tuning, this.tuningFingerprint()],
    ];
    for (const [what, a, b] of same) if (a !== b) return `snapshot ${what} ${String(a)} differs from ${String(b)}`;
    const n = snap.rowTs.length;
    if (snap.rows.length !== n * FEATURE_NAMES.length || snap.terms.length !== n * this.slots || snap.termDue.length !== n * this.slots)
      return 'snapshot rows are truncated';
    return null;
  }

  /** Resume from a snapshot (see snapshotMismatch); sweeps after snap.lastTs are then observed as usual. */
  restoreSnapshot(snap: EngineSnapshot): void {
    const why = this.snapshotMismatch(snap);
    if (why) throw new Error(why);
    this.reset();
    this.state = FeatureState.fromSnapshot(this.stateOptions(), this.known, snap.state);
    this.win.load(snap.rowTs, snap.rows, { term: snap.terms, termDue: snap.termDue });
    this.sweepsSeen = snap.sweepsSeen;
    this.lastTs = snap.lastTs;
    this.dues = snap.dues.map(([i, t]) => [i, t]);
    this.firstDueTs = snap.firstDueTs;
    this.prevAbove = snap.above === true;
    const last = this.dues[this.dues.length - 1];
    if (last) this.due = { index: last[0], ts: last[1] };
  }

  observe(sweep: SweepRecord): AnomalyResult {
    if (sweep.tsSeconds <= this.lastTs) {
      // out-of-order or duplicate sweep: score it against the current state without folding it in twice
      return this.result(sweep.tsSeconds, null);
    }
    return this.result(sweep.tsSeconds, this.ingest(sweep));
  }

  private result(ts: number, row: { f: number[]; p: number } | null): AnomalyResult {
    const m = this.model;
    const features = row ? featureRecord(row.f) : {};
    if (!m || !row) {
      return { tsSeconds: ts, state: m ? 'ready' : 'training', score: null, threshold: m?.threshold ?? null, anomalous: false, detectors: {}, contributions: [], devices: [], features, forestScore: null };
    }
    const parts = combine(row.f, this.win, row.p, m);
    const detectors: Record<string, number> = {};
    for (const n of DETECTOR_NAMES) detectors[n] = round(parts.detectors[n]);
    // minimum evidence: two sweeps in a row at or above the threshold (one odd sweep does not page)
    const above = parts.score >= m.threshold;
    const anomalous = above && this.prevAbove;
    this.prevAbove = above;
    return {
      tsSeconds: ts,
      state: 'ready',
      score: round(parts.score),
      threshold: round(m.threshold),
      anomalous,
      detectors,
      contributions: this.explain(row, parts, m),
      devices: this.devicesOf(parts, m),
      features,
      forestScore: round(parts.forest),
    };
  }

  /** The devices behind the detectors that fire, strongest first (a device's weight in its evidence times the detector's score). */
  private devicesOf(parts: ScoreParts, m: TrainedModel): DeviceContribution[] {
    const firing = new Map<InvolvedGroup, { detector: string; score: number }>();
    for (const d of DETECTORS) {
      const score = parts.detectors[d.name];
      if (!d.devices || score < m.threshold) continue;
      const cur = firing.get(d.devices);
      if (!cur || score > cur.score) firing.set(d.devices, { detector: d.name, score });
    }
    if (firing.size === 0) return [];
    const byMac = new Map<string, DeviceContribution>();
    for (const inv of this.state.involved) {
      const g = firing.get(inv.group);
      if (!g) continue;
      const weight = round(Math.min(1, g.score * inv.weight));
      const cur = byMac.get(inv.mac);
      if (!cur || weight > cur.weight) byMac.set(inv.mac, { mac: inv.mac, detector: g.detector, weight, sinceTsSeconds: inv.sinceTs });
    }
    return [...byMac.values()].sort((a, b) => b.weight - a.weight || a.mac.localeCompare(b.mac)).slice(0, MAX_DEVICES);
  }

  private explain(row: { f: number[]; p: number }, parts: ScoreParts, m: TrainedModel): Contribution[] {
    const f = row.f;
    const weights = new Map<FeatureName, number>();
    const add = (n: FeatureName, w: number) => weights.set(n, Math.max(weights.get(n) ?? 0, w));
    for (const d of DETECTORS) {
      const s = parts.detectors[d.name];
      d.features.forEach((n, i) => add(n, i === 0 ? s : s * 0.5));
    }
    if (parts.forest > 0.05) {
      const attr = featureAttribution(m.forest, Array.from(this.win.forestRow(row.p)));
      const top = attr.map((a, i) => ({ a, n: FOREST_FEATURES[i] })).sort((x, y) => y.a - x.a).slice(0, 3);
      for (const t of top) add(t.n, parts.forest * t.a * 2);
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
    this.training = this.train(due).finally(() => {
      this.training = null;
    });
    return this.training;
  }

  /** Physical rows [from, to) of the window ending at `dueTs`. */
  private windowRange(dueTs: number): [number, number] {
    return [this.win.firstAfter(dueTs - this.opts.windowSeconds), this.win.firstAfter(dueTs)];
  }

  private async train(due: { ts: number; index: number }): Promise<boolean> {
    // physical row indices must stay valid across the yields, whatever observe() does meanwhile
    const win = this.win;
    win.pin();
    try {
      return await this.trainPinned(win, due);
    } finally {
      win.unpin();
    }
  }

  private async trainPinned(win: FeatureWindow, due: { ts: number; index: number }): Promise<boolean> {
    const [from, to] = this.windowRange(due.ts);
    if (to - from < 2) return false;
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
    const trained = await trainModel(
      { win, from, to, targets: this.slotTargets(due.index), windowRange: (ts) => this.windowRange(ts), prev: this.model, dueTs: due.ts, tuning: this.tuning, calibrateFromTs: (this.state.firstSweepTs ?? -Infinity) + DISCOVERY_SECONDS, opts: this.opts },
      pause,
    );
    if (!trained) return false;
    if (win !== this.win) return false; // restored meanwhile: this model belongs to the old state
    const d = performance.now() - slice;
    this.lastTrainCost = { forestsTrained: trained.forestsTrained, cpuMs: cpu + d, longestSliceMs: Math.max(longest, d) };
    this.model = trained.model;
    return true;
  }

  status(): EngineStatus {
    return {
      state: this.model ? 'ready' : 'training',
      samples: this.win.end() - this.win.firstAfter(this.lastTs - this.opts.windowSeconds),
      lastTrainedTsSeconds: this.model?.trainedTs ?? null,
      threshold: this.model ? round(this.model.threshold) : null,
    };
  }

  /** Introspection for the harness and tests. */
  modelInfo(): { bytes: number; samples: number; trainedTsSeconds: number; threshold: number } | null {
    const m = this.model;
    return m ? { bytes: m.bytes, samples: m.samples, trainedTsSeconds: m.trainedTs, threshold: m.threshold } : null;
  }

  isRetrainDue(): boolean {
    return this.due !== null;
  }
}

/** Six significant digits: small scores keep their order (they rank sweeps below the threshold). */
function round(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(6));
}

export { FEATURE_NAMES, DETECTOR_NAMES };
