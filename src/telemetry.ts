import { diag, DiagLogLevel, isSpanContextValid, trace, ValueType, type Attributes, type DiagLogger, type HrTime } from '@opentelemetry/api';
import type { CollectionResult, DataPoint, Histogram, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import { setLogContextProvider, type Logger } from './log.js';
import { VERSION } from './version.js';

export interface Telemetry {
  enabled: boolean;
  /**
   * The prom-client registry whose metrics go out over OTLP when telemetry.otlp_metrics is set
   * (the same values /metrics serves; OTel has no instruments of its own here). No-op otherwise.
   */
  exportRegistry(registry: Registry): void;
  /** Flushes pending spans (bounded by SHUTDOWN_TIMEOUT_MS) and stops the SDK. */
  shutdown(): Promise<void>;
}

/** A SIGTERM must not wait on an unreachable collector for long. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

type Protocol = 'http/json' | 'http/protobuf' | 'grpc';

/** OTEL_SDK_DISABLED as the SDK reads it: trimmed, case-insensitive "true". */
function envTrue(v: string | undefined): boolean {
  return v?.trim().toLowerCase() === 'true';
}

function envList(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/**
 * Tracing is on when the config (telemetry.otlp) or flag asks for it, or a standard OTLP endpoint
 * variable is set. telemetry.otlp_endpoint alone only says where, so `otlp: false` with an
 * endpoint filled in (as in the annotated config of docs/configuration.md) stays off.
 */
export function telemetryWanted(cfg: Config, flag: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (envTrue(env.OTEL_SDK_DISABLED)) return false;
  if (envList(env.OTEL_TRACES_EXPORTER)[0] === 'none') return false;
  return flag || cfg.telemetry.otlp || !!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
}

/**
 * OTLP transport. The standard variables are honoured; unlike the spec's http/protobuf default
 * we default to http/json (the exporter this package depends on directly).
 */
export function otlpProtocol(signal: 'TRACES' | 'METRICS', env: NodeJS.ProcessEnv = process.env): Protocol | { invalid: string } {
  const raw = (env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim();
  if (!raw) return 'http/json';
  if (raw === 'http/json' || raw === 'http/protobuf' || raw === 'grpc') return raw;
  return { invalid: raw };
}

/** Where a signal goes when telemetry.otlp_endpoint is set (it overrides the OTEL_* endpoint variables). */
function configUrl(endpoint: string | undefined, protocol: Protocol, path: string): string | undefined {
  if (!endpoint) return undefined;
  const base = endpoint.replace(/\/+$/, '');
  return protocol === 'grpc' ? base : `${base}${path}`;
}

/**
 * Routes the SDK's own diagnostics (export failures, bad variables) into our log at warn level,
 * identical messages at most once a minute. OTEL_LOG_LEVEL keeps the SDK's console logger instead.
 */
function diagToLog(log: Logger): void {
  if (process.env.OTEL_LOG_LEVEL) return;
  let last = '';
  let lastTs = 0;
  const warn = (msg: string, ...args: unknown[]) => {
    const text = [msg, ...args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)))].join(' ');
    const now = Date.now();
    if (text === last && now - lastTs < 60_000) return;
    last = text;
    lastTs = now;
    log.warn('opentelemetry', { component: 'otel', err: text });
  };
  const noop = () => {};
  const logger: DiagLogger = { error: warn, warn, info: noop, debug: noop, verbose: noop };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

async function traceExporter(protocol: Protocol, url: string | undefined) {
  const opts = url ? { url } : {};
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(opts);
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter(opts);
    default:
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(opts);
  }
}

async function metricExporter(protocol: Protocol, url: string | undefined) {
  const opts = url ? { url } : {};
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter(opts);
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter(opts);
    default:
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter(opts);
  }
}

/**
 * Starts the OpenTelemetry SDK with an OTLP trace exporter. Imported lazily: with tracing off
 * the SDK is never loaded and the API's no-op tracer costs nothing.
 * Metrics stay on prom-client; an OTLP metric reader exists only with telemetry.otlp_metrics,
 * and OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER are not consulted.
 */
export async function startTelemetry(cfg: Config, flag: boolean, log: Logger): Promise<Telemetry> {
  if (!telemetryWanted(cfg, flag)) {
    if (envTrue(process.env.OTEL_SDK_DISABLED) && (flag || cfg.telemetry.otlp)) log.debug('OpenTelemetry disabled by OTEL_SDK_DISABLED');
    return { enabled: false, exportRegistry: () => {}, shutdown: async () => {} };
  }
  diagToLog(log);
  const endpoint = cfg.telemetry.otlp_endpoint;
  const pick = (signal: 'TRACES' | 'METRICS'): Protocol => {
    const p = otlpProtocol(signal);
    if (typeof p === 'string') return p;
    log.warn('unsupported OTLP protocol, using http/json', { protocol: p.invalid });
    return 'http/json';
  };
  const tracesProtocol = pick('TRACES');
  const [{ NodeSDK, metrics }, { defaultResource, resourceFromAttributes }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/resources')]);
  const metricReaders = [];
  const bridge = new PromBridge({ cumulative: metrics.AggregationTemporality.CUMULATIVE, sum: metrics.DataPointType.SUM, gauge: metrics.DataPointType.GAUGE, histogram: metrics.DataPointType.HISTOGRAM });
  if (cfg.telemetry.otlp_metrics) {
    const protocol = pick('METRICS');
    const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL);
    metricReaders.push(
      new metrics.PeriodicExportingMetricReader({
        exporter: await metricExporter(protocol, configUrl(endpoint, protocol, '/v1/metrics')),
        exportIntervalMillis: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
        metricProducers: [bridge],
      }),
    );
  }
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still override these (env detector).
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': 'ghost-hunter', 'service.version': VERSION })),
    traceExporter: await traceExporter(tracesProtocol, configUrl(endpoint, tracesProtocol, '/v1/traces')),
    metricReaders,
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  setLogContextProvider(() => {
    const ctx = trace.getActiveSpan()?.spanContext();
    return ctx && isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : undefined;
  });
  log.info('OpenTelemetry tracing enabled', {
    endpoint: endpoint ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'default',
    protocol: tracesProtocol,
    metrics: cfg.telemetry.otlp_metrics,
  });
  let done: Promise<void> | null = null;
  return {
    enabled: true,
    exportRegistry: (registry) => {
      bridge.registry = registry;
    },
    shutdown: () =>
      (done ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), SHUTDOWN_TIMEOUT_MS);
          timer.unref();
        });
        try {
          const r = await Promise.race([sdk.shutdown().then(() => 'ok' as const), timeout]);
          if (r === 'timeout') log.warn('flushing traces timed out', { timeout_seconds: SHUTDOWN_TIMEOUT_MS / 1000 });
        } catch (err) {
          log.warn('flushing traces failed', { err: (err as Error).message });
        } finally {
          clearTimeout(timer);
          setLogContextProvider(() => undefined);
        }
      })()),
  };
}

// ---------- prom-client -> OTLP metrics (telemetry.otlp_metrics) ----------

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
