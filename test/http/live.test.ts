// The live stream's batching over real HTTP: events go out with their devices whole, a device
// whose only news is its last-seen time goes out as a compact `seen` pair, removals, sweeps and
// anomaly results follow, a flood of events is cut and counted, and a reset re-sends the snapshot.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LiveStream, type LiveSource } from '../../src/http/live.js';
import { DEFAULT_SSE_OPTIONS, SseHub } from '../../src/http/sse.js';
import type { DeviceView } from '../../src/http/views.js';
import type { DeviceEvent } from '../../src/inventory/inventory.js';
import { LiveFeed } from '../../src/monitor/live-feed.js';
import type { AnomalyReadout } from '../../src/monitor/readout.js';
import { openSse, type SseReader } from '../helpers/sse.js';

const T0 = Date.UTC(2026, 0, 1);

function view(mac: string, extra: Partial<DeviceView> = {}): DeviceView {
  return {
    interface: 'eth0', mac, ip: '198.18.0.2', ips: ['198.18.0.2'], vendor: 'Xensource, Inc.', name: null, class: null, known: false, critical: false,
    randomized: false, present: true, first_seen: new Date(T0).toISOString(), last_seen: new Date(T0).toISOString(), rtt_ms: null, ...extra,
  };
}

const event = (kind: DeviceEvent['kind'], mac: string, extra: Partial<DeviceEvent> = {}): DeviceEvent => ({ tsMs: T0, interface: 'eth0', kind, mac, ip: '198.18.0.2', detail: {}, ...extra });

