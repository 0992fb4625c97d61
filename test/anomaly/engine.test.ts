import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnomalyEngine, MAX_DEVICES } from '../../src/anomaly/engine.js';
import { DETECTOR_NAMES } from '../../src/anomaly/detectors.js';
import { FEATURE_NAMES } from '../../src/anomaly/feature-names.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/anomaly/snapshot-codec.js';
import type { AnomalyResult, SweepRecord } from '../../src/anomaly/types.js';
import { ALWAYS_ON, GATEWAY, KNOWN, mac, quietHistory } from './helpers.js';

const OPTS = { tzOffsetMinutes: 0, gatewayIp: GATEWAY.ip, seed: 5, warmupSweeps: 288, retrainEverySweeps: 12 };

async function live(engine: AnomalyEngine, sweeps: SweepRecord[]): Promise<AnomalyResult[]> {
  const out: AnomalyResult[] = [];
  for (const s of sweeps) {
    out.push(engine.observe(s));
    await engine.retrainIfDue();
  }
  return out;
}

const history = quietHistory(700);
const train = history.slice(0, 600);
const later = history.slice(600);

test('warm-up: no score and state "training" until the minimum history and a first training', async () => {
  const e = new AnomalyEngine(KNOWN, OPTS);
  for (let i = 0; i < 287; i++) {
    const r = e.observe(history[i]);
    assert.equal(r.state, 'training');
    assert.equal(r.score, null);
    assert.equal(r.anomalous, false);
    assert.equal(await e.retrainIfDue(), false);
  }
  assert.equal(e.status().state, 'training');
  const r = e.observe(history[287]);
  assert.equal(r.state, 'training');
  assert.equal(await e.retrainIfDue(), true);
  const st = e.status();
  assert.equal(st.state, 'ready');
  assert.equal(st.samples, 288);
  assert.equal(st.lastTrainedTsSeconds, history[287].tsSeconds);
  assert.equal(st.threshold, 0.5, 'scores are calibrated to fire at 0.5');
  const next = e.observe(history[288]);
  assert.equal(next.state, 'ready');
  assert.equal(typeof next.score, 'number');
  assert.deepEqual(Object.keys(next.detectors).sort(), [...DETECTOR_NAMES].sort());
  assert.deepEqual(Object.keys(next.features), [...FEATURE_NAMES]);
});

async function trained(): Promise<AnomalyEngine> {
  const e = new AnomalyEngine(KNOWN, OPTS);
  e.restore(train);
  await e.retrainIfDue();
  return e;
}

test('a burst of unknown MACs scores above normal sweeps, alarms from its second sweep and names the devices', async () => {
  const e = await trained();
  const normal = later.slice(0, 20).map((s) => e.observe(s));
  const burst = Array.from({ length: 10 }, (_, k) => ({ mac: mac(k), ip: `192.168.1.${200 + k}` }));
  const first = e.observe({ tsSeconds: later[20].tsSeconds, devices: [...later[20].devices, ...burst] });
  const second = e.observe({ tsSeconds: later[21].tsSeconds, devices: [...later[21].devices, ...burst] });
  const maxNormal = Math.max(...normal.map((r) => r.score!));
  assert.ok(first.score! > maxNormal, `${first.score} > ${maxNormal}`);
  assert.ok(normal.every((r) => !r.anomalous && r.score! < r.threshold!));
  // minimum evidence: the first sweep at or above the threshold does not page, the second does
  assert.ok(first.score! >= first.threshold!);
  assert.equal(first.anomalous, false);
  assert.equal(second.anomalous, true);
  const top = Object.entries(second.detectors).sort((a, b) => b[1] - a[1])[0][0];
  assert.equal(top, 'new_burst');
  assert.ok(second.contributions.some((c) => c.feature === 'new_30m' || c.feature === 'new_cohort'));
  assert.ok(second.contributions.length <= 5);
  // the devices behind it: at most five of the ten, all new, first seen at the burst
  assert.equal(second.devices.length, MAX_DEVICES);
  for (const d of second.devices) {
    assert.ok(burst.some((b) => b.mac === d.mac));
    assert.equal(d.detector, 'new_burst');
    assert.equal(d.sinceTsSeconds, later[20].tsSeconds);
    assert.ok(d.weight > 0.5 && d.weight <= 1);
  }
  assert.deepEqual(normal[0].devices, []);
});

