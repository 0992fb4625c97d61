// The HTTP app's guards over real HTTP: the lifecycle endpoints (off unless enabled, never for
// another site's page, answered at once), and basic auth's answers (401, 429, 503).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import bcrypt from 'bcryptjs';
import { DeviceFamiliesRenderer } from '../../src/collectors/device-families.js';
import { buildApp, type HttpDeps } from '../../src/http/app.js';
import { AttemptLimiter } from '../../src/http/attempt-limiter.js';
import { BasicAuth } from '../../src/http/basic-auth.js';
import { BcryptWorkers } from '../../src/http/bcrypt-workers.js';
import { crossSiteRefusal } from '../../src/http/lifecycle.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';

interface Calls {
  reloads: number;
  sweeps: (string | undefined)[];
}

async function serve(overrides: Partial<HttpDeps>): Promise<{ port: number; calls: Calls; server: Server }> {
  const calls: Calls = { reloads: 0, sweeps: [] };
  const app = buildApp({
    registry: new MetricsRegistry(new DeviceFamiliesRenderer({ segments: () => [], known: () => new Map() })),
    telemetryPath: '/metrics',
    auth: () => null,
    headers: () => ({}),
    lifecycle: true,
    ready: () => true,
    devices: () => [],
    events: () => ({ events: [] }),
    reload: async () => {
      calls.reloads++;
      return { ok: true };
    },
    requestSweep: (iface) => {
      calls.sweeps.push(iface);
      return { ok: true, sweeps: [{ interface: 'eth0', state: 'queued', startsInMs: 7_200 }] };
    },
    page: {
      assets: () => {
        throw new Error('not used here');
      },
      stream: () => false,
      history: () => {
        throw new Error('not used here');
      },
      device: () => null,
    },
    ...overrides,
  });
  const server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, calls, server };
}

function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));
const started = async (overrides: Partial<HttpDeps>) => {
  const s = await serve(overrides);
  servers.push(s.server);
  return s;
};

