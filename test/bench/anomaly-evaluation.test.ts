// The evaluation harness's scoring metrics (bench/anomaly/evaluation.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePrecision, episodes, rocAuc } from '../../bench/anomaly/evaluation.js';

test('episodes merge alarms closer than the merge gap', () => {
  const s = [0, 0.6, 0, 0.6, 0, 0, 0, 0, 0, 0, 0.6, 0.95, 0];
  assert.deepEqual(episodes(s.map((x) => x >= 0.5), 3), [{ from: 1, to: 3 }, { from: 10, to: 11 }]);
});

test('ROC AUC and average precision', () => {
  assert.equal(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.equal(rocAuc([0.5, 0.5], [0, 1]), 0.5);
  assert.equal(rocAuc([0.9, 0.1, 0.5], [0, 1, -1]), 0);
  assert.equal(averagePrecision([0.9, 0.8, 0.1], [1, 0, 1]), (1 + 2 / 3) / 2);
});
