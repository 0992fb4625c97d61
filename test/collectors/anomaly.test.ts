import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerAnomalyCollector } from '../../src/collectors/anomaly.js';
import { AnomalyEngine } from '../../src/anomaly/engine.js';
import type { AnomalyResult, EngineStatus } from '../../src/anomaly/types.js';
import { GATEWAY, KNOWN, quietHistory } from '../anomaly/helpers.js';

test('metrics render through a prom-client Registry; training interfaces only say model_ready 0', async () => {
  const ready = new AnomalyEngine(KNOWN, { tzOffsetMinutes: 0, gatewayIp: GATEWAY.ip });
  const h = quietHistory(320);
  ready.restore(h.slice(0, 300));
  await ready.retrainIfDue();
  const result = ready.observe(h[300]);
  const warming = new AnomalyEngine(KNOWN, { tzOffsetMinutes: 0 });
  const warmResult = warming.observe(h[0]);
  const state = new Map<string, { result: AnomalyResult | null; status: EngineStatus }>([
    ['eth0', { result, status: ready.status() }],
    ['wlan0', { result: warmResult, status: warming.status() }],
  ]);
  const registry = new Registry();
  registerAnomalyCollector(registry, { anomaly: () => state });
  const text = await registry.metrics();
  assert.match(text, new RegExp(`ghosthunter_anomaly_score\\{interface="eth0"\\} ${result.score}`));
  assert.match(text, /ghosthunter_anomalous\{interface="eth0"\} 0/);
  assert.match(text, /ghosthunter_anomaly_threshold\{interface="eth0"\} 0\.\d+/);
  assert.match(text, /ghosthunter_anomaly_detector_score\{interface="eth0",detector="new_burst"\}/);
  assert.match(text, /ghosthunter_anomaly_model_ready\{interface="eth0"\} 1/);
  assert.match(text, /ghosthunter_anomaly_model_ready\{interface="wlan0"\} 0/);
  assert.match(text, /ghosthunter_anomaly_model_samples\{interface="eth0"\} 301/);
  assert.match(text, new RegExp(`ghosthunter_anomaly_model_last_trained_timestamp_seconds\\{interface="eth0"\\} ${h[299].tsSeconds}`));
  assert.doesNotMatch(text, /ghosthunter_anomaly_score\{interface="wlan0"/);
  assert.doesNotMatch(text, /ghosthunter_anomalous\{interface="wlan0"/);
  for (const c of result.contributions) assert.match(text, new RegExp(`ghosthunter_anomaly_feature_contribution\\{interface="eth0",feature="${c.feature}"\\}`));
  assert.doesNotMatch(text, /^ghosthunter_anomaly_device_/m, 'no device is named while no detector fires');
  // the devices behind a firing detector: at most five, with since when
  const devices = Array.from({ length: 7 }, (_, k) => ({ mac: `00:11:22:33:44:${(0x10 + k).toString(16)}`, detector: 'mass_drop', weight: 1 - k / 10, sinceTsSeconds: 1000 + k }));
  state.set('eth0', { result: { ...result, devices }, status: ready.status() });
  const withDevices = await registry.metrics();
  assert.equal(withDevices.match(/^ghosthunter_anomaly_device_contribution\{/gm)?.length, 5);
  assert.match(withDevices, /ghosthunter_anomaly_device_contribution\{interface="eth0",mac="00:11:22:33:44:10",detector="mass_drop"\} 1\n/);
  assert.match(withDevices, /ghosthunter_anomaly_device_since_timestamp_seconds\{interface="eth0",mac="00:11:22:33:44:14",detector="mass_drop"\} 1004\n/);
  assert.doesNotMatch(withDevices, /44:15/);
  // state changes are picked up at the next scrape
  state.delete('wlan0');
  assert.doesNotMatch(await registry.metrics(), /wlan0/);
});
