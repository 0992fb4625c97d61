import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureWindow, FOREST_COLUMNS } from '../../src/anomaly/window.js';
import { DETECTORS } from '../../src/anomaly/detectors.js';
import { FEATURE_NAMES } from '../../src/anomaly/feature-names.js';

const W = FEATURE_NAMES.length;
const row = (k: number) => Array.from({ length: W }, (_, j) => k * 100 + j);
const tsOf = (w: FeatureWindow) => Array.from(w.ts.subarray(w.start, w.end()));
const featuresOf = (w: FeatureWindow) => Array.from({ length: w.length }, (_, i) => w.features(w.start + i)[0]);

test('rows keep their features, forest columns and detector inputs through drops, compaction and growth', () => {
  const w = new FeatureWindow(6);
  for (let k = 0; k < 5000; k++) {
    w.push(1000 + k, row(k));
    if (k % 7 === 0) w.dropThrough(1000 + k - 1500); // keep ~1500 rows: forces compaction many times
  }
  const ts = tsOf(w);
  assert.equal(ts[0] > 1000 + 5000 - 1600, true);
  assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
  assert.deepEqual(featuresOf(w), ts.map((t) => (t - 1000) * 100));
  const p = w.end() - 1;
  const f = row(4999);
  assert.deepEqual(Array.from(w.forestRow(p)), FOREST_COLUMNS.map((c) => f[c]));
  assert.deepEqual(Array.from(w.det.subarray(p * DETECTORS.length, (p + 1) * DETECTORS.length)), DETECTORS.map((d) => d.input(f)));
  assert.ok(Number.isNaN(w.termDue[p * 6]), 'no forest term cached for a new row');
});

test('non-finite features reach the forest as 0', () => {
  const w = new FeatureWindow(1);
  const f = row(1);
  f[FOREST_COLUMNS[0]] = NaN;
  f[FOREST_COLUMNS[1]] = Infinity;
  const p = w.push(1, f);
  assert.deepEqual(Array.from(w.forestRow(p)).slice(0, 2), [0, 0]);
});

test('firstAfter and dropThrough work on time stamps', () => {
  const w = new FeatureWindow(1);
  for (const t of [10, 20, 30, 40]) w.push(t, row(t));
  assert.equal(w.firstAfter(5), w.start);
  assert.equal(w.firstAfter(20), w.start + 2);
  assert.equal(w.firstAfter(99), w.end());
  w.dropThrough(20);
  assert.deepEqual(tsOf(w), [30, 40]);
});

test('while pinned, rows keep their physical index and drops wait for unpin', () => {
  const w = new FeatureWindow(2);
  for (let k = 0; k < 3000; k++) w.push(k, row(k));
  w.dropThrough(1999);
  w.pin();
  const p = w.firstAfter(2500);
  for (let k = 3000; k < 9000; k++) {
    w.push(k, row(k)); // grows while pinned
    w.dropThrough(k - 100);
  }
  assert.equal(w.ts[p], 2501, 'the pinned index still points at the same row');
  assert.equal(w.features(p)[0], 250100);
  assert.equal(tsOf(w)[0], 2000, 'nothing dropped while pinned');
  w.unpin();
  assert.deepEqual(tsOf(w), Array.from({ length: 100 }, (_, i) => 8900 + i));
});

test('load() replaces the rows with stored ones', () => {
  const w = new FeatureWindow(3);
  w.push(1, row(1));
  const stored = new Float64Array(3 * W);
  [row(7), row(8), row(9)].forEach((r, i) => stored.set(r, i * W));
  w.load([70, 80, 90], stored);
  assert.deepEqual(tsOf(w), [70, 80, 90]);
  assert.deepEqual(featuresOf(w), [700, 800, 900]);
  w.push(100, row(10));
  assert.deepEqual(featuresOf(w), [700, 800, 900, 1000]);
});
