// The SSE hub over real HTTP: a snapshot for a new client, exact replay after a reconnect with
// Last-Event-ID, a snapshot again when the id is of another boot or too old, heartbeats, the cap
// on streams, and a client that stops reading is dropped instead of buffered without bound.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SSE_OPTIONS, SseHub, type SseMessage, type SseOptions } from '../../src/http/sse.js';
import { openSse, type SseReader } from '../helpers/sse.js';
import { waitUntil } from '../helpers/wait.js';

interface Harness {
  hub: SseHub;
  port: number;
  server: Server;
  snapshots: number;
  connect(lastEventId?: string): Promise<SseReader>;
}

const servers: Server[] = [];
const hubs: SseHub[] = [];
after(() => {
  for (const h of hubs) h.close();
  for (const s of servers) s.closeAllConnections();
  return Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function harness(opts: Partial<SseOptions> = {}): Promise<Harness> {
  const hub = new SseHub({ ...DEFAULT_SSE_OPTIONS, ...opts });
  hubs.push(hub);
  const h = { hub, snapshots: 0 } as Harness;
  const snapshot = (): SseMessage[] => {
    h.snapshots++;
    return [
      { event: 'reset', data: '{}' },
      { event: 'devices', data: JSON.stringify({ n: h.snapshots }) },
      { event: 'ready', data: '{}' },
    ];
  };
  const server = createServer({ connectionsCheckingInterval: 200 }, (req, res) => {
    const id = (req.headers['last-event-id'] as string | undefined) ?? undefined;
    if (!hub.open(req, res, id, (resumed) => ({ event: 'hello', data: JSON.stringify({ resumed }) }), snapshot)) {
      res.writeHead(503).end('full\n');
    }
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  h.server = server;
  h.port = (server.address() as AddressInfo).port;
  h.connect = (lastEventId) => openSse({ host: '127.0.0.1', port: h.port, path: '/', headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
  return h;
}

const msg = (event: string, n: number): SseMessage => ({ event, data: JSON.stringify({ n }) });
const lastId = (r: SseReader) => r.events.filter((e) => e.id).at(-1)?.id;

describe('SseHub', () => {
  it('a new client gets hello, the snapshot (only its last message has an id), then the broadcasts', async () => {
    const h = await harness();
    h.hub.broadcast([msg('before', 1)]);
    const c = await h.connect();
    assert.equal(c.status, 200);
    assert.match(String(c.headers['content-type']), /^text\/event-stream/);
    assert.equal(c.headers['cache-control'], 'no-cache, no-transform');
    await c.waitFor('ready');
    assert.deepEqual(c.events.map((e) => e.event), ['hello', 'reset', 'devices', 'ready']);
    assert.deepEqual(JSON.parse(c.events[0].data), { resumed: false });
    assert.deepEqual(c.events.map((e) => e.id), [undefined, undefined, undefined, `${h.hub.boot}-1`]);
    h.hub.broadcast([msg('a', 2), msg('b', 3)]);
    await c.waitFor('b');
    assert.deepEqual(c.events.slice(4).map((e) => [e.event, e.id]), [
      ['a', `${h.hub.boot}-2`],
      ['b', `${h.hub.boot}-3`],
    ]);
    c.close();
  });

  it('a reconnect with Last-Event-ID gets exactly what it missed, without a snapshot', async () => {
    const h = await harness();
    const c = await h.connect();
    h.hub.broadcast([msg('a', 1)]);
    await c.waitFor('a');
    const id = lastId(c)!;
    c.close();
    h.hub.broadcast([msg('missed', 2), msg('missed', 3)]);
    const snapshots = h.snapshots;
    const again = await h.connect(id);
    await again.waitFor('missed', 2);
    assert.deepEqual(JSON.parse(again.events[0].data), { resumed: true });
    assert.deepEqual(again.json<{ n: number }>('missed').map((m) => m.n), [2, 3]);
    assert.equal(again.events.filter((e) => e.event === 'reset').length, 0);
    assert.equal(h.snapshots, snapshots);
    // nothing missed: hello only
    const id2 = lastId(again)!;
    again.close();
    const third = await h.connect(id2);
    await third.waitFor('hello');
    h.hub.broadcast([msg('next', 4)]);
    await third.waitFor('next');
    assert.deepEqual(third.events.map((e) => e.event), ['hello', 'next']);
    third.close();
  });

  it('an id of another boot, a malformed one, one from the future or one older than the ring gets a snapshot', async () => {
    const h = await harness({ ringMessages: 3 });
    h.hub.broadcast([msg('a', 1), msg('a', 2), msg('a', 3), msg('a', 4), msg('a', 5)]);
    for (const id of ['0123456789ab-3', 'garbage', `${h.hub.boot}-99`, `${h.hub.boot}-1`]) {
      const c = await h.connect(id);
      await c.waitFor('ready');
      assert.deepEqual(JSON.parse(c.events[0].data), { resumed: false }, id);
      assert.equal(c.events.filter((e) => e.event === 'a').length, 0, id);
      c.close();
    }
    // the oldest id the ring can still serve
    const c = await h.connect(`${h.hub.boot}-2`);
    await c.waitFor('a', 3);
    assert.deepEqual(c.json<{ n: number }>('a').map((m) => m.n), [3, 4, 5]);
    c.close();
  });

  it('reset sends every client a snapshot and makes earlier ids unresumable', async () => {
    const h = await harness();
    const c = await h.connect();
    h.hub.broadcast([msg('a', 1)]);
    await c.waitFor('a');
    const before = lastId(c)!;
    h.hub.reset(() => [msg('reset', 0), msg('ready', 0)]);
    await c.waitFor('ready', 2);
    assert.equal(lastId(c), `${h.hub.boot}-1`);
    c.close();
    h.hub.broadcast([msg('b', 2)]);
    const old = await h.connect(before.replace(/-\d+$/, '-0'));
    await old.waitFor('ready');
    assert.deepEqual(JSON.parse(old.events[0].data), { resumed: false });
    old.close();
    const resumed = await h.connect(before);
    await resumed.waitFor('b');
    assert.deepEqual(JSON.parse(resumed.events[0].data), { resumed: true });
    resumed.close();
  });

  it('sends heartbeats without ids', async () => {
    const h = await harness({ heartbeatMs: 50 });
    const c = await h.connect();
    const beats = await c.waitFor('heartbeat', 2);
    assert.ok(beats.every((b) => b.id === undefined && typeof JSON.parse(b.data).ts === 'number'));
    c.close();
  });

  it("outlives the server's request timeout (it bounds receiving a request, not a long response)", async () => {
    const h = await harness({ heartbeatMs: 60_000 });
    h.server.requestTimeout = 1000;
    h.server.headersTimeout = 1000;
    const c = await h.connect();
    await c.waitFor('ready');
    await new Promise((r) => setTimeout(r, 2500));
    h.hub.broadcast([msg('late', 1)]);
    await c.waitFor('late');
    assert.equal(c.closed, false);
    c.close();
  });

  it('knows since when nobody follows', async () => {
    const h = await harness();
    assert.ok(h.hub.emptySinceMs !== null);
    const c = await h.connect();
    await c.waitFor('ready');
    assert.equal(h.hub.emptySinceMs, null);
    c.close();
    await waitUntil('the stream to close', () => h.hub.emptySinceMs !== null, 5000);
  });

  it('refuses streams beyond the cap and accepts again once one closes', async () => {
    const h = await harness({ maxClients: 2 });
    const a = await h.connect();
    const b = await h.connect();
    await a.waitFor('ready');
    await b.waitFor('ready');
    const c = await h.connect();
    assert.equal(c.status, 503);
    a.close();
    await waitUntil('the closed stream to leave', () => h.hub.clientCount === 1, 5000);
    const d = await h.connect();
    assert.equal(d.status, 200);
    b.close();
    d.close();
  });

  it('drops a client that stops reading once it falls maxLagBytes behind; the others go on', async () => {
    const h = await harness({ maxLagBytes: 256 * 1024 });
    const slow = await h.connect();
    const fast = await h.connect();
    await slow.waitFor('ready');
    await fast.waitFor('ready');
    slow.res.pause(); // stops reading: the kernel buffers fill, then the hub's
    const payload = 'x'.repeat(16 * 1024);
    let sent = 0;
    await waitUntil(
      'the slow client to be dropped',
      async () => {
        h.hub.broadcast([{ event: 'bulk', data: JSON.stringify(payload) }]);
        sent++;
        await new Promise((r) => setImmediate(r));
        return h.hub.dropped === 1 || undefined;
      },
      20_000,
      { everyMs: 1 },
    );
    assert.equal(h.hub.clientCount, 1);
    // kernel socket buffers plus the hub's allowance: far below what was sent
    assert.ok(sent * payload.length > 1024 * 1024, `sent ${sent} messages`);
    await fast.waitFor('bulk', sent);
    fast.close();
  });
});
