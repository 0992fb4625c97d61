// The prom-client -> OTLP metrics bridge (telemetry.otlp_metrics), checked against the real OTLP/JSON serializer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { metrics } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { PromBridge } from '../../src/metrics/otlp-bridge.js';

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