test('the gateway IP answered by two MACs alarms and is explained by gateway_spoof', async () => {
  const e = await trained();
  const normal = later.slice(0, 20).map((s) => e.observe(s));
  // a compromised always-on device starts answering for the gateway's IP
  const spoof = (s: SweepRecord) => e.observe({ tsSeconds: s.tsSeconds, devices: [...s.devices, { mac: ALWAYS_ON[5].mac, ip: GATEWAY.ip }] });
  const first = spoof(later[20]);
  const r = spoof(later[21]);
  assert.ok(first.score! > Math.max(...normal.map((x) => x.score!)));
  assert.equal(first.anomalous, false);
  assert.equal(r.anomalous, true);
  assert.ok(r.detectors.gateway_spoof > 0.9);
  assert.equal(r.contributions[0].feature, 'gateway_conflict');
  assert.deepEqual(
    r.devices.map((d) => [d.mac, d.detector]),
    [[ALWAYS_ON[5].mac, 'gateway_spoof']],
  );
});

test('several always-on devices vanishing together alarm as a mass drop naming them and since when', async () => {
  const e = await trained();
  const gone = ALWAYS_ON.slice(0, 4).map((d) => d.mac);
  const results = later.slice(0, 8).map((s) => e.observe({ tsSeconds: s.tsSeconds, devices: s.devices.filter((d) => !gone.includes(d.mac)) }));
  assert.equal(results[0].anomalous, false, 'one missed sweep is not a drop');
  const alarm = results.find((r) => r.anomalous);
  assert.ok(alarm, results.map((r) => r.score).join(' '));
  assert.ok(alarm.detectors.mass_drop >= 0.5, JSON.stringify(alarm.detectors));
  const named = alarm.devices.filter((d) => d.detector === 'mass_drop' || d.detector === 'segment_down' || d.detector === 'always_on_missing');
  assert.ok(named.length >= 3);
  for (const d of named) {
    assert.ok(gone.includes(d.mac), d.mac);
    assert.equal(d.sinceTsSeconds, later[0].tsSeconds, 'missing since the first sweep without it');
  }
});

test('reproducible under a seed: two engines give the same scores', async () => {
  const a = await live(new AnomalyEngine(KNOWN, OPTS), history.slice(0, 400));
  const b = await live(new AnomalyEngine(KNOWN, OPTS), history.slice(0, 400));
  assert.deepEqual(a, b);
  assert.ok(a[399].score !== null);
});

test('restore() from stored history gives the same results as having observed live', async () => {
  const liveEngine = new AnomalyEngine(KNOWN, OPTS);
  await live(liveEngine, train);
  const restored = new AnomalyEngine(KNOWN, OPTS);
  restored.restore(train);
  await restored.retrainIfDue();
  assert.deepEqual(restored.status(), liveEngine.status());
  const a = await live(liveEngine, later);
  const b = await live(restored, later);
  assert.deepEqual(b, a);
});

test('retrainIfDue never trains twice concurrently and is not due between schedule points', async () => {
  const e = new AnomalyEngine(KNOWN, OPTS);
  e.restore(train);
  const [x, y] = await Promise.all([e.retrainIfDue(), e.retrainIfDue()]);
  assert.equal(x, true);
  assert.equal(y, true); // the second call joins the first training
  assert.equal(await e.retrainIfDue(), false);
  e.observe(later[0]);
  assert.equal(await e.retrainIfDue(), false);
});

test('setKnown: a device added to the known list is no longer unknown', async () => {
  const e = await trained();
  const s = later[0];
  const stranger = { mac: mac(90), ip: '192.168.1.90' };
  const r1 = e.observe({ tsSeconds: s.tsSeconds, devices: [...s.devices, stranger] });
  assert.equal(r1.features.unknown_present, 1);
  e.setKnown([...KNOWN, { mac: stranger.mac, name: 'new tv' }]);
  const r2 = e.observe({ tsSeconds: later[1].tsSeconds, devices: [...later[1].devices, stranger] });
  assert.equal(r2.features.unknown_present, 0);
});

test('restoreAsync() rebuilds the same state as restore()', async () => {
  const a = new AnomalyEngine(KNOWN, OPTS);
  a.restore(train);
  await a.retrainIfDue();
  const b = new AnomalyEngine(KNOWN, OPTS);
  await b.restoreAsync(train, 50);
  await b.retrainIfDue();
  assert.deepEqual(b.status(), a.status());
  assert.deepEqual(b.observe(later[0]), a.observe(later[0]));
});

test('the first training fits every small forest; each later retrain refits one, in turn', async () => {
  const e = new AnomalyEngine(KNOWN, OPTS);
  const trainedCounts: number[] = [];
  for (const s of history.slice(0, 400)) {
    e.observe(s);
    if (await e.retrainIfDue()) trainedCounts.push(e.lastTrainCost!.forestsTrained);
  }
  assert.equal(trainedCounts[0], 6);
  assert.ok(trainedCounts.length > 6);
  assert.ok(trainedCounts.slice(1).every((n) => n === 1), trainedCounts.join(','));
});

