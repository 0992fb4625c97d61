/**
 * The sliding window of per-sweep rows, stored column-wise in a few flat typed arrays (no object per
 * row): weeks of rows cost a handful of allocations, restoring a saved window is one copy, and scoring
 * walks contiguous memory. Besides the features, each row keeps what retraining would otherwise
 * recompute: its forest columns, its detector inputs and the per-slot forest terms already computed
 * for it.
 *
 * Logical row i (0 = oldest kept) lives at physical index start + i; dropping old rows advances
 * `start` and compacts once the dead prefix outgrows the live part. While pinned (a retrain holds
 * physical indices across its yields), rows are neither moved nor dropped: drops wait for unpin().
 */
import { DETECTORS } from './detectors.js';
import { FEATURE_INDEX, FEATURE_NAMES, FOREST_FEATURES } from './feature-names.js';

export const FOREST_COLUMNS = FOREST_FEATURES.map((n) => FEATURE_INDEX[n]);
const W = FEATURE_NAMES.length;
const X = FOREST_COLUMNS.length;
const D = DETECTORS.length;

export class FeatureWindow {
  static readonly featureWidth = W;
  static readonly forestWidth = X;
  static readonly detectorWidth = D;
  /** number of live rows */
  length = 0;
  /** physical index of logical row 0 */
  start = 0;
  private cap = 0;
  ts = new Float64Array(0);
  f = new Float64Array(0);
  /** forest columns, finite (FeatureWindow.forestWidth per row) */
  x = new Float64Array(0);
  /** each detector's input, DETECTORS[j].input of the row (FeatureWindow.detectorWidth per row) */
  det = new Float64Array(0);
  /** per slot: the slot forest's term for the row, valid while termDue equals the slot's due ts */
  term = new Float64Array(0);
  termDue = new Float64Array(0);

  private readonly scratch = new Array<number>(W).fill(0);
  private pins = 0;
  private pendingDrop = -Infinity;

  constructor(readonly slots: number) {}

  pin(): void {
    this.pins++;
  }

  unpin(): void {
    if (--this.pins === 0 && this.pendingDrop > -Infinity) {
      const t = this.pendingDrop;
      this.pendingDrop = -Infinity;
      this.dropThrough(t);
    }
  }

  /** Append a row; returns its physical index. */
  push(ts: number, f: ArrayLike<number>): number {
    if (this.start + this.length === this.cap) this.makeRoom();
    const p = this.start + this.length++;
    this.ts[p] = ts;
    this.f.set(f, p * W);
    this.derive(p);
    return p;
  }

  /** Replace the rows with stored ones (ts ascending, W features per row), with their cached forest terms if given. */
  load(ts: ArrayLike<number>, features: Float64Array, cached?: { term: Float64Array; termDue: Float64Array }): void {
    this.start = 0;
    this.length = 0;
    this.resize(ts.length + 1024);
    this.ts.set(ts);
    this.f.set(features.subarray(0, ts.length * W));
    this.length = ts.length;
    for (let p = 0; p < ts.length; p++) this.derive(p);
    if (cached) {
      this.term.set(cached.term.subarray(0, ts.length * this.slots));
      this.termDue.set(cached.termDue.subarray(0, ts.length * this.slots));
    }
  }

  private derive(p: number): void {
    const f = this.f;
    const fo = p * W;
    for (let j = 0; j < X; j++) {
      const v = f[fo + FOREST_COLUMNS[j]];
      this.x[p * X + j] = Number.isFinite(v) ? v : 0;
    }
    const row = this.scratch;
    for (let j = 0; j < W; j++) row[j] = f[fo + j];
    for (let j = 0; j < D; j++) this.det[p * D + j] = DETECTORS[j].input(row);
    this.termDue.fill(NaN, p * this.slots, (p + 1) * this.slots);
  }

  /** Physical index of the first live row with ts > t (end() when none). */
  firstAfter(t: number): number {
    let lo = this.start;
    let hi = this.start + this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  end(): number {
    return this.start + this.length;
  }

  /** Drop the rows with ts <= t. */
  dropThrough(t: number): void {
    if (this.pins > 0) {
      this.pendingDrop = Math.max(this.pendingDrop, t);
      return;
    }
    const p = this.firstAfter(t);
    this.length -= p - this.start;
    this.start = p;
  }

  features(p: number): number[] {
    return Array.from(this.f.subarray(p * W, (p + 1) * W));
  }

  forestRow(p: number): Float64Array {
    return this.x.subarray(p * X, (p + 1) * X);
  }

  /** Compact (the dead prefix is at least as large as the live rows) or grow. */
  private makeRoom(): void {
    if (this.pins > 0) this.moveTo(this.cap * 2, true); // grow in place: every row keeps its physical index
    else if (this.start >= this.length && this.start > 0) this.moveTo(this.cap, false);
    else this.moveTo(Math.max(1024, this.cap * 2), false);
  }

  /** Into arrays of `cap` rows: the live rows moved to index 0, or every row kept where it is. */
  private moveTo(cap: number, keepPositions: boolean): void {
    const from = keepPositions ? 0 : this.start;
    const n = keepPositions ? this.start + this.length : this.length;
    const old = { ts: this.ts, f: this.f, x: this.x, det: this.det, term: this.term, termDue: this.termDue };
    if (cap !== this.cap) this.resize(cap);
    const S = this.slots;
    this.ts.set(old.ts.subarray(from, from + n));
    this.f.set(old.f.subarray(from * W, (from + n) * W));
    this.x.set(old.x.subarray(from * X, (from + n) * X));
    this.det.set(old.det.subarray(from * D, (from + n) * D));
    this.term.set(old.term.subarray(from * S, (from + n) * S));
    this.termDue.set(old.termDue.subarray(from * S, (from + n) * S));
    if (!keepPositions) this.start = 0;
  }

  private resize(cap: number): void {
    const S = this.slots;
    this.cap = cap;
    this.ts = new Float64Array(cap);
    this.f = new Float64Array(cap * W);
    this.x = new Float64Array(cap * X);
    this.det = new Float64Array(cap * D);
    this.term = new Float64Array(cap * S);
    this.termDue = new Float64Array(cap * S).fill(NaN);
  }
}
