import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseThreshold, countEpisodes } from '../../bench/anomaly/budget-threshold.js';

const WEEK = 7 * 86400;

test('episodes merge alarms closer than the merge gap; confident incidents are not counted', () => {
  const s = [0, 0.6, 0, 0.6, 0, 0, 0, 0, 0, 0, 0.6, 0.95, 0];
  assert.equal(countEpisodes(s, 0.5, 3), 2);
  assert.equal(countEpisodes(s, 0.5, 3, 0.9), 1);
});

test('threshold keeps the training window within the false-alarm budget', () => {
  const scores = Array.from({ length: 4000 }, (_, i) => (i % 500 === 0 ? 0.5 + (i / 500) * 0.04 : 0.1));
  const o = { budgetPerWeek: 1, mergeGap: 6, floor: 0.3, ceiling: 0.9 };
  const thr = chooseThreshold(scores, 2 * WEEK, o);
  assert.ok(countEpisodes(scores, thr, 6, 0.9) <= 2);
  assert.ok(thr > 0.5 && thr < 0.9);
  assert.equal(chooseThreshold(new Array(100).fill(0.1), WEEK, o), 0.3);
});
