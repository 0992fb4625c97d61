/**
 * Thin wrapper over ml-isolation-forest@0.1.0 that designs around its defects:
 *  - every tree of the package trains on the whole input -> we give each small forest its own
 *    sample of at most `sampleSize` rows (256, as in the paper), drawn with a seeded PRNG;
 *  - a second train() on the same instance keeps the old trees -> a fresh instance per forest per retrain;
 *  - it draws from Math.random with no seed -> Math.random is swapped for a seeded generator only
 *    for the duration of the synchronous train() call and restored in `finally` (the package is not patched);
 *  - train([]) / one row give NaN -> input is guarded (non-finite cells become 0, < 2 rows = no model);
 *  - the model holds the training rows in its leaves and cannot be serialised -> we copy the tree
 *    structure into compact typed arrays (split column/value, children, subtree size) and drop the instance;
 *  - its c(n) adds Euler's gamma once instead of twice and its depth limit is one too deep -> we score
 *    from the trees' structure ourselves, with the paper's c(n) and height limit ceil(log2 psi).
 */
import { IsolationForest, type MlTreeNode } from 'ml-isolation-forest';
import { mulberry32, type Rng } from './prng.js';

export const EULER_GAMMA = 0.5772156649015329;

/** Average path length of an unsuccessful BST search among n points (Liu et al. 2008): 2H(n-1) - 2(n-1)/n. */
export function cFactor(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** Run `fn` with Math.random replaced by `rng`; always restores the original. */
export function withSeededRandom<T>(rng: Rng, fn: () => T): T {
  const original = Math.random;
  Math.random = rng;
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

export interface CompactTree {
  col: Int16Array;
  val: Float64Array;
  /** child indices; -1 marks an external node */
  left: Int32Array;
  right: Int32Array;
  /** number of training points that reached the node */
  size: Int32Array;
  /** at external nodes: depth + c(size), the path length a row ending there gets (precomputed: scoring is hot) */
  leafPath: Float64Array;
}

export interface SmallForest {
  trees: CompactTree[];
  /** psi: rows in this forest's sample */
  sampleSize: number;
  /** c(psi), the path length that normalises scores */
  normalizer: number;
}

export interface ForestModel {
  forests: SmallForest[];
  width: number;
}

export interface ForestOptions {
  forests: number;
  treesPerForest: number;
  sampleSize: number;
  seed: number;
}

/** Replace non-finite cells with 0 and drop rows of the wrong width. */
export function guardRows(rows: readonly ArrayLike<number>[]): number[][] {
  if (rows.length === 0) return [];
  const width = rows[0].length;
  const out: number[][] = [];
  for (const r of rows) {
    if (!r || r.length !== width) continue;
    const row = new Array<number>(width);
    for (let j = 0; j < width; j++) row[j] = Number.isFinite(r[j]) ? r[j] : 0;
    out.push(row);
  }
  return out;
}

function subtreeSize(node: MlTreeNode): number {
  if (!node.left || !node.right) return node.numberDataPoints();
  return subtreeSize(node.left) + subtreeSize(node.right);
}

/** Columns whose values differ within `rows` (column 0 alone when none does: the trees then isolate nothing). */
export function varyingColumns(rows: readonly number[][]): number[] {
  const out: number[] = [];
  for (let c = 0; c < rows[0].length; c++) if (rows.some((r) => r[c] !== rows[0][c])) out.push(c);
  return out.length > 0 ? out : [0];
}

/** Copy the package's tree into typed arrays, cutting it at the paper's height limit; `columns` maps its split columns back. */
export function compactTree(root: MlTreeNode, heightLimit: number, columns: readonly number[]): CompactTree {
  const col: number[] = [];
  const val: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const size: number[] = [];
  const leafPath: number[] = [];
  const visit = (node: MlTreeNode, depth: number): number => {
    const idx = col.length;
    col.push(-1);
    val.push(0);
    left.push(-1);
    right.push(-1);
    size.push(subtreeSize(node));
    leafPath.push(depth + cFactor(size[idx]));
    if (node.left && node.right && depth < heightLimit) {
      col[idx] = columns[node.splitColumn ?? 0];
      val[idx] = node.splitValue ?? 0;
      const l = visit(node.left, depth + 1);
      const r = visit(node.right, depth + 1);
      left[idx] = l;
      right[idx] = r;
    }
    return idx;
  };
  visit(root, 0);
  return {
    col: Int16Array.from(col),
    val: Float64Array.from(val),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    size: Int32Array.from(size),
    leafPath: Float64Array.from(leafPath),
  };
}

/** Draw min(k, n) distinct indices out of n (Floyd's algorithm: O(k), whatever n is). */
export function sampleIndices(rng: Rng, n: number, k: number): number[] {
  const m = Math.min(k, n);
  const chosen = new Set<number>();
  const out: number[] = [];
  for (let j = n - m; j < n; j++) {
    const t = Math.floor(rng() * (j + 1));
    const pick = chosen.has(t) ? j : t;
    chosen.add(pick);
    out.push(pick);
  }
  return out;
}

/**
 * Train one small forest on its own sample. Returns null when there are fewer than 2 usable rows.
 * A fresh IsolationForest instance is created on every call.
 */
export function trainSmallForest(rows: readonly ArrayLike<number>[], trees: number, sampleSize: number, seed: number): SmallForest | null {
  return trainSmallForestOn((i) => rows[i], rows.length, trees, sampleSize, seed);
}

/** trainSmallForest() over `count` rows given by `rowAt` (rows stored elsewhere, e.g. in flat arrays). */
export function trainSmallForestOn(rowAt: (i: number) => ArrayLike<number>, count: number, trees: number, sampleSize: number, seed: number): SmallForest | null {
  if (count < 2) return null;
  const rng = mulberry32(seed);
  // sample first, then guard only the sample: the cost does not grow with the history
  const sample = guardRows(sampleIndices(rng, count, sampleSize).map(rowAt));
  if (sample.length < 2) return null;
  // The package draws split columns among all columns, constant ones included: such a split isolates
  // nothing and only deepens the tree (sklearn skips constant features). Train on the columns that vary
  // in this sample and map the splits back.
  const varying = varyingColumns(sample);
  const projected = sample.map((r) => varying.map((c) => r[c]));
  const heightLimit = Math.ceil(Math.log2(sample.length));
  const instance = new IsolationForest({ nEstimators: trees });
  withSeededRandom(rng, () => instance.train(projected));
  return {
    trees: instance.forest.slice(0, trees).map((t) => compactTree(t, heightLimit, varying)),
    sampleSize: sample.length,
    normalizer: cFactor(sample.length),
  };
}

/** Path length of the row stored at data[offset ...]. */
export function pathLength(tree: CompactTree, data: ArrayLike<number>, offset = 0): number {
  const { col, val, left, right } = tree;
  let node = 0;
  while (left[node] >= 0) node = data[offset + col[node]] < val[node] ? left[node] : right[node];
  return tree.leafPath[node];
}

/** One small forest's score of the paper, s = 2^(-E[h]/c(psi)), for a row of finite values. */
export function forestTerm(forest: SmallForest, data: ArrayLike<number>, offset = 0): number {
  let sum = 0;
  for (const t of forest.trees) sum += pathLength(t, data, offset);
  return 2 ** (-(sum / forest.trees.length) / forest.normalizer);
}

/** The paper's anomaly score averaged over the small forests. */
export function scoreRow(model: ForestModel, row: readonly number[]): number {
  let r = row;
  for (let i = 0; i < row.length; i++)
    if (!Number.isFinite(row[i])) {
      r = row.map((v) => (Number.isFinite(v) ? v : 0));
      break;
    }
  let total = 0;
  for (const f of model.forests) total += forestTerm(f, r);
  return model.forests.length === 0 ? 0 : total / model.forests.length;
}

/** Per-feature attribution: how much shorter the path gets because of splits on each column. */
export function featureAttribution(model: ForestModel, row: readonly number[]): number[] {
  const w = new Array<number>(model.width).fill(0);
  for (const f of model.forests) {
    for (const t of f.trees) {
      let node = 0;
      while (t.left[node] >= 0) {
        const c = t.col[node];
        const next = row[c] < t.val[node] ? t.left[node] : t.right[node];
        // credit the column with the fraction of points it separated from this row
        const before = t.size[node];
        const after = t.size[next];
        if (before > 0) w[c] += (before - after) / before;
        node = next;
      }
    }
  }
  const s = w.reduce((a, b) => a + b, 0) || 1;
  return w.map((x) => x / s);
}

export function modelBytes(model: ForestModel): number {
  let b = 0;
  for (const f of model.forests)
    for (const t of f.trees) b += t.col.byteLength + t.val.byteLength + t.left.byteLength + t.right.byteLength + t.size.byteLength + t.leafPath.byteLength;
  return b;
}

/** Seed of the i-th small forest of a training seeded with `seed`. */
export function forestSeed(seed: number, i: number): number {
  return (seed + i * 0x9e3779b1) >>> 0;
}

/** Train `forests` small forests, each on its own sample (tests, small inputs). */
export function trainForestModelSync(rows: readonly ArrayLike<number>[], opts: ForestOptions): ForestModel | null {
  const forests: SmallForest[] = [];
  for (let i = 0; i < opts.forests; i++) {
    const f = trainSmallForest(rows, opts.treesPerForest, opts.sampleSize, forestSeed(opts.seed, i));
    if (!f) return null;
    forests.push(f);
  }
  return { forests, width: rows[0]?.length ?? 0 };
}
