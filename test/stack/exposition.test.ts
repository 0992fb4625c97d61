// `promtool check metrics` is silent on what /metrics serves: the golden file, the same state with
// process metrics on, and an exporter without interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { buildRegistry } from '../../src/collectors/index.js';
import type { MonitorReadout } from '../../src/monitor/readout.js';
import { GOLDEN_FILE, scenario } from '../collectors/scenario.js';

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

test('promtool check metrics passes silently on the golden /metrics file', () => {
  assert.deepEqual(promtool(readFileSync(GOLDEN_FILE, 'utf8')), { status: 0, output: '' });
});

for (const processMetrics of [false, true]) {
  test(`promtool check metrics passes silently (process metrics ${processMetrics ? 'on' : 'off'})`, async () => {
    const { state } = scenario();
    const text = await buildRegistry(state, { processMetrics }).metrics();
    assert.equal(/^process_cpu_seconds_total /m.test(text), processMetrics);
    assert.deepEqual(promtool(text), { status: 0, output: '' });
  });
}

test('no interfaces: promtool check metrics passes silently', async () => {
  const state: MonitorReadout = { segments: () => [], anomaly: () => new Map(), known: () => new Map(), store: () => ({ writable: true, errors: 0 }), reload: () => ({ successful: false, lastSuccessMs: 0 }) };
  assert.deepEqual(promtool(await buildRegistry(state, { processMetrics: false }).metrics()), { status: 0, output: '' });
});