test('snapshot: a restarted engine resumes from the stored feature state exactly as if it had kept running', async () => {
  const liveEngine = new AnomalyEngine(KNOWN, OPTS);
  await live(liveEngine, history.slice(0, 455)); // between two due points
  const stored = encodeSnapshot(liveEngine.snapshot());
  const resumed = new AnomalyEngine(KNOWN, OPTS);
  resumed.restoreSnapshot(decodeSnapshot({ meta: stored.meta, rows: Buffer.from(stored.rows) }));
  assert.equal(await resumed.retrainIfDue(), true);
  assert.equal(resumed.lastTrainCost!.forestsTrained, 6); // the model itself is not stored
  assert.deepEqual(resumed.status(), liveEngine.status());
  const rest = history.slice(455);
  assert.deepEqual(await live(resumed, rest), await live(liveEngine, rest));
});

test('snapshot: the minimum-evidence rule carries over a restart', async () => {
  const burst = Array.from({ length: 10 }, (_, k) => ({ mac: mac(k), ip: `192.168.1.${200 + k}` }));
  const withBurst = (s: SweepRecord) => ({ tsSeconds: s.tsSeconds, devices: [...s.devices, ...burst] });
  const a = await trained();
  const first = a.observe(withBurst(later[0]));
  assert.ok(first.score! >= first.threshold! && !first.anomalous);
  const resumed = new AnomalyEngine(KNOWN, OPTS);
  resumed.restoreSnapshot(decodeSnapshot(encodeSnapshot(a.snapshot())));
  await resumed.retrainIfDue();
  assert.equal(resumed.observe(withBurst(later[1])).anomalous, true, 'the sweep before the restart counts as evidence');
  assert.equal(a.observe(withBurst(later[1])).anomalous, true);
});

test('snapshot built with other options is refused with the reason; garbage is reported, not loaded', () => {
  const e = new AnomalyEngine(KNOWN, OPTS);
  for (const s of history.slice(0, 50)) e.observe(s);
  const snap = e.snapshot();
  const other = new AnomalyEngine(KNOWN, { ...OPTS, windowSeconds: 7 * 86400 });
  assert.match(other.snapshotMismatch(snap) ?? '', /window 2419200 differs from 604800/);
  assert.throws(() => other.restoreSnapshot(snap), /window/);
  assert.equal(new AnomalyEngine(KNOWN, OPTS).snapshotMismatch(snap), null);
  assert.throws(() => decodeSnapshot({ meta: '{"version":', rows: Buffer.alloc(0) }), /not valid JSON/);
  assert.throws(() => decodeSnapshot({ meta: '{"version":1}', rows: Buffer.alloc(0) }), /no version or state/);
  const enc = encodeSnapshot(snap);
  assert.throws(() => decodeSnapshot({ meta: enc.meta, rows: enc.rows.subarray(0, 12) }), /not a whole number of float64/);
  assert.throws(() => decodeSnapshot({ meta: enc.meta, rows: enc.rows.subarray(0, 16) }), /holds 2 values, its layout says/);
  assert.match(new AnomalyEngine(KNOWN, { ...OPTS, seed: 6 }).snapshotMismatch(snap) ?? '', /forest seed 5, .* differs from seed 6/);
  assert.match(new AnomalyEngine(KNOWN, { ...OPTS, tuning: { quietSteepness: 3 } }).snapshotMismatch(snap) ?? '', /tuning quiet steepness \d+ differs from quiet steepness 3/);
  // a snapshot of an older engine (another format and feature set) is not used: history is replayed instead
  assert.match(e.snapshotMismatch({ ...snap, version: 1 }) ?? '', /snapshot format 1, expected 2/);
  assert.match(e.snapshotMismatch({ ...snap, features: 'new_devices,new_cohort' }) ?? '', /another feature set/);
});

test('a snapshot taken at another sweep interval is not used; one from before the interval was recorded counts as 5 minutes', () => {
  const e = new AnomalyEngine(KNOWN, OPTS);
  for (const s of history.slice(0, 50)) e.observe(s);
  const snap = decodeSnapshot(encodeSnapshot(e.snapshot()));
  assert.match(new AnomalyEngine(KNOWN, { ...OPTS, intervalSeconds: 60 }).snapshotMismatch(snap) ?? '', /sweep interval 300 differs from 60/);
  const { intervalSeconds: _recorded, ...older } = snap;
  assert.equal(new AnomalyEngine(KNOWN, OPTS).snapshotMismatch(older), null);
});