describe('lifecycle endpoints', () => {
  it('are off unless --web.enable-lifecycle: 403, and nothing is reloaded or swept', async () => {
    const { port, calls } = await started({ lifecycle: false });
    for (const path of ['/-/reload', '/-/sweep']) {
      const r = await send(port, 'POST', path);
      assert.equal(r.status, 403, path);
      assert.match(r.body, /--web\.enable-lifecycle/);
    }
    assert.equal((await send(port, 'GET', '/-/reload')).status, 405, 'the method is checked first');
    assert.deepEqual(calls, { reloads: 0, sweeps: [] });
  });

  it('a plain POST (curl -X POST) works; /-/sweep answers 202 at once, saying when the sweep starts', async () => {
    const { port, calls } = await started({});
    assert.equal((await send(port, 'POST', '/-/reload')).status, 200);
    const r = await send(port, 'POST', '/-/sweep?interface=eth0');
    assert.equal(r.status, 202);
    assert.equal(r.body, 'eth0: sweep queued; it starts in 8 s (at most one requested sweep per 10 s)\n');
    assert.equal((await send(port, 'POST', '/-/reload', { 'content-type': 'application/json' }, '{}')).status, 200);
    assert.deepEqual(calls, { reloads: 2, sweeps: ['eth0'] });
  });

  it('refuses what a web page in a browser can send: cross-site, cross-origin and simple-form POSTs', async () => {
    const { port, calls } = await started({});
    const host = `127.0.0.1:${port}`;
    const refused: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: `http://${host}.evil.example` },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      { 'content-type': 'Text/Plain; charset=utf-8' },
    ];
    for (const headers of refused) {
      for (const path of ['/-/reload', '/-/sweep']) {
        const r = await send(port, 'POST', path, headers, headers['content-type'] ? 'x=1' : undefined);
        assert.equal(r.status, 403, `${path} ${JSON.stringify(headers)}`);
      }
    }
    assert.deepEqual(calls, { reloads: 0, sweeps: [] });
    // The exporter's own origin (a same-origin page) and a direct navigation are fine.
    assert.equal((await send(port, 'POST', '/-/reload', { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal((await send(port, 'POST', '/-/reload', { 'sec-fetch-site': 'none' })).status, 200);
  });

  it('crossSiteRefusal says why', () => {
    assert.equal(crossSiteRefusal({ host: 'h:1', 'sec-fetch-site': 'cross-site' }), 'cross-site request refused (Sec-Fetch-Site: cross-site)');
    assert.equal(crossSiteRefusal({ host: 'h:1', origin: 'http://x' }), 'cross-origin request refused (Origin does not match Host)');
    assert.equal(crossSiteRefusal({ host: 'h:1', 'content-type': 'text/plain' }), 'Content-Type text/plain refused: send no body (curl -X POST) or a JSON one');
    assert.equal(crossSiteRefusal({ host: 'h:1' }), null);
  });

  it('an unknown interface is 404', async () => {
    const { port } = await started({ requestSweep: (iface) => ({ ok: false, error: `unknown interface "${iface}"` }) });
    const r = await send(port, 'POST', '/-/sweep?interface=nope0');
    assert.equal(r.status, 404);
    assert.equal(r.body, 'unknown interface "nope0"\n');
  });
});

describe('/api/events', () => {
  it('passes on what could not be read, with the events held in memory', async () => {
    const event = { ts: '2026-01-01T00:00:00.000Z', interface: 'eth0', kind: 'new_device', mac: 'aa:bb:cc:dd:ee:ff', ip: null, detail: {} };
    const { port } = await started({ events: () => ({ events: [event], warning: 'cannot read the state store (disk I/O error); showing the 1 most recent events held in memory' }) });
    const r = await send(port, 'GET', '/api/events');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { events: [event], warning: 'cannot read the state store (disk I/O error); showing the 1 most recent events held in memory' });
  });
});

describe('basic auth over HTTP', () => {
  let workers: BcryptWorkers;
  before(() => {
    workers = new BcryptWorkers();
  });
  after(() => workers.close());

  it('401 with a challenge, 429 with Retry-After once an address has used up its attempts, 200 for the cached scrape', async () => {
    const auth = new BasicAuth(new Map([['prometheus', bcrypt.hashSync('s3cret', 4)]]), workers, new AttemptLimiter({ burst: 3, refillMs: 60_000, maxClients: 10 }));
    const { port } = await started({ auth: () => auth, authFailureDelayMs: 50 });
    const basic = (u: string, p: string, scheme = 'Basic') => ({ authorization: `${scheme} ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    assert.equal((await send(port, 'GET', '/metrics', basic('prometheus', 's3cret', 'basic'))).status, 200, 'the scheme in lower case');
    const first = await send(port, 'GET', '/metrics', basic('prometheus', 'wrong'));
    assert.equal(first.status, 401);
    assert.match(String(first.headers['www-authenticate']), /^Basic realm="ghost-hunter"/);
    await send(port, 'GET', '/metrics', basic('prometheus', 'wrong'));
    await send(port, 'GET', '/metrics', basic('prometheus', 'wrong'));
    const limited = await send(port, 'GET', '/metrics', basic('prometheus', 'wrong'));
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal((await send(port, 'GET', '/metrics', basic('prometheus', 's3cret'))).status, 200, 'the good, cached credentials still work from the same address');
    assert.equal((await send(port, 'GET', '/metrics')).status, 401, 'no credentials');
    assert.deepEqual(Object.fromEntries(auth.failures), { invalid: 3, rate_limited: 1, busy: 0 });
  });

  it('refused log-ins are answered after a pause, so one connection tries at most one password per pause', async () => {
    const auth = new BasicAuth(new Map([['prometheus', bcrypt.hashSync('s3cret', 4)]]), workers, new AttemptLimiter({ burst: 1, refillMs: 60_000, maxClients: 10 }));
    const { port } = await started({ auth: () => auth, authFailureDelayMs: 400 });
    const t0 = performance.now();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(port, 'GET', '/metrics', { authorization: `Basic ${Buffer.from(`prometheus:x${i}`).toString('base64')}` })).status);
    const elapsed = performance.now() - t0;
    assert.deepEqual(statuses, [401, 429, 429]);
    assert.ok(elapsed >= 3 * 400 - 5, `each refusal waited for the pause (${elapsed.toFixed(0)} ms for three)`);
  });
});
