// The metrics endpoint over real HTTP: the streamed parts arrive whole and in order, plain (with
// Content-Length) and gzip-compressed, and HEAD sends no body.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Gauge } from 'prom-client';
import { DeviceFamiliesRenderer } from '../../src/collectors/device-families.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { buildApp } from '../../src/http/app.js';
import { Inventory } from '../../src/inventory/inventory.js';

const DEVICES = 3000;
const T0 = Date.UTC(2025, 0, 1);

function inventoryOf(n: number): Inventory {
  const inv = new Inventory('eth0', { absentAfterMs: 60_000, sleepyAbsentAfterMs: 60_000, retentionMs: 3_600_000, maxDevices: n + 1, known: new Map(), gatewayIp: null });
  const mac = (i: number) => `00:16:3e:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  inv.applySweep(Array.from({ length: n }, (_, i) => ({ ip: `198.18.${i >> 8}.${i & 255}`, mac: mac(i), rttMs: 1 + (i % 7) })), T0);
  return inv;
}

function get(port: number, method: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP /metrics', () => {
  let server: Server;
  let port: number;
  let registry: MetricsRegistry;

  before(async () => {
    const segment = { name: 'eth0', inventory: inventoryOf(DEVICES) };
    registry = new MetricsRegistry(new DeviceFamiliesRenderer({ segments: () => [segment], known: () => new Map() }));
    new Gauge({ name: 'ghosthunter_test_gauge', help: 'a prom-client family before the device families', registers: [registry] }).set(42);
    const app = buildApp({
      registry,
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
        assets: () => {
          throw new Error('not used here');
        },
        stream: () => false,
        history: () => {
          throw new Error('not used here');
        },
        device: () => null,
      },
    });
    server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  it('plain: the whole exposition, in order, with a Content-Length', async () => {
    const expected = await registry.metrics();
    const r = await get(port, 'GET');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(r.headers['content-encoding'], undefined);
    assert.equal(Number(r.headers['content-length']), r.body.length);
    assert.equal(r.body.toString(), expected);
    const text = r.body.toString();
    assert.ok(text.indexOf('ghosthunter_test_gauge 42') < text.indexOf('# TYPE ghosthunter_device_present gauge'));
    assert.equal(text.match(/^ghosthunter_device_present\{/gm)?.length, DEVICES);
    assert.equal(text.match(/^ghosthunter_device_rtt_seconds\{/gm)?.length, DEVICES);
  });

  it('gzip: compressed when asked, and the same exposition once decompressed', async () => {
    const r = await get(port, 'GET', { 'accept-encoding': 'gzip' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.match(String(r.headers.vary), /Accept-Encoding/);
    const plain = gunzipSync(r.body).toString();
    assert.equal(plain, await registry.metrics());
    assert.ok(r.body.length * 5 < plain.length, `compressed ${r.body.length} of ${plain.length} bytes`);
  });

  it('HEAD: headers only', async () => {
    const r = await get(port, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(await registry.metrics()));
  });
});