describe('LiveStream', () => {
  const devices = new Map<string, DeviceView>();
  const anomaly = new Map<string, AnomalyReadout>();
  const feed = new LiveFeed();
  const source: LiveSource = {
    version: '1.2.3',
    telemetryPath: '/metrics',
    devices: () => [...devices.values()],
    device: (iface, mac) => (iface === 'eth0' ? devices.get(mac) ?? null : null),
    interfaces: () => [{ name: 'eth0', up: true, lastSuccessMs: T0, lastError: null }],
    recentEvents: () => [{ ts: new Date(T0).toISOString(), interface: 'eth0', kind: 'new_device', mac: 'a', ip: null, detail: {} }],
    anomaly: () => anomaly,
  };
  const stream = new LiveStream(feed, source, new SseHub({ ...DEFAULT_SSE_OPTIONS, heartbeatMs: 60_000 }));
  let server: Server;
  let client: SseReader;

  before(async () => {
    devices.set('a', view('a'));
    devices.set('b', view('b', { ip: '198.18.0.3', ips: ['198.18.0.3'] }));
    server = createServer((req, res) => {
      if (!stream.open(req, res, req.headers['last-event-id'] as string | undefined)) res.writeHead(503).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = await openSse({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/' });
    await client.waitFor('ready');
  });
  after(() => {
    stream.close();
    server.closeAllConnections();
    server.close();
  });

  const since = (n: number) => client.events.slice(n);

  it('starts with hello and a snapshot: reset (interfaces, recent events, anomaly), devices, ready', () => {
    assert.deepEqual(client.events.map((e) => e.event), ['hello', 'reset', 'devices', 'ready']);
    const hello = JSON.parse(client.events[0].data);
    assert.equal(hello.version, '1.2.3');
    assert.equal(hello.metrics_path, '/metrics');
    assert.equal(hello.resumed, false);
    const reset = JSON.parse(client.events[1].data);
    assert.equal(reset.devices_total, 2);
    assert.equal(reset.events.length, 1);
    assert.deepEqual(JSON.parse(client.events[2].data).devices.map((d: DeviceView) => d.mac), ['a', 'b']);
  });

  it('events go out with their devices whole, in one batch', async () => {
    const n = client.events.length;
    devices.set('c', view('c', { ip: '198.18.0.4', ips: ['198.18.0.4'] }));
    feed.publish({ type: 'events', interface: 'eth0', events: [event('new_device', 'c', { ip: '198.18.0.4' })] });
    feed.publish({ type: 'devices', interface: 'eth0', changed: ['c'], removed: [] });
    await client.waitFor('events', 1);
    const batch = since(n);
    assert.deepEqual(batch.map((e) => e.event), ['devices', 'events']);
    assert.deepEqual(JSON.parse(batch[0].data).devices.map((d: DeviceView) => d.mac), ['c']);
    assert.equal(JSON.parse(batch[1].data).events[0].kind, 'new_device');
  });

  it('a last-seen tick goes out as a compact seen pair; a real change as the whole view', async () => {
    devices.set('c', view('c', { ip: '198.18.0.4', ips: ['198.18.0.4'], last_seen: new Date(T0 + 5000).toISOString(), rtt_ms: 0.4 }));
    let n = client.events.length;
    feed.publish({ type: 'devices', interface: 'eth0', changed: ['c'], removed: [] });
    const [seen] = (await client.waitFor('seen', 1)).slice(-1);
    assert.deepEqual(JSON.parse(seen.data), { interface: 'eth0', seen: [['c', T0 + 5000, 0.4]] });
    assert.deepEqual(since(n).map((e) => e.event), ['seen']);
    n = client.events.length;
    devices.set('c', view('c', { ip: '198.18.0.9', ips: ['198.18.0.9', '198.18.0.4'] }));
    feed.publish({ type: 'devices', interface: 'eth0', changed: ['c'], removed: [] });
    await client.waitFor('devices', 3);
    assert.deepEqual(since(n).map((e) => e.event), ['devices']);
  });

  it('removals, sweeps and anomaly results', async () => {
    const n = client.events.length;
    devices.delete('b');
    anomaly.set('eth0', {
      result: { tsSeconds: T0 / 1000, state: 'ready', score: 0.9, threshold: 0.5, anomalous: true, detectors: { new_burst: 0.8, ip_conflict: 0 }, contributions: [{ feature: 'new_cohort', value: 6, weight: 0.7 }], devices: [], features: {} },
      status: { state: 'ready', samples: 300, lastTrainedTsSeconds: null, threshold: 0.5 },
    });
    feed.publish({ type: 'devices', interface: 'eth0', changed: [], removed: ['b'] });
    feed.publish({ type: 'sweep', interface: 'eth0', tsMs: T0 + 9000, present: 2 });
    feed.publish({ type: 'anomaly', interface: 'eth0' });
    await client.waitFor('anomaly');
    const batch = since(n);
    assert.deepEqual(batch.map((e) => e.event), ['removed', 'sweep', 'anomaly']);
    assert.deepEqual(JSON.parse(batch[0].data), { devices: [{ interface: 'eth0', mac: 'b' }] });
    assert.deepEqual(JSON.parse(batch[1].data).points, [{ interface: 'eth0', ts: (T0 + 9000) / 1000, present: 2 }]);
    const a = JSON.parse(batch[2].data).anomaly;
    assert.equal(a.anomalous, true);
    assert.deepEqual(a.detectors, [{ name: 'new_burst', value: 0.8 }]);
    assert.deepEqual(a.top, [{ feature: 'new_cohort', value: 6, weight: 0.7 }]);
  });

  it('a flood of events is cut to the latest 500 and the rest counted', async () => {
    const n = client.events.length;
    const flood = Array.from({ length: 1200 }, (_, i) => event('device_back', 'a', { tsMs: T0 + i }));
    for (let i = 0; i < flood.length; i += 100) feed.publish({ type: 'events', interface: 'eth0', events: flood.slice(i, i + 100) });
    await client.waitFor('events', 2);
    const batch = since(n).filter((e) => e.event === 'events').map((e) => JSON.parse(e.data));
    assert.equal(batch.length, 1);
    assert.equal(batch[0].events.length, 500);
    assert.equal(batch[0].skipped, 700);
    assert.equal(batch[0].events.at(-1).ts, new Date(T0 + 1199).toISOString());
  });

  it('a reset sends every client the snapshot again', async () => {
    const n = client.events.length;
    feed.publish({ type: 'reset' });
    await client.waitFor('ready', 2);
    assert.deepEqual(since(n).map((e) => e.event), ['reset', 'devices', 'ready']);
    assert.deepEqual(JSON.parse(since(n)[1].data).devices.map((d: DeviceView) => d.mac).sort(), ['a', 'c']);
  });
});
