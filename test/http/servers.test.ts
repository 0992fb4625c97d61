// The listening sockets over loopback: the same timeouts on TLS as on HTTP (the handshake
// included), connection caps per server and per client, TLS settings applied live on a reload,
// and a port in use reported in one line.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { applyTls, checkTlsReload, createServer, listen, ListenError, SERVER_LIMITS, type ServerLimits, type TlsSettings } from '../../src/http/servers.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/tls');
const pem = (name: string) => readFileSync(join(FIXTURES, name));
const tlsA: TlsSettings = { cert: pem('cert-a.pem'), key: pem('key-a.pem'), minVersion: 'TLSv1.2', requestCert: false, rejectUnauthorized: false };
const tlsB: TlsSettings = { ...tlsA, cert: pem('cert-b.pem'), key: pem('key-b.pem') };
const FAST: ServerLimits = { ...SERVER_LIMITS, headersTimeoutMs: 2_000, requestTimeoutMs: 3_000, handshakeTimeoutMs: 600, idleTimeoutMs: 800, checkIntervalMs: 100 };

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(tls: TlsSettings | undefined, limits = FAST): Promise<{ server: Server; port: number }> {
  const server = createServer(tls, (_req, res) => res.end('ok\n'), limits);
  servers.push(server);
  await listen(server, '127.0.0.1', 0);
  return { server, port: (server.address() as AddressInfo).port };
}

/** Resolves when the server closes the socket; fails the test if it is still open after `boundMs`. */
function closedByServer(socket: Socket, boundMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the silent connection open for ${boundMs} ms`));
    }, boundMs);
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const opened = (socket: Socket) => new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));

function handshake(port: number, opts: { maxVersion?: 'TLSv1.2' } = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('createServer: slow and silent clients', () => {
  it('TLS: a client that never starts the handshake is cut off (handshake timeout)', async () => {
    const { port } = await serve(tlsA);
    const s = netConnect(port, '127.0.0.1');
    await opened(s);
    await closedByServer(s);
  });

  it('TLS: a client that completes the handshake and sends nothing is cut off like on plain HTTP', async () => {
    const { port } = await serve(tlsA);
    const s = await handshake(port);
    await closedByServer(s);
  });

  it('plain HTTP: a silent client is cut off', async () => {
    const { port } = await serve(undefined);
    const s = netConnect(port, '127.0.0.1');
    await opened(s);
    await closedByServer(s);
  });

  it('the default limits: 10 s for the head of a request, a TLS handshake and a silent connection', () => {
    assert.equal(SERVER_LIMITS.headersTimeoutMs, 10_000);
    assert.equal(SERVER_LIMITS.handshakeTimeoutMs, 10_000);
    assert.equal(SERVER_LIMITS.idleTimeoutMs, 10_000);
    assert.ok(SERVER_LIMITS.maxConnectionsPerClient < SERVER_LIMITS.maxConnections);
  });
});

describe('createServer: connection caps', () => {
  it('one client address cannot hold more than its share; another address still gets in', async () => {
    const { port } = await serve(tlsA, { ...SERVER_LIMITS, maxConnectionsPerClient: 5, maxConnections: 50 });
    const held = Array.from({ length: 5 }, () => netConnect(port, '127.0.0.1'));
    await Promise.all(held.map(opened));
    const extra = netConnect(port, '127.0.0.1');
    await closedByServer(extra, 5_000);
    const other = await handshake(port).catch(() => null);
    assert.equal(other, null, 'the same address is still at its cap');
    const raw = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    await opened(raw);
    const fromElsewhere = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    assert.ok(fromElsewhere.authorized !== undefined);
    fromElsewhere.destroy();
    held.forEach((s) => s.destroy());
  });

  it('the server as a whole is capped', async () => {
    const { port } = await serve(undefined, { ...SERVER_LIMITS, maxConnections: 4, maxConnectionsPerClient: 100 });
    const held = Array.from({ length: 4 }, () => netConnect(port, '127.0.0.1'));
    await Promise.all(held.map(opened));
    await closedByServer(netConnect(port, '127.0.0.1'), 5_000);
    held.forEach((s) => s.destroy());
  });
});

describe('TLS reload', () => {
  it('a new certificate and key are served to new connections', async () => {
    const { server, port } = await serve(tlsA);
    const before = await handshake(port);
    assert.match(before.getPeerCertificate().subject.CN as string, /test a$/);
    before.destroy();
    assert.equal(checkTlsReload(tlsA, tlsB), null);
    applyTls([server], tlsB);
    const now = await handshake(port);
    assert.match(now.getPeerCertificate().subject.CN as string, /test b$/);
    now.destroy();
  });

  it('a raised min_version is enforced on new connections', async () => {
    const { server, port } = await serve(tlsA);
    (await handshake(port, { maxVersion: 'TLSv1.2' })).destroy();
    applyTls([server], { ...tlsA, minVersion: 'TLSv1.3' });
    await assert.rejects(handshake(port, { maxVersion: 'TLSv1.2' }), /protocol|version/i);
    const s = await handshake(port);
    assert.equal(s.getProtocol(), 'TLSv1.3');
    s.destroy();
  });

  it('what cannot change live is refused with the reason', () => {
    assert.equal(checkTlsReload(undefined, tlsA), 'switching TLS on needs a restart');
    assert.equal(checkTlsReload(tlsA, undefined), 'switching TLS off needs a restart');
    assert.equal(checkTlsReload(tlsA, { ...tlsA, requestCert: true, rejectUnauthorized: true }), 'changing tls_server_config.client_auth_type needs a restart');
  });
});

describe('listen', () => {
  it('a port in use is one line naming the address', async () => {
    const { port } = await serve(undefined);
    const second = createServer(undefined, () => {});
    await assert.rejects(listen(second, '127.0.0.1', port), (err: Error) => err instanceof ListenError && err.message === `cannot listen on 127.0.0.1:${port}: address already in use (--web.listen-address)`);
  });
});
