import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsolationForest } from 'ml-isolation-forest';
import { cFactor, EULER_GAMMA, guardRows, scoreRow, trainForestModelSync, trainSmallForest, withSeededRandom, type CompactTree } from '../../src/anomaly/forest.js';
import { mulberry32 } from '../../src/anomaly/prng.js';

const rows = (n: number, seed = 1) => {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => [r(), r(), r()]);
};

function depth(t: CompactTree, node = 0): number {
  return t.left[node] < 0 ? 0 : 1 + Math.max(depth(t, t.left[node]), depth(t, t.right[node]));
}

test('the package itself: train([]) and one row give NaN, a second train() keeps the old trees', () => {
  const f = new IsolationForest({ nEstimators: 3 });
  f.train([]);
  assert.ok(Number.isNaN(f.predict([[1]])[0]));
  const g = new IsolationForest({ nEstimators: 3 });
  g.train([[1, 2], [3, 4]]);
  g.train([[1, 2], [3, 4]]);
  assert.equal(g.forest.length, 6);
});

test('guarded input: empty, one row and non-finite cells', () => {
  assert.equal(trainSmallForest([], 5, 256, 1), null);
  assert.equal(trainSmallForest([[1, 2]], 5, 256, 1), null);
  assert.deepEqual(guardRows([[1, NaN], [Infinity, 2], [1]]), [[1, 0], [0, 2]]);
  const f = trainSmallForest([[1, NaN], [2, 3], [4, 5]], 5, 256, 1);
  assert.ok(f);
  const s = scoreRow({ forests: [f], width: 2 }, [NaN, 1]);
  assert.ok(Number.isFinite(s) && s > 0 && s < 1);
});

test('c(n) adds Euler gamma twice (paper), unlike the package', () => {
  assert.equal(cFactor(1), 0);
  assert.equal(cFactor(2), 1);
  const n = 256;
  assert.ok(Math.abs(cFactor(n) - (2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n)) < 1e-12);
});

test('each small forest samples at most 256 rows and its trees stop at ceil(log2 psi)', () => {
  const f = trainSmallForest(rows(5000), 10, 256, 3)!;
  assert.equal(f.sampleSize, 256);
  for (const t of f.trees) {
    assert.equal(t.size[0], 256);
    assert.ok(depth(t) <= 8);
  }
  assert.equal(f.trees.length, 10);
});

test('seeded: same seed gives the same model, another seed another; Math.random is restored', () => {
  const original = Math.random;
  const a = trainForestModelSync(rows(1000), { forests: 3, treesPerForest: 5, sampleSize: 128, seed: 42 })!;
  const b = trainForestModelSync(rows(1000), { forests: 3, treesPerForest: 5, sampleSize: 128, seed: 42 })!;
  const c = trainForestModelSync(rows(1000), { forests: 3, treesPerForest: 5, sampleSize: 128, seed: 43 })!;
  assert.equal(Math.random, original);
  const probe = [0.5, 0.5, 0.5];
  assert.equal(scoreRow(a, probe), scoreRow(b, probe));
  assert.notEqual(scoreRow(a, probe), scoreRow(c, probe));
  assert.throws(() => withSeededRandom(mulberry32(1), () => { throw new Error('boom'); }));
  assert.equal(Math.random, original);
});

test('a fresh instance per training: retraining does not accumulate trees', () => {
  const a = trainSmallForest(rows(300), 7, 256, 1)!;
  const b = trainSmallForest(rows(300), 7, 256, 1)!;
  assert.equal(a.trees.length, 7);
  assert.equal(b.trees.length, 7);
});

test('an outlier scores above inliers; scores are in (0, 1)', () => {
  const m = trainForestModelSync(rows(2000), { forests: 4, treesPerForest: 25, sampleSize: 256, seed: 9 })!;
  const inlier = scoreRow(m, [0.5, 0.5, 0.5]);
  const outlier = scoreRow(m, [5, -3, 8]);
  assert.ok(outlier > inlier);
  assert.ok(inlier > 0 && outlier < 1);
  assert.ok(inlier < 0.5);
});

test('splits only use columns that vary in the sample; an outlier on a varying column still isolates fast', () => {
  const r = mulberry32(3);
  // columns 0 and 2 are constant (as most event counters are on a quiet network)
  const data = Array.from({ length: 600 }, () => [0, r(), 5, r() * 10]);
  const f = trainSmallForest(data, 20, 256, 7)!;
  for (const t of f.trees) for (let node = 0; node < t.col.length; node++) if (t.left[node] >= 0) assert.ok(t.col[node] === 1 || t.col[node] === 3, `split on column ${t.col[node]}`);
  const m = { forests: [f], width: 4 };
  assert.ok(scoreRow(m, [0, 0.5, 5, 40]) > scoreRow(m, [0, 0.5, 5, 5]));
  // all columns constant: still a (useless but valid) model, not NaN
  const flat = trainSmallForest(Array.from({ length: 50 }, () => [1, 1]), 5, 256, 1)!;
  assert.ok(Number.isFinite(scoreRow({ forests: [flat], width: 2 }, [1, 1])));
});
