// prom-client -> OTLP metrics (telemetry.otlp_metrics): the registry /metrics serves, read and
// converted on every OTLP collection. The text families (per-device series) are not included.
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import type { CollectionResult, DataPoint, Histogram, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import { VERSION } from '../version.js';

/** Enum values of @opentelemetry/sdk-metrics, passed in so this module does not load it eagerly. */
export interface MetricEnums {
  cumulative: number;
  sum: number;
  gauge: number;
  histogram: number;
}

type PromValue = { value: number; labels: Record<string, string | number | undefined>; metricName?: string };

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
}

function attributes(labels: PromValue['labels'], drop?: string): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(labels)) if (k !== drop && v !== undefined) out[k] = String(v);
  return out;
}

/**
 * Reads a prom-client registry on every OTLP collection and converts it: counters to cumulative
 * monotonic sums, gauges to gauges, histograms to explicit-bucket histograms (prometheus'
 * cumulative `le` buckets become per-bucket counts), summaries to a gauge per quantile plus
 * `<name>_sum` and `<name>_count` sums.
 */
export class PromBridge implements MetricProducer {
  registry: Registry | null = null;
  private readonly start = hrTime(Date.now() - performance.now());

  constructor(private readonly enums: MetricEnums) {}

  async collect(): Promise<CollectionResult> {
    const out: MetricData[] = [];
    const errors: unknown[] = [];
    if (this.registry) {
      try {
        for (const m of await this.registry.getMetricsAsJSON()) out.push(...this.convert(m as unknown as { name: string; help: string; type: string; values: PromValue[] }));
      } catch (err) {
        errors.push(err);
      }
    }
    return {
      // The reader keeps the SDK's resource; this one is discarded.
      resourceMetrics: { resource: undefined as never, scopeMetrics: out.length ? [{ scope: { name: 'ghost-hunter', version: VERSION }, metrics: out }] : [] },
      errors,
    };
  }

  convert(m: { name: string; help: string; type: string; values: PromValue[] }): MetricData[] {
    const { cumulative, sum, gauge, histogram } = this.enums;
    const now = hrTime(Date.now());
    const point = (v: PromValue, drop?: string): DataPoint<number> => ({ startTime: this.start, endTime: now, attributes: attributes(v.labels, drop), value: v.value });
    const descriptor = (name: string) => ({ name, description: m.help, unit: '', valueType: ValueType.DOUBLE });
    switch (m.type) {
      case 'counter':
        return [{ descriptor: descriptor(m.name), aggregationTemporality: cumulative, dataPointType: sum, isMonotonic: true, dataPoints: m.values.map((v) => point(v)) } as MetricData];
      case 'gauge':
        return [{ descriptor: descriptor(m.name), aggregationTemporality: cumulative, dataPointType: gauge, dataPoints: m.values.map((v) => point(v)) } as MetricData];
      case 'histogram': {
        const series = new Map<string, { attrs: Attributes; bounds: [number, number][]; sum: number; count: number }>();
        for (const v of m.values) {
          const attrs = attributes(v.labels, 'le');
          const key = JSON.stringify(Object.entries(attrs).sort());
          let s = series.get(key);
          if (!s) series.set(key, (s = { attrs, bounds: [], sum: 0, count: 0 }));
          if (v.metricName?.endsWith('_bucket')) {
            if (v.labels.le !== '+Inf') s.bounds.push([Number(v.labels.le), v.value]);
          } else if (v.metricName?.endsWith('_sum')) s.sum = v.value;
          else if (v.metricName?.endsWith('_count')) s.count = v.value;
        }
        const dataPoints: DataPoint<Histogram>[] = [...series.values()].map((s) => {
          const sorted = s.bounds.sort((a, b) => a[0] - b[0]);
          const cum = sorted.map(([, c]) => c);
          const counts = [...cum.map((c, i) => c - (i ? cum[i - 1] : 0)), s.count - (cum.at(-1) ?? 0)];
          return { startTime: this.start, endTime: now, attributes: s.attrs, value: { buckets: { boundaries: sorted.map(([b]) => b), counts }, sum: s.sum, count: s.count } };
        });
        return [{ descriptor: descriptor(m.name), aggregationTemporality: cumulative, dataPointType: histogram, dataPoints } as MetricData];
      }
      case 'summary': {
        const quantiles = m.values.filter((v) => !v.metricName);
        const sums = m.values.filter((v) => v.metricName?.endsWith('_sum'));
        const counts = m.values.filter((v) => v.metricName?.endsWith('_count'));
        return [
          { descriptor: descriptor(m.name), aggregationTemporality: cumulative, dataPointType: gauge, dataPoints: quantiles.map((v) => point(v)) } as MetricData,
          { descriptor: descriptor(`${m.name}_sum`), aggregationTemporality: cumulative, dataPointType: sum, isMonotonic: true, dataPoints: sums.map((v) => point(v)) } as MetricData,
          { descriptor: descriptor(`${m.name}_count`), aggregationTemporality: cumulative, dataPointType: sum, isMonotonic: true, dataPoints: counts.map((v) => point(v)) } as MetricData,
        ].filter((d) => d.dataPoints.length);
      }
      default:
        return [];
    }
  }
}
