import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAnomalyReplay } from '../../src/commands/anomaly-replay.js';
import { UsageError } from '../../src/commands/errors.js';
import { simulateScenario, toJsonl } from '../../bench/anomaly/simulator.js';
import { GATEWAY, mac, quietHistory } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gh-replay-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function replay(args: string[]): Promise<{ code: number; lines: Record<string, unknown>[] }> {
  let out = '';
  const code = await runAnomalyReplay(args, (s) => {
    out += s;
  });
  return { code, lines: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

test('replays a small generated JSONL: one line per sweep after --train-until, anomaly flagged', async () => {
  const h = quietHistory(400);
  const burstAt = 380;
  const burst = Array.from({ length: 9 }, (_, k) => ({ mac: mac(k), ip: `192.168.1.${210 + k}` }));
  for (const i of [burstAt, burstAt + 1]) h[i] = { tsSeconds: h[i].tsSeconds, devices: [...h[i].devices, ...burst] };
  const file = join(dir, 'h.jsonl');
  writeFileSync(file, toJsonl(h));
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, `known_devices:\n  - mac: "${GATEWAY.mac.toUpperCase()}"\n    name: router\n    critical: true\n`);
  const { code, lines } = await replay(['--history', file, '--train-until', String(h[299].tsSeconds), '--config.file', cfg, '--seed', '3', '--tz-offset', '0']);
  assert.equal(code, 0);
  assert.equal(lines.length, 100);
  assert.deepEqual(Object.keys(lines[0]).sort(), ['anomalous', 'detectors', 'devices', 'score', 'threshold', 'top', 'ts']);
  assert.equal(lines[0].ts, h[300].tsSeconds);
  type Line = { anomalous: boolean; score: number; top: { feature: string }[]; devices: { mac: string; detector: string; sinceTsSeconds: number }[] };
  const first = lines[burstAt - 300] as Line;
  const second = lines[burstAt + 1 - 300] as Line;
  assert.equal(first.anomalous, false, 'one sweep does not page');
  assert.equal(second.anomalous, true);
  assert.ok(second.top.some((t) => t.feature === 'new_cohort' || t.feature === 'new_30m'));
  assert.ok(second.devices.length > 0 && second.devices.every((d) => burst.some((b) => b.mac === d.mac) && d.sinceTsSeconds === h[burstAt].tsSeconds));
  const before = lines.slice(0, burstAt - 300) as Line[];
  assert.ok(before.every((l) => l.score < first.score));
  // same seed, same output
  const again = await replay(['--history', file, '--train-until', String(h[299].tsSeconds), '--config.file', cfg, '--seed', '3', '--tz-offset', '0']);
  assert.deepEqual(again.lines, lines);
});

test('default split is the first half; simulator JSONL round-trips', async () => {
  const sim = simulateScenario('household', { seed: 4, weeks: 1, anomaliesTrainHalf: 0, anomaliesTestHalf: 1 });
  const file = join(dir, 'sim.jsonl');
  writeFileSync(file, toJsonl(sim.sweeps));
  const { lines } = await replay(['--history', file, '--tz-offset', '0']);
  assert.equal(lines.length, sim.sweeps.length - Math.floor(sim.sweeps.length / 2));
  assert.ok(lines.every((l) => typeof l.score === 'number'));
});

test('malformed JSONL: a one-line error naming the file and the line', async () => {
  const file = join(dir, 'bad.jsonl');
  writeFileSync(file, '{"ts": 1, "devices": []}\n\n{"ts": 2, "devices": [}\n');
  await assert.rejects(replay(['--history', file]), (e: unknown) => e instanceof UsageError && e.message.startsWith(`${file}:3: malformed JSON`) && !e.message.includes('\n'));
  writeFileSync(file, '{"ts": 1, "devices": [{"mac": 5}]}\n');
  await assert.rejects(replay(['--history', file]), (e: unknown) => e instanceof UsageError && e.message.startsWith(`${file}:1: devices[0]`));
  await assert.rejects(replay(['--history', join(dir, 'missing.jsonl')]), /cannot read history/);
  await assert.rejects(replay([]), /usage/);
  await assert.rejects(replay(['--history', file, '--bogus', '1']), /unknown flag --bogus/);
});

test('--config.file is read by the exporter config loader: errors name the file, line and key', async () => {
  const file = join(dir, 'two.jsonl');
  writeFileSync(file, '{"ts": 1, "devices": []}\n{"ts": 2, "devices": []}\n');
  const cfg = join(dir, 'bad.yaml');
  writeFileSync(cfg, 'known_devices:\n  - mac: nope\n    name: a\n');
  await assert.rejects(replay(['--history', file, '--config.file', cfg]), (e: unknown) => e instanceof UsageError && e.message.startsWith(`${cfg}:2: known_devices[0].mac`));
  writeFileSync(cfg, 'listen: ":9100"\n');
  await assert.rejects(replay(['--history', file, '--config.file', cfg]), (e: unknown) => e instanceof UsageError && /unknown key "listen"/.test(e.message));
});
