import { trace } from '@opentelemetry/api';
import type { Config } from './config/schema.js';
import { setLogContextProvider, type Logger } from './log.js';
import { VERSION } from './version.js';

export interface Telemetry {
  enabled: boolean;
  shutdown(): Promise<void>;
}

/** Tracing is on when the config or flag asks for it, or a standard OTLP endpoint variable is set. */
export function telemetryWanted(cfg: Config, flag: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER === 'none') return false;
  return flag || cfg.telemetry.otlp || !!env.OTEL_EXPORTER_OTLP_ENDPOINT || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
}

/**
 * Starts the OpenTelemetry SDK with an OTLP/HTTP trace exporter. Imported lazily: with
 * tracing off the SDK is never loaded and the API's no-op tracer costs nothing.
 * Metrics stay on prom-client; OTLP metrics only when telemetry.otlp_metrics is set.
 */
export async function startTelemetry(cfg: Config, flag: boolean, log: Logger): Promise<Telemetry> {
  if (!telemetryWanted(cfg, flag)) return { enabled: false, shutdown: async () => {} };
  const [{ NodeSDK }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  if (!cfg.telemetry.otlp_metrics) process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const endpoint = cfg.telemetry.otlp_endpoint;
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'ghost-hunter', 'service.version': VERSION }),
    traceExporter: new OTLPTraceExporter(endpoint ? { url: `${endpoint.replace(/\/$/, '')}/v1/traces` } : {}),
    instrumentations: [],
  });
  sdk.start();
  setLogContextProvider(() => {
    const ctx = trace.getActiveSpan()?.spanContext();
    return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : undefined;
  });
  log.info('OpenTelemetry tracing enabled', { endpoint: endpoint ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'default' });
  return {
    enabled: true,
    shutdown: async () => {
      try {
        await sdk.shutdown();
      } catch (err) {
        log.warn('flushing traces failed', { err: (err as Error).message });
      }
    },
  };
}
