// Unit tests of src/telemetry.ts that need no network: when tracing is wanted and how our config
// keys map onto the SDK's environment (test/e2e/otel.test.ts runs the SDK against a receiver).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { configSchema } from '../../src/config/schema.js';
import { sdkEnvironment, startTelemetry, telemetryWanted } from '../../src/telemetry.js';
import { Logger } from '../../src/log.js';

const cfg = (telemetry: Record<string, unknown> = {}) => configSchema.parse({ telemetry });

test('telemetryWanted: config, flag and endpoint variables enable; OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none disable', () => {
  assert.equal(telemetryWanted(cfg(), false, {}), false);
  assert.equal(telemetryWanted(cfg(), false, { OTEL_EXPORTER_OTLP_ENDPOINT: '' }), false, 'empty means unset');
  assert.equal(telemetryWanted(cfg({ otlp: true }), false, {}), true);
  assert.equal(telemetryWanted(cfg({ otlp: false, otlp_endpoint: 'http://collector:4318' }), false, {}), false, 'the endpoint alone only says where');
  assert.equal(telemetryWanted(cfg(), true, {}), true);
  assert.equal(telemetryWanted(cfg(), false, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), true);
  assert.equal(telemetryWanted(cfg(), false, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), true);
  assert.equal(telemetryWanted(cfg(), false, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' }), false, 'a metrics endpoint does not turn tracing on');
  for (const v of ['true', 'TRUE', ' True ']) assert.equal(telemetryWanted(cfg({ otlp: true }), true, { OTEL_SDK_DISABLED: v, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), false, v);
  assert.equal(telemetryWanted(cfg({ otlp: true }), false, { OTEL_SDK_DISABLED: 'false' }), true);
  assert.equal(telemetryWanted(cfg({ otlp: true }), false, { OTEL_TRACES_EXPORTER: 'none' }), false);
});

test('sdkEnvironment: telemetry.otlp_endpoint overrides the endpoint variables; http/json unless a protocol variable says otherwise', () => {
  assert.deepEqual(sdkEnvironment(cfg(), {}), { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  assert.deepEqual(sdkEnvironment(cfg(), { OTEL_EXPORTER_OTLP_PROTOCOL: ' ' }), { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'blank means unset');
  assert.deepEqual(sdkEnvironment(cfg(), { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), {}, 'the variable is the SDK\'s to read');
  // the per-signal variables keep their precedence in the SDK; only the fallback changes
  assert.deepEqual(sdkEnvironment(cfg(), { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }), { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  assert.deepEqual(sdkEnvironment(cfg({ otlp: true, otlp_endpoint: 'http://collector:4318' }), { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/v1/traces' }), {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: undefined,
  });
});

test('startTelemetry with nothing configured does nothing and logs nothing', async () => {
  const saved = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OTEL_')));
  for (const k of Object.keys(saved)) delete process.env[k];
  try {
    const lines: string[] = [];
    const t = await startTelemetry(cfg(), false, new Logger('debug', 'logfmt', {}, (l) => lines.push(l)));
    assert.equal(t.enabled, false);
    t.exportRegistry(new Registry());
    await t.shutdown();
    assert.deepEqual(lines, []);
  } finally {
    Object.assign(process.env, saved);
  }
});
