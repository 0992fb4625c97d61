import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { buildRegistry } from '../collectors/index.js';
import { buildApp } from '../http/app.js';
import { livePage } from '../http/page.js';
import { deviceViews, eventViews } from '../http/views.js';
import { BasicAuth } from '../http/basic-auth.js';
import { applyTls, checkTlsReload, createServer, listen as listenOn, ListenError } from '../http/servers.js';
import { loadWebConfig, type WebConfig } from '../http/web-config.js';
import { Logger, type LogFormat, type LogLevel } from '../log.js';
import { Monitor } from '../monitor/monitor.js';
import { StoreError } from '../store/store.js';
import { startTelemetry } from '../telemetry.js';
import { VERSION } from '../version.js';
import { UsageError } from './errors.js';

export const DEFAULT_LISTEN_ADDRESS = ':9736';

const HELP = `usage: ghost-hunter [flags]

Prometheus exporter for LAN presence: scheduled ARP sweeps, device inventory, anomaly scores.

  --config.file=FILE             YAML configuration (default: built-in defaults, auto-detected interfaces)
  --config.check                 validate the configuration and exit
  --web.listen-address=ADDR      address to listen on, repeatable (default ${DEFAULT_LISTEN_ADDRESS})
  --web.telemetry-path=PATH      path of the metrics endpoint (default /metrics)
  --web.config.file=FILE         TLS and basic-auth configuration (exporter-toolkit format)
  --web.enable-lifecycle         serve POST /-/reload and /-/sweep (off by default; SIGHUP always reloads)
  --web.disable-exporter-metrics exclude process_* and nodejs_* metrics
  --log.level=LEVEL              debug, info, warn or error (default info)
  --log.format=FORMAT            logfmt or json (default logfmt)
  --otel                         send traces over OTLP (also enabled by OTEL_EXPORTER_OTLP_ENDPOINT)
  --version                      print the version and exit`;

export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[3]) > 65535) throw new UsageError(`--web.listen-address: invalid address "${addr}" (use host:port, :port or [::1]:port)`);
  const host = m[1] ?? m[2];
  return { host: host || undefined, port: Number(m[3]) };
}

/** Start-up errors the user can fix (config, store): one clear line on stderr and exit status 1. */
function fail(err: Error): number {
  process.stderr.write(`ghost-hunter: error: ${err.message}\n`);
  return 1;
}

/** The default command: run the exporter (the presence monitor behind an HTTP server) until SIGTERM or SIGINT. */
export async function runServe(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'config.file': { type: 'string' },
        'config.check': { type: 'boolean' },
        'web.listen-address': { type: 'string', multiple: true },
        'web.telemetry-path': { type: 'string', default: '/metrics' },
        'web.config.file': { type: 'string' },
        'web.enable-lifecycle': { type: 'boolean' },
        'web.disable-exporter-metrics': { type: 'boolean' },
        'log.level': { type: 'string', default: 'info' },
        'log.format': { type: 'string', default: 'logfmt' },
        otel: { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (values.version) {
    process.stdout.write(`ghost-hunter ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  const level = values['log.level'] as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log.level must be debug, info, warn or error, got "${level}"`);
  const format = values['log.format'] as LogFormat;
  if (format !== 'logfmt' && format !== 'json') throw new UsageError(`--log.format must be logfmt or json, got "${format}"`);
  const telemetryPath = values['web.telemetry-path']!;
  if (!telemetryPath.startsWith('/')) throw new UsageError('--web.telemetry-path must start with "/"');
  const listenAddresses = (values['web.listen-address']?.length ? values['web.listen-address'] : [DEFAULT_LISTEN_ADDRESS]).map(parseListenAddress);
  const log = new Logger(level, format);

  const configFile = values['config.file'];
  const webConfigFile = values['web.config.file'];
  let cfg, webConfig: WebConfig | null;
  try {
    cfg = loadConfigFile(configFile);
    webConfig = webConfigFile ? loadWebConfig(webConfigFile) : null;
  } catch (err) {
    if (err instanceof ConfigError) return fail(err);
    throw err;
  }
  if (values['config.check']) {
    process.stdout.write(`${configFile ?? '(built-in defaults)'}: configuration is valid\n`);
    return 0;
  }
  if (process.getuid?.() === 0) log.warn('running as root; only CAP_NET_RAW is needed (see docs/configuration.md, "Running without root")');

  const telemetry = await startTelemetry(cfg, values.otel ?? false, log);
  let monitor: Monitor;
  try {
    monitor = new Monitor(cfg, configFile, log);
  } catch (err) {
    // A corrupt, foreign or unreadable store: one line naming the file, never a fresh empty store.
    if (err instanceof StoreError) {
      await telemetry.shutdown();
      return fail(err);
    }
    throw err;
  }
  const auth = new BasicAuth(webConfig?.users ?? new Map());
  const registry = buildRegistry(monitor, { processMetrics: !values['web.disable-exporter-metrics'], auth });
  telemetry.exportRegistry(registry);
  const page = livePage(monitor, telemetryPath);
  const servers: Server[] = [];
  const app = buildApp({
    registry,
    telemetryPath,
    auth: () => (auth.enabled ? auth : null),
    headers: () => webConfig?.headers ?? {},
    lifecycle: values['web.enable-lifecycle'] ?? false,
    ready: () => monitor.ready(),
    devices: () => deviceViews(monitor),
    events: (limit) => {
      const r = monitor.eventLog(limit);
      return { events: eventViews(r.events), ...(r.warning ? { warning: r.warning } : {}) };
    },
    reload: () => reload(),
    requestSweep: (iface) => monitor.requestSweep(iface),
    page: page.deps,
  });

  /** The config and the web config together: both are checked before either changes. */
  async function reload(): Promise<{ ok: boolean; error?: string }> {
    const checked: { web?: WebConfig } = {};
    const result = await monitor.reloadConfig(() => {
      if (!webConfigFile) return;
      const next = loadWebConfig(webConfigFile);
      const refusal = checkTlsReload(webConfig?.tls, next.tls);
      if (refusal) throw new Error(`${webConfigFile}: ${refusal}; keeping the running TLS settings`);
      checked.web = next;
    });
    if (result.ok && checked.web) {
      webConfig = checked.web;
      auth.setUsers(checked.web.users);
      applyTls(servers, checked.web.tls);
    }
    return result;
  }

  // Bind first: a port in use ends the start-up with one line before a single packet is sent.
  const tls = webConfig?.tls;
  try {
    for (const { host, port } of listenAddresses) {
      const server = createServer(tls, app.callback());
      await listenOn(server, host, port);
      servers.push(server);
      log.info('listening', { address: `${host ?? ''}:${port}`, tls: !!tls, basic_auth: auth.enabled, lifecycle: values['web.enable-lifecycle'] ?? false, telemetry_path: telemetryPath });
    }
  } catch (err) {
    for (const s of servers) s.close();
    page.close();
    await monitor.stop();
    await telemetry.shutdown();
    if (err instanceof ListenError) return fail(err);
    throw err;
  }

  monitor.start();

  return new Promise<number>((resolve) => {
    let stopping = false;
    process.on('SIGHUP', () => void reload());
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      for (const s of servers) s.close();
      page.close();
      for (const s of servers) s.closeAllConnections();
      await monitor.stop();
      await telemetry.shutdown();
      resolve(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
}
