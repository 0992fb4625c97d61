// The listening sockets: plain HTTP or TLS with the same limits on slow and greedy clients, bound
// before anything else starts, and TLS settings applied to running servers on a reload.
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { WebConfig } from './web-config.js';

export type TlsSettings = NonNullable<WebConfig['tls']>;

export interface ServerLimits {
  /** The whole request head must arrive within this (slowloris). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** A TLS client must finish its handshake within this (Node's default is 120 s). */
  handshakeTimeoutMs: number;
  /** A connection with no traffic either way is closed: Node's header timeout only starts with the first byte. */
  idleTimeoutMs: number;
  /** How often Node checks the two request timeouts (its default is every 30 s). */
  checkIntervalMs: number;
  /** Open connections per server, and per client address: file descriptors are shared with the sweeps. */
  maxConnections: number;
  maxConnectionsPerClient: number;
}

export const SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  checkIntervalMs: 1_000,
  maxConnections: 512,
  maxConnectionsPerClient: 64,
};

export class ListenError extends Error {}

/** An HTTP or HTTPS server with the limits applied to both the same way. */
export function createServer(tls: TlsSettings | undefined, handler: RequestListener, limits: ServerLimits = SERVER_LIMITS): Server {
  const server = tls
    ? createHttpsServer(
        {
          connectionsCheckingInterval: limits.checkIntervalMs,
          handshakeTimeout: limits.handshakeTimeoutMs,
          ...secureContextOptions(tls),
          requestCert: tls.requestCert,
          rejectUnauthorized: tls.rejectUnauthorized,
        },
        handler,
      )
    : createHttpServer({ connectionsCheckingInterval: limits.checkIntervalMs }, handler);
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
  server.maxHeadersCount = 100;
  server.maxConnections = limits.maxConnections;
  capConnectionsPerClient(server, limits.maxConnectionsPerClient);
  return server;
}

/** One host cannot take every connection: its extra sockets are closed as they arrive (before any TLS work). */
function capConnectionsPerClient(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? '';
    const n = (open.get(client) ?? 0) + 1;
    if (n > max) {
      socket.destroy();
      return;
    }
    open.set(client, n);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left > 0) open.set(client, left);
      else open.delete(client);
    });
  });
}

function secureContextOptions(tls: TlsSettings) {
  return { cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: tls.minVersion as 'TLSv1.2', maxVersion: tls.maxVersion as 'TLSv1.3' | undefined };
}

/** Binds `server`; a port in use or a bad address becomes one clear line naming the address. */
export function listen(server: Server, host: string | undefined, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const address = `${host?.includes(':') ? `[${host}]` : host ?? ''}:${port}`;
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EADDRNOTAVAIL' ? 'address not available on this host' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new ListenError(`cannot listen on ${address}: ${why} (--web.listen-address)`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Applies reloaded TLS settings to running servers. Certificate, key, client CA and protocol
 * versions change live (new connections get them); switching TLS on or off or changing the client
 * certificate policy needs new servers: that is refused, naming what needs a restart. Call with the
 * settings already validated (loadWebConfig does): then it either applies everything or nothing.
 */
export function checkTlsReload(running: TlsSettings | undefined, next: TlsSettings | undefined): string | null {
  if (!running !== !next) return `switching TLS ${next ? 'on' : 'off'} needs a restart`;
  if (running && next && (running.requestCert !== next.requestCert || running.rejectUnauthorized !== next.rejectUnauthorized)) {
    return 'changing tls_server_config.client_auth_type needs a restart';
  }
  return null;
}

export function applyTls(servers: readonly Server[], tls: TlsSettings | undefined): void {
  if (!tls) return;
  for (const s of servers) (s as unknown as HttpsServer).setSecureContext(secureContextOptions(tls));
}
