// The detectors' calibration: Gumbel levels from daily maxima, the false-alarm budget they stand for,
// and the conformal ranking below the level (src/anomaly/detectors.ts, src/anomaly/gumbel.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrateDetectors, calibrateLevel, dailyMaxima, dailyShare, DETECTORS, levelScore, rankSample } from '../../src/anomaly/detectors.js';
import { gumbelFit, gumbelFromQuartiles, gumbelLevel } from '../../src/anomaly/gumbel.js';
import { quantileOfSorted } from '../../src/anomaly/quantile.js';
import { mulberry32 } from '../../src/anomaly/prng.js';
import { DEFAULT_TUNING } from '../../src/anomaly/tuning.js';

/** Daily maxima drawn from a Gumbel law (inverse CDF), seeded. */
function gumbelDays(n: number, mu: number, beta: number, seed: number): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => mu - beta * Math.log(-Math.log(Math.max(1e-12, rng()))));
}

const ADAPTIVE = { floor: 0, margin: 0, scale: 0.1, adaptive: true };

test('a Gumbel law fitted through its quartiles is the law itself; its levels are its quantiles', () => {
  const g = { mu: 3, beta: 2 };
  const q = (p: number) => g.mu - g.beta * Math.log(-Math.log(p));
  const fit = gumbelFromQuartiles(q(0.5), q(0.75), 0);
  assert.ok(Math.abs(fit.mu - 3) < 1e-9 && Math.abs(fit.beta - 2) < 1e-9);
  assert.ok(Math.abs(gumbelLevel(g, 0.01) - q(0.99)) < 1e-9);
  assert.equal(gumbelFromQuartiles(1, 1, 0.5).beta, 0.5, 'a least beta for inputs whose quartiles coincide');
});

test('the robust fit recovers a Gumbel law from many days and ignores a fifth of them being incidents', () => {
  const days = Float64Array.from(gumbelDays(20_000, 2, 0.5, 3)).sort();
  const fit = gumbelFit(days, quantileOfSorted(days, 0.5), 0);
  assert.ok(Math.abs(fit.beta - 0.5) < 0.02 && Math.abs(fit.mu - 2) < 0.03, JSON.stringify(fit));
  const clean = Float64Array.from(gumbelDays(20, 2, 0.5, 4)).sort();
  const withIncidents = Float64Array.from([...clean.slice(0, 16), 60, 80, 90, 120]).sort();
  const a = gumbelFit(clean, quantileOfSorted(clean, 0.5), 0);
  const b = gumbelFit(withIncidents, quantileOfSorted(withIncidents, 0.5), 0);
  assert.ok(b.beta < 2 * a.beta, `${b.beta} vs ${a.beta}: incidents must not blow the fit up`);
});

test('the level keeps its false-alarm budget on fresh days of the same network, on average', () => {
  // a detector whose daily maxima are Gumbel(2, 0.5): calibrated on 11, 14 or 28 days (the window less
  // its first days), then judged on the true law; averaged over many networks the rate is the budget
  const truth = (level: number) => 1 - Math.exp(-Math.exp(-(level - 2) / 0.5));
  for (const days of [11, 14, 28]) {
    for (const [budget, shares] of [[1, 10], [0.5, 10], [3, 10]]) {
      const p = dailyShare(budget, shares);
      let sum = 0;
      const networks = 2000;
      for (let k = 0; k < networks; k++) sum += truth(calibrateLevel(gumbelDays(days, 2, 0.5, 1000 * days + k), ADAPTIVE, p).level);
      const ratio = sum / networks / p;
      assert.ok(ratio > 0.4 && ratio < 1.5, `${days} days, budget ${budget}/week over ${shares}: exceeded ${ratio.toFixed(2)} times as often as meant`);
    }
  }
});

test('a noisy network gets a higher level than a quiet one; incidents on a few days do not raise it', () => {
  const k = dailyShare(1, 10);
  const o = { floor: 3, margin: 1.5, scale: 0.5, adaptive: true };
  const quiet = Array.from({ length: 28 }, (_, d) => (d % 3 === 0 ? 1 : 0));
  assert.equal(calibrateLevel(quiet, o, k).level, 4.5, 'floor + margin where nothing comes near the floor');
  const noisy = Array.from({ length: 28 }, (_, d) => 3 + (d % 4));
  assert.ok(calibrateLevel(noisy, o, k).level > 8);
  const incidents = quiet.map((x, d) => (d % 7 === 3 ? 40 : x)); // one incident a week: 4 of 28 days
  assert.equal(calibrateLevel(incidents, o, k).level, 4.5);
  // how far below the floor a day stays says nothing about the tail
  const deepBelow = Array.from({ length: 28 }, (_, d) => (d % 2 ? -5 : 2));
  assert.equal(calibrateLevel(deepBelow, o, k).level, 4.5);
  // a fixed detector ignores the history
  assert.deepEqual(calibrateLevel(noisy, { ...o, adaptive: false }, k), { level: 4.5, scale: 0.5 });
});

test('daily maxima per column follow the days of the rows', () => {
  const day = 86400;
  const ts = [0, 100, day, day + 5, 3 * day];
  const values = [1, 10, 5, 2, 0, 0, 7, 1, 3, 3]; // two columns per row
  assert.deepEqual(dailyMaxima(values, 2, ts, 0, 5), [[5, 7, 3], [10, 1, 3]]);
  assert.deepEqual(dailyMaxima(values, 2, ts, 2, 4), [[7], [1]]);
});

test('below its level a score ranks a value by how rare it is among the rows; at the level it is 0.5', () => {
  const rows = rankSample(Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : i < 990 ? 1 : 2)), 1, 0, 0, 1000);
  const c = { level: 3, scale: 0.5, rows };
  const s0 = levelScore(0, c);
  const s1 = levelScore(1, c);
  const s2 = levelScore(2, c);
  const s25 = levelScore(2.5, c);
  assert.ok(s0 < 0.01, `${s0}`);
  assert.ok(s0 < s1 && s1 < s2 && s2 < s25 && s25 < 0.5, [s0, s1, s2, s25].join(' '));
  assert.equal(levelScore(3, c), 0.5);
  assert.ok(levelScore(4, c) > 0.85);
  // the sample is bounded whatever the window's size
  assert.ok(rankSample(new Float64Array(40_000), 1, 0, 0, 40_000).length <= 4096);
});

test('every detector is calibrated from the window, the tuned floors replacing their own', () => {
  const D = DETECTORS.length;
  const rows = 2000;
  const inputs = new Float64Array(rows * D);
  const ts = Float64Array.from({ length: rows }, (_, i) => i * 300);
  const cal = calibrateDetectors(inputs, ts, 0, rows, 1, D + 1);
  for (const d of DETECTORS) assert.ok(cal[d.name].level >= d.floor + d.margin - 1e-9 || d.tunedFloor, d.name);
  assert.equal(cal.mass_drop.level, DEFAULT_TUNING.dropFloor + DETECTORS.find((d) => d.name === 'mass_drop')!.margin);
  const lower = calibrateDetectors(inputs, ts, 0, rows, 1, D + 1, { ...DEFAULT_TUNING, dropFloor: 1, alwaysOnFloor: 2 });
  assert.ok(lower.mass_drop.level < cal.mass_drop.level);
  assert.ok(lower.always_on_missing.level < cal.always_on_missing.level);
});
