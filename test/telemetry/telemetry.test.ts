// Unit tests of src/telemetry.ts that need no network: when tracing is wanted, which OTLP
// protocol is used, and the prom-client -> OTLP metrics bridge (telemetry.otlp_metrics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { metrics } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { configSchema } from '../../src/config/schema.js';
import { otlpProtocol, PromBridge, startTelemetry, telemetryWanted } from '../../src/telemetry.js';
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

test('otlpProtocol: http/json by default, signal-specific variable first, unknown values reported', () => {
  assert.equal(otlpProtocol('TRACES', {}), 'http/json');
  assert.equal(otlpProtocol('TRACES', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), 'grpc');
  assert.equal(otlpProtocol('TRACES', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }), 'http/protobuf');
  assert.equal(otlpProtocol('METRICS', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }), 'http/json');
  assert.deepEqual(otlpProtocol('TRACES', { OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }), { invalid: 'thrift' });
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

test('PromBridge converts counters, gauges, histograms and summaries into OTLP metrics', async () => {
  const registry = new Registry();
  const c = new Counter({ name: 'gh_sweeps_total', help: 'sweeps', labelNames: ['interface'], registers: [registry] });
  c.inc({ interface: 'eth0' }, 3);
  const g = new Gauge({ name: 'gh_devices', help: 'devices', registers: [registry] });
  g.set(7);
  const h = new Histogram({ name: 'gh_duration_seconds', help: 'duration', labelNames: ['interface'], buckets: [0.1, 1, 10], registers: [registry] });
  for (const v of [0.05, 0.5, 0.7, 5, 50]) h.observe({ interface: 'eth0' }, v);
  const s = new Summary({ name: 'gh_rtt_seconds', help: 'rtt', percentiles: [0.5, 0.9], registers: [registry] });
  s.observe(2);

  const bridge = new PromBridge({
    cumulative: metrics.AggregationTemporality.CUMULATIVE,
    sum: metrics.DataPointType.SUM,
    gauge: metrics.DataPointType.GAUGE,
    histogram: metrics.DataPointType.HISTOGRAM,
  });
  assert.deepEqual((await bridge.collect()).resourceMetrics.scopeMetrics, [], 'nothing before a registry is attached');
  bridge.registry = registry;
  const { resourceMetrics, errors } = await bridge.collect();
  assert.deepEqual(errors, []);
  const byName = new Map(resourceMetrics.scopeMetrics[0].metrics.map((m) => [m.descriptor.name, m]));
  assert.deepEqual([...byName.keys()].sort(), ['gh_devices', 'gh_duration_seconds', 'gh_rtt_seconds', 'gh_rtt_seconds_count', 'gh_rtt_seconds_sum', 'gh_sweeps_total']);

  const counter = byName.get('gh_sweeps_total')!;
  assert.equal(counter.dataPointType, metrics.DataPointType.SUM);
  assert.equal(counter.dataPointType === metrics.DataPointType.SUM && counter.isMonotonic, true);
  assert.deepEqual(counter.dataPoints.map((p) => [p.attributes, p.value]), [[{ interface: 'eth0' }, 3]]);
  assert.equal(byName.get('gh_devices')!.dataPointType, metrics.DataPointType.GAUGE);
  assert.equal(byName.get('gh_devices')!.dataPoints[0].value, 7);

  const hist = byName.get('gh_duration_seconds')!;
  assert.equal(hist.dataPointType, metrics.DataPointType.HISTOGRAM);
  const hp = hist.dataPoints[0] as metrics.DataPoint<metrics.Histogram>;
  assert.deepEqual(hp.attributes, { interface: 'eth0' }, 'le is not an attribute');
  assert.deepEqual(hp.value.buckets, { boundaries: [0.1, 1, 10], counts: [1, 2, 1, 1] }, 'per-bucket counts, +Inf last');
  assert.equal(hp.value.count, 5);
  assert.ok(Math.abs(hp.value.sum! - 56.25) < 1e-9);

  // The real OTLP/JSON serializer accepts the result.
  const body = JsonMetricsSerializer.serializeRequest({ resource: resourceFromAttributes({ 'service.name': 'ghost-hunter' }), scopeMetrics: resourceMetrics.scopeMetrics });
  const doc = JSON.parse(new TextDecoder().decode(body)) as { resourceMetrics: { scopeMetrics: { metrics: { name: string; histogram?: { dataPoints: { bucketCounts: unknown[]; explicitBounds: number[] }[] } }[] }[] }[] };
  const otlp = doc.resourceMetrics[0].scopeMetrics[0].metrics;
  const hj = otlp.find((m) => m.name === 'gh_duration_seconds')!;
  assert.deepEqual(hj.histogram!.dataPoints[0].explicitBounds, [0.1, 1, 10]);
  assert.deepEqual(hj.histogram!.dataPoints[0].bucketCounts.map(Number), [1, 2, 1, 1]);
});
