import { diag, DiagLogLevel, isSpanContextValid, trace, type DiagLogger } from '@opentelemetry/api';
import type { Config } from './config/schema.js';
import { setLogContextProvider, type Logger } from './log.js';
import { VERSION } from './version.js';

export interface Telemetry {
  enabled: boolean;
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

/** Tracing is on when the config or flag asks for it, or a standard OTLP endpoint variable is set. */
export function telemetryWanted(cfg: Config, flag: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (envTrue(env.OTEL_SDK_DISABLED)) return false;
  if (envList(env.OTEL_TRACES_EXPORTER)[0] === 'none') return false;
  return flag || cfg.telemetry.otlp || !!cfg.telemetry.otlp_endpoint || !!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
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
    return { enabled: false, shutdown: async () => {} };
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
  if (cfg.telemetry.otlp_metrics) {
    const protocol = pick('METRICS');
    const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL);
    metricReaders.push(
      new metrics.PeriodicExportingMetricReader({
        exporter: await metricExporter(protocol, configUrl(endpoint, protocol, '/v1/metrics')),
        exportIntervalMillis: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
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
