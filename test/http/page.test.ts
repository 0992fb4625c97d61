// The live page's routes over real HTTP: its files with a CSP and ETags (and nothing else from
// disk), the stream's cap, the history's range and the device detail's parameters.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceFamiliesRenderer } from '../../src/collectors/device-families.js';
import { buildApp } from '../../src/http/app.js';
import { PAGE_CSP, PageAssets } from '../../src/http/page-assets.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('live page routes', () => {
  let server: Server;
  let port: number;
  let web: string;
  const asked: { history: string[]; device: [string, string][] } = { history: [], device: [] };

  before(async () => {
    web = mkdtempSync(join(tmpdir(), 'gh-web-'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(web, 'main.js'), 'export {};');
    writeFileSync(join(web, 'notes.txt'), 'not served');
    const assets = PageAssets.load(web);
    const app = buildApp({
      registry: new MetricsRegistry(new DeviceFamiliesRenderer({ segments: () => [], known: () => new Map() })),
      telemetryPath: '/metrics',
      auth: () => null,
      headers: () => ({}),
      lifecycle: false,
      ready: () => true,
      devices: () => [],
      events: () => ({ events: [] }),
      reload: async () => ({ ok: true }),
      requestSweep: () => ({ ok: true, sweeps: [] }),
      page: {
        assets: () => assets,
        stream: () => false, // full
        history: (range) => {
          asked.history.push(range);
          return { range, from: 0, to: 1, bucket_seconds: 1, presence: {}, anomaly: {} };
        },
        device: (iface, mac) => {
          asked.device.push([iface, mac]);
          return null;
        },
      },
    });
    server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    rmSync(web, { recursive: true, force: true });
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('serves the page and its files with a CSP without unsafe-inline, and revalidates by ETag', async () => {
    const page = await get(port, '/');
    assert.equal(page.status, 200);
    assert.equal(page.body, '<!doctype html><title>page</title>');
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.headers['content-security-policy'], PAGE_CSP);
    assert.doesNotMatch(PAGE_CSP, /unsafe/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const js = await get(port, '/assets/main.js');
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal((await get(port, '/assets/main.js', { 'if-none-match': String(js.headers.etag) })).status, 304);
    const uplot = await get(port, '/assets/vendor/uplot.js');
    assert.equal(uplot.status, 200);
    assert.match(uplot.body, /export \{ uPlot as default \}|export default/);
    assert.equal((await get(port, '/assets/vendor/uplot.css')).status, 200);
  });

  it('nothing else: unknown names, other extensions, path tricks and other methods', async () => {
    for (const path of ['/assets/notes.txt', '/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/index.html', '/assets/', '/index.html']) {
      assert.equal((await get(port, path)).status, 404, path);
    }
    assert.equal((await get(port, '/assets/main.js', {}, 'POST')).status, 405);
    assert.equal((await get(port, '/', {}, 'DELETE')).status, 405);
  });

  it('a page that is not built says so', () => {
    assert.throws(() => PageAssets.load(join(web, 'missing')), /not built .*npm run build/);
  });

  it('the stream answers 503 with Retry-After when full, and only to GET', async () => {
    const r = await get(port, '/api/stream');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '10');
    assert.equal((await get(port, '/api/stream', {}, 'POST')).status, 405);
  });

  it('history takes 24h or 7d; device detail needs interface and mac', async () => {
    assert.equal((await get(port, '/api/history')).status, 200);
    assert.equal((await get(port, '/api/history?range=7d')).status, 200);
    assert.deepEqual(asked.history, ['24h', '7d']);
    assert.equal((await get(port, '/api/history?range=1y')).status, 400);
    assert.equal((await get(port, '/api/history?range=7d&range=24h')).status, 400);
    assert.equal((await get(port, '/api/device?interface=eth0')).status, 400);
    assert.equal((await get(port, '/api/device?interface=eth0&mac=AA:BB:CC:DD:EE:FF')).status, 404);
    assert.deepEqual(asked.device, [['eth0', 'aa:bb:cc:dd:ee:ff']]);
  });
});
