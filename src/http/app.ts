import Koa from 'koa';
import { pipeline, Readable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import type { MetricsRegistry } from '../metrics/registry.js';
import { VERSION } from '../version.js';
import { REQUESTED_SWEEP_GAP_MS, type RunRequest } from '../monitor/scheduler.js';
import type { BasicAuth } from './basic-auth.js';
import { renderLandingPage } from './landing.js';
import { crossSiteRefusal } from './lifecycle.js';
import type { DeviceView, EventView, InterfaceView } from './views.js';

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
  interfaces: () => InterfaceView[];
  devices: () => DeviceView[];
  /** `warning`: the store could not be read and the events are those held in memory. */
  events: (limit: number) => { events: EventView[]; warning?: string };
  reload: () => Promise<{ ok: boolean; error?: string }>;
  requestSweep: (iface?: string) => { ok: true; sweeps: ({ interface: string } & RunRequest)[] } | { ok: false; error: string };
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
        ctx.type = 'html';
        ctx.body = renderLandingPage({ version: VERSION, telemetryPath: deps.telemetryPath, interfaces: deps.interfaces(), devices: deps.devices() });
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
        ctx.status = 404;
        ctx.body = 'Not found\n';
    }
  });
  return app;
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
