// OpenTelemetry: traces of our own work over OTLP. The SDK's NodeSDK does the OTLP work and reads
// the standard OTEL_* variables itself (exporter selection, protocol, endpoints, headers, timeouts,
// batching, sampling, resource); this module decides whether to load it at all, maps our config
// keys onto it, routes its diagnostics into our log, puts trace ids into log lines, adds the
// optional push of the /metrics registry and bounds the flush at shutdown.
import { diag, DiagLogLevel, isSpanContextValid, trace, type DiagLogger } from '@opentelemetry/api';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import { setLogContextProvider, type Logger } from './log.js';
import { PromBridge } from './metrics/otlp-bridge.js';
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

/** Our default where the specification's is http/protobuf (every collector accepts both). */
const DEFAULT_PROTOCOL = 'http/json';

/** OTEL_SDK_DISABLED as the SDK reads it: trimmed, case-insensitive "true". */
function envTrue(v: string | undefined): boolean {
  return v?.trim().toLowerCase() === 'true';
}

function envList(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/**
 * Tracing is on when the config (telemetry.otlp) or flag asks for it, or a standard OTLP endpoint
 * variable is set; otherwise the SDK is not even loaded. telemetry.otlp_endpoint alone only says
 * where, so `otlp: false` with an endpoint filled in (as in the annotated config of docs/configuration.md) stays off.
 */
export function telemetryWanted(cfg: Config, flag: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (envTrue(env.OTEL_SDK_DISABLED)) return false;
  if (envList(env.OTEL_TRACES_EXPORTER)[0] === 'none') return false;
  return flag || cfg.telemetry.otlp || !!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
}

/**
 * Our settings as the OTEL_* variables the SDK and its exporters read (a value of undefined
 * removes the variable): telemetry.otlp_endpoint becomes OTEL_EXPORTER_OTLP_ENDPOINT and takes
 * precedence over the per-signal endpoint variables, and without any protocol variable the
 * protocol is http/json. Everything else is the user's environment, read by the SDK.
 */
export function sdkEnvironment(cfg: Config, env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const endpoint = cfg.telemetry.otlp_endpoint;
  if (endpoint) {
    out.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    out.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = undefined;
    out.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT = undefined;
  }
  if (!env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim()) out.OTEL_EXPORTER_OTLP_PROTOCOL = DEFAULT_PROTOCOL;
  return out;
}

/** The OTLP protocol of a signal as the SDK chooses it from the (mapped) environment. */
function protocolOf(signal: 'TRACES' | 'METRICS'): string {
  return (process.env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? DEFAULT_PROTOCOL).trim();
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

/**
 * The OTLP metric exporter for the pushed registry. NodeSDK builds its own metric readers from the
 * environment but has no way to add our registry to them, so the reader is ours; the exporter
 * still reads its endpoint, headers and timeout from the environment.
 */
async function metricExporter(): Promise<PushMetricExporter> {
  const protocol = protocolOf('METRICS');
  switch (protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
    default:
      if (protocol !== 'http/protobuf') diag.warn(`Unsupported OTLP metrics protocol: "${protocol}". Using http/protobuf.`);
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter();
  }
}

/**
 * Starts the OpenTelemetry SDK with its OTLP trace exporter. Imported lazily: with tracing off the
 * SDK is never loaded and the API's no-op tracer costs nothing. Metrics stay on prom-client; an
 * OTLP metric reader exists only with telemetry.otlp_metrics, and OTel logs are never exported
 * (OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER are not consulted).
 */
export async function startTelemetry(cfg: Config, flag: boolean, log: Logger): Promise<Telemetry> {
  if (!telemetryWanted(cfg, flag)) {
    if (envTrue(process.env.OTEL_SDK_DISABLED) && (flag || cfg.telemetry.otlp)) log.debug('OpenTelemetry disabled by OTEL_SDK_DISABLED');
    return { enabled: false, exportRegistry: () => {}, shutdown: async () => {} };
  }
  diagToLog(log);
  for (const [name, value] of Object.entries(sdkEnvironment(cfg))) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const { NodeSDK, metrics, resources } = await import('@opentelemetry/sdk-node');
  const bridge = new PromBridge({ cumulative: metrics.AggregationTemporality.CUMULATIVE, sum: metrics.DataPointType.SUM, gauge: metrics.DataPointType.GAUGE, histogram: metrics.DataPointType.HISTOGRAM });
  const metricReaders = [];
  if (cfg.telemetry.otlp_metrics) {
    const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL);
    metricReaders.push(
      new metrics.PeriodicExportingMetricReader({
        exporter: await metricExporter(),
        exportIntervalMillis: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
        metricProducers: [bridge],
      }),
    );
  }
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still override these (env detector).
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ 'service.name': 'ghost-hunter', 'service.version': VERSION })),
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
    endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'default',
    protocol: protocolOf('TRACES'),
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
