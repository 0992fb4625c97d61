import Koa from 'koa';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import type { MetricsRegistry } from '../metrics/registry.js';
import { REQUESTED_SWEEP_GAP_MS, type RunRequest } from '../monitor/scheduler.js';
import type { BasicAuth } from './basic-auth.js';
import { HISTORY_RANGES, type DeviceDetailView, type HistoryRange, type HistoryView } from './history-views.js';
import { crossSiteRefusal } from './lifecycle.js';
import { PAGE_CSP, type PageAssets } from './page-assets.js';
import type { DeviceView, EventView } from './views.js';

/** A refused log-in is answered after this pause: see the auth middleware. */
export const AUTH_FAILURE_DELAY_MS = 1_000;

export interface HttpDeps {
  registry: MetricsRegistry;
  telemetryPath: string;
  auth: () => BasicAuth | null;
  /** default AUTH_FAILURE_DELAY_MS */
  authFailureDelayMs?: number;
  headers: () => Record<string, string>;
  /** POST /-/reload and /-/sweep are served only with --web.enable-lifecycle (as in Prometheus). */
  lifecycle: boolean;
  ready: () => boolean;
  devices: () => DeviceView[];
  /** `warning`: the store could not be read and the events are those held in memory. */
  events: (limit: number) => { events: EventView[]; warning?: string };
  reload: () => Promise<{ ok: boolean; error?: string }>;
  requestSweep: (iface?: string) => { ok: true; sweeps: ({ interface: string } & RunRequest)[] } | { ok: false; error: string };
  /** The live page (`/`): its files, stream, chart history and device detail. */
  page: {
    /** Throws when the page is not built. */
    assets: () => PageAssets;
    /** Serves an SSE stream on `res`; false when too many are open. */
    stream: (req: IncomingMessage, res: ServerResponse, lastEventId: string | undefined) => boolean;
    history: (range: HistoryRange) => HistoryView;
    device: (iface: string, mac: string) => DeviceDetailView | null;
  };
}

