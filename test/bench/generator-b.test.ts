// Generator B (bench/anomaly/generator-b/) and the per-history verdict of the evaluation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateB } from '../../bench/anomaly/generator-b/index.js';
import { judgeHistory } from '../../bench/anomaly/evaluation.js';
import { ANOMALY_KINDS, labelSweeps, sweepIndex } from '../../bench/anomaly/scenario.js';
import { DEFAULT_TUNING } from '../../src/anomaly/tuning.js';
import { isRandomizedMac } from '../../src/net/mac.js';

test('generator B is deterministic per seed and labels every kind in both halves', () => {
  for (const kind of ['home', 'office'] as const) {
    const a = generateB(kind, { seed: 7, days: 14, perHalf: [1, 2] });
    const b = generateB(kind, { seed: 7, days: 14, perHalf: [1, 2] });
    assert.deepEqual(a.sweeps.slice(0, 50), b.sweeps.slice(0, 50));
    assert.deepEqual(a.events, b.events);
    for (const k of ANOMALY_KINDS) {
      const ev = a.events.filter((e) => e.anomalous && e.kind === k);
      assert.equal(ev.filter((e) => e.start <= a.trainUntil).length, 1, `${kind} ${k} in the training half`);
      assert.equal(ev.filter((e) => e.start > a.trainUntil).length, 2, `${kind} ${k} in the scored half`);
    }
    // sweeps in time order, local time zone given, gaps where the exporter was restarted are allowed
    for (let i = 1; i < a.sweeps.length; i++) assert.ok(a.sweeps[i].tsSeconds > a.sweeps[i - 1].tsSeconds);
    assert.ok(Number.isInteger(a.tzOffsetMinutes));
    assert.ok(a.sweeps.every((s) => s.devices.every((d) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(d.mac))));
  }
});

test('generator B draws its homes from ownership shares: different networks per seed, private MACs and several residents', () => {
  const sizes = new Set<number>();
  let random = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const h = generateB('home', { seed, days: 7, perHalf: [0, 0] });
    const macs = new Set(h.sweeps.flatMap((s) => s.devices.map((d) => d.mac)));
    sizes.add(macs.size);
    random += [...macs].filter(isRandomizedMac).length;
  }
  assert.ok(sizes.size >= 4, `networks differ in size: ${[...sizes].join(', ')}`);
  assert.ok(random > 0);
});

test('the verdict on a history: events caught by any alarm, false-alarm episodes away from anomalies', () => {
  const sim = generateB('home', { seed: 3, days: 14, perHalf: [0, 1] });
  const testFrom = sim.sweeps.findIndex((s) => s.tsSeconds > sim.trainUntil);
  const n = sim.sweeps.length;
  const { labels } = labelSweeps(sim, 6);
  // alarm exactly on the labelled sweeps: everything caught, no false alarm, AUC 1
  const perfect = judgeHistory({ sim, seed: 3, testFrom, scores: Array.from(labels, (l) => (l === 1 ? 1 : 0)), alarms: Array.from(labels, (l) => l === 1) });
  assert.equal(perfect.events.length, ANOMALY_KINDS.length);
  assert.ok(perfect.events.every((e) => e.caught && e.delay === 0));
  assert.equal(perfect.falseEpisodes, 0);
  assert.ok(Math.abs(perfect.weeks - 1) < 0.05);
  // plus two alarms far from any anomaly: two episodes
  const quiet = [...Array(n).keys()].filter((i) => i > testFrom && labels[i] === 0 && !sim.events.some((e) => e.anomalous && Math.abs(sweepIndex(sim, e.start) - i) < 100));
  const alarms = Array.from(labels, (l) => l === 1);
  alarms[quiet[0]] = true;
  alarms[quiet[quiet.length - 1]] = true;
  assert.equal(judgeHistory({ sim, seed: 3, testFrom, scores: new Array(n).fill(0), alarms }).falseEpisodes, 2);
});

test('the shipped tuning is the one chosen on both generators\' development seeds', () => {
  const record = JSON.parse(readFileSync(new URL('../../bench/anomaly/tuning.json', import.meta.url), 'utf8')) as { chosen: { both: unknown } };
  assert.deepEqual(record.chosen.both, DEFAULT_TUNING);
});