export function buildApp(deps: HttpDeps): Koa {
  const app = new Koa();
  app.silent = true;

  app.use(async (ctx, next) => {
    for (const [k, v] of Object.entries(deps.headers())) ctx.set(k, v);
    const auth = deps.auth();
    if (auth?.enabled) {
      const decision = await auth.check(ctx.get('authorization') || undefined, ctx.socket.remoteAddress ?? '');
      if (!decision.ok) {
        // Answered after a pause: one connection can then try one password a second, and a flood
        // of refused requests (bounded by the connection caps) costs timers instead of CPU.
        await setTimeout(deps.authFailureDelayMs ?? AUTH_FAILURE_DELAY_MS);
        if (decision.retryAfterSeconds) ctx.set('Retry-After', String(decision.retryAfterSeconds));
        if (decision.reason === 'rate_limited') {
          ctx.status = 429;
          ctx.body = 'Too many failed log-ins from this address; try again later\n';
        } else if (decision.reason === 'busy') {
          ctx.status = 503;
          ctx.body = 'Too many log-ins in progress; try again shortly\n';
        } else {
          ctx.status = 401;
          ctx.set('WWW-Authenticate', 'Basic realm="ghost-hunter", charset="UTF-8"');
          ctx.body = 'Unauthorized\n';
        }
        return;
      }
    }
    await next();
  });

  app.use(async (ctx) => {
    const method = ctx.method;
    const route = (methods: string[]) => {
      if (methods.includes(method)) return true;
      ctx.status = 405;
      ctx.set('Allow', methods.join(', '));
      ctx.body = `Method ${method} not allowed; use ${methods.join(' or ')}\n`;
      return false;
    };
    /** The lifecycle endpoints: off unless enabled, and never for another site's page. */
    const lifecycle = (methods: string[]) => {
      if (!route(methods)) return false;
      if (!deps.lifecycle) {
        ctx.status = 403;
        ctx.body = 'Lifecycle API is not enabled (start the exporter with --web.enable-lifecycle)\n';
        return false;
      }
      const refusal = crossSiteRefusal(ctx.headers as Record<string, string | undefined>);
      if (refusal) {
        ctx.status = 403;
        ctx.body = `${refusal}\n`;
        return false;
      }
      return true;
    };
    switch (ctx.path) {
      case deps.telemetryPath: {
        if (!route(['GET', 'HEAD'])) return;
        ctx.set('Content-Type', deps.registry.contentType);
        ctx.vary('Accept-Encoding');
        const parts = await deps.registry.metricsParts();
        const body = Readable.from(parts, { objectMode: false });
        if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
          // Compressed chunk by chunk on libuv's thread pool: a 5 MB scrape does not stall sweeps.
          ctx.set('Content-Encoding', 'gzip');
          ctx.body = pipeline(body, createGzip(), () => {}); // a client hanging up ends the response anyway
        } else {
          ctx.body = body;
          ctx.length = parts.reduce((n, b) => n + b.length, 0);
        }
        return;
      }
      case '/':
        if (!route(['GET', 'HEAD'])) return;
        serveAsset(ctx, deps.page.assets);
        return;
      case '/-/healthy':
        if (!route(['GET', 'HEAD'])) return;
        ctx.body = 'Healthy\n';
        return;
      case '/-/ready':
        if (!route(['GET', 'HEAD'])) return;
        ctx.status = deps.ready() ? 200 : 503;
        ctx.body = deps.ready() ? 'Ready\n' : 'Not ready: first sweep pending\n';
        return;
      case '/-/reload': {
        if (!lifecycle(['POST', 'PUT'])) return;
        const r = await deps.reload();
        ctx.status = r.ok ? 200 : 500;
        ctx.body = r.ok ? 'Reloaded\n' : `Reload failed, keeping the running configuration: ${r.error}\n`;
        return;
      }
      case '/-/sweep': {
        if (!lifecycle(['POST'])) return;
        // Answered at once: the sweep runs in the background (a /16 at the default rate takes minutes).
        const r = deps.requestSweep(typeof ctx.query.interface === 'string' ? ctx.query.interface : undefined);
        if (!r.ok) {
          ctx.status = 404;
          ctx.body = `${r.error}\n`;
          return;
        }
        ctx.status = 202;
        ctx.body = r.sweeps.map((s) => `${s.interface}: ${sweepRequestText(s)}\n`).join('');
        return;
      }
      case '/api/devices':
        if (!route(['GET', 'HEAD'])) return;
        ctx.body = { devices: deps.devices() };
        return;
      case '/api/events': {
        if (!route(['GET', 'HEAD'])) return;
        const limit = Math.min(10_000, Math.max(1, Number(ctx.query.limit) || 100));
        ctx.body = deps.events(limit);
        return;
      }
      case '/api/stream': {
        if (!route(['GET'])) return;
        const lastId = ctx.get('last-event-id') || (typeof ctx.query.last_event_id === 'string' ? ctx.query.last_event_id : undefined);
        if (!deps.page.stream(ctx.req, ctx.res, lastId)) {
          ctx.status = 503;
          ctx.set('Retry-After', '10');
          ctx.body = 'Too many live streams open; try again later\n';
          return;
        }
        ctx.respond = false; // the stream writes the response itself, until either side closes it
        return;
      }
      case '/api/history': {
        if (!route(['GET', 'HEAD'])) return;
        const range = ctx.query.range ?? '24h';
        if (typeof range !== 'string' || !(range in HISTORY_RANGES)) {
          ctx.status = 400;
          ctx.body = `range must be one of ${Object.keys(HISTORY_RANGES).join(', ')}\n`;
          return;
        }
        ctx.body = deps.page.history(range as HistoryRange);
        return;
      }
      case '/api/device': {
        if (!route(['GET', 'HEAD'])) return;
        const { interface: iface, mac } = ctx.query;
        if (typeof iface !== 'string' || typeof mac !== 'string') {
          ctx.status = 400;
          ctx.body = 'interface and mac are required, once each\n';
          return;
        }
        const detail = deps.page.device(iface, mac.toLowerCase());
        if (!detail) {
          ctx.status = 404;
          ctx.body = 'No such device\n';
          return;
        }
        ctx.body = detail;
        return;
      }
      case '/sd':
        if (!route(['GET', 'HEAD'])) return;
        // Prometheus HTTP service discovery: one target group per live host.
        ctx.body = deps
          .devices()
          .filter((d) => d.present && d.ip)
          .map((d) => ({
            targets: [d.ip],
            labels: {
              __meta_ghosthunter_interface: d.interface,
              __meta_ghosthunter_mac: d.mac,
              __meta_ghosthunter_vendor: d.vendor,
              __meta_ghosthunter_name: d.name ?? '',
              __meta_ghosthunter_class: d.class ?? '',
              __meta_ghosthunter_known: String(d.known),
            },
          }));
        return;
      default:
        if (ctx.path.startsWith('/assets/')) {
          if (route(['GET', 'HEAD'])) serveAsset(ctx, deps.page.assets);
          return;
        }
        ctx.status = 404;
        ctx.body = 'Not found\n';
    }
  });
  return app;
}

/** One of the page's files, revalidated by ETag (the files change only with the package). */
function serveAsset(ctx: Koa.Context, load: () => PageAssets): void {
  let assets: PageAssets;
  try {
    assets = load();
  } catch (err) {
    ctx.status = 500;
    ctx.body = `${(err as Error).message}\n`;
    return;
  }
  const asset = assets.get(ctx.path);
  if (!asset) {
    ctx.status = 404;
    ctx.body = 'Not found\n';
    return;
  }
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('ETag', asset.etag);
  ctx.type = asset.type;
  if (ctx.get('if-none-match') === asset.etag) {
    ctx.status = 304;
    return;
  }
  ctx.body = asset.body;
}

function sweepRequestText(r: RunRequest): string {
  const inS = `${Math.ceil(r.startsInMs / 1000)} s`;
  switch (r.state) {
    case 'started':
      return 'sweep started';
    case 'coalesced':
      return r.startsInMs > 0 ? `a sweep is already queued; it starts in ${inS}` : 'a sweep is running; one more follows it';
    case 'queued':
      return `sweep queued; it starts in ${inS} (at most one requested sweep per ${REQUESTED_SWEEP_GAP_MS / 1000} s)`;
    case 'stopped':
      return 'shutting down; no sweep';
  }
}
