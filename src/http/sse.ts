// Server-Sent Events for many followers of one state: every message gets an id "<boot>-<seq>"
// and stays in a bounded ring, so a client that reconnects with Last-Event-ID gets exactly what
// it missed; a client whose id the ring cannot serve (another boot of the exporter, too old,
// none) gets a full snapshot instead. Slow clients are dropped, never buffered without bound.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SseMessage {
  event: string;
  /** one line (JSON.stringify output never contains a raw newline) */
  data: string;
}

export interface SseOptions {
  /** concurrent streams; more are refused (503) */
  maxClients: number;
  /** a heartbeat event this often, so clients (and proxies) can tell a quiet stream from a dead one */
  heartbeatMs: number;
  /** what the resume ring keeps, by count and by size */
  ringMessages: number;
  ringBytes: number;
  /** bytes a client may fall behind (beyond its snapshot) before it is dropped */
  maxLagBytes: number;
  /** the reconnect delay clients are told to use */
  retryMs: number;
}

export const DEFAULT_SSE_OPTIONS: SseOptions = {
  maxClients: 32,
  heartbeatMs: 15_000,
  ringMessages: 5_000,
  ringBytes: 8 * 2 ** 20,
  maxLagBytes: 4 * 2 ** 20,
  retryMs: 2_000,
};

interface Client {
  res: ServerResponse;
  /** the buffered bytes at which the client is dropped */
  limit: number;
}

interface Framed {
  seq: number;
  text: string;
}

const frame = (m: SseMessage, id?: string): string => `${id ? `id: ${id}\n` : ''}event: ${m.event}\ndata: ${m.data}\n\n`;

export class SseHub {
  /** Changes at every start of the exporter: ids of another boot are never resumed. */
  readonly boot = randomBytes(6).toString('hex');
  private seq = 0;
  private ring: Framed[] = [];
  private ringBytes = 0;
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  /** Clients dropped for falling behind, since start. */
  dropped = 0;
  /** Since when nobody follows (epoch ms); null while someone does. */
  emptySinceMs: number | null = Date.now();

  constructor(private readonly opts: SseOptions = DEFAULT_SSE_OPTIONS) {
    this.heartbeat = setInterval(() => this.writeAll(frame({ event: 'heartbeat', data: JSON.stringify({ ts: Date.now() }) })), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get heartbeatMs(): number {
    return this.opts.heartbeatMs;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The id of the latest message. */
  get lastId(): string {
    return `${this.boot}-${this.seq}`;
  }

  /** The messages after `lastEventId`, or null when the ring cannot tell (another boot, too old, malformed). */
  private missedSince(lastEventId: string | undefined): Framed[] | null {
    const m = /^([0-9a-f]{12})-(\d{1,15})$/.exec(lastEventId ?? '');
    if (!m || m[1] !== this.boot) return null;
    const seq = Number(m[2]);
    const floor = this.ring.length ? this.ring[0].seq - 1 : this.seq;
    if (seq < floor || seq > this.seq) return null;
    return this.ring.filter((f) => f.seq > seq);
  }

  /**
   * Serves one stream on `res` until either side closes it: what the client missed since
   * `lastEventId`, else `hello(false)` and the snapshot; then every broadcast. False when the
   * hub is full (nothing was written; the caller answers 503).
   */
  open(req: IncomingMessage, res: ServerResponse, lastEventId: string | undefined, hello: (resumed: boolean) => SseMessage, snapshot: () => SseMessage[]): boolean {
    if (this.clients.size >= this.opts.maxClients) return false;
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 30_000);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    const missed = this.missedSince(lastEventId);
    let text = `retry: ${this.opts.retryMs}\n\n` + frame(hello(missed !== null));
    if (missed) text += missed.map((f) => f.text).join('');
    else text += this.snapshotText(snapshot());
    res.write(text);
    const client: Client = { res, limit: res.writableLength + this.opts.maxLagBytes };
    this.clients.add(client);
    this.emptySinceMs = null;
    res.on('close', () => this.remove(client));
    return true;
  }

  /** A snapshot's messages; only the last carries an id (a client cut off halfway resumes from its earlier id). */
  private snapshotText(messages: SseMessage[]): string {
    return messages.map((m, i) => frame(m, i === messages.length - 1 ? this.lastId : undefined)).join('');
  }

  broadcast(messages: SseMessage[]): void {
    let text = '';
    for (const m of messages) {
      const f = { seq: ++this.seq, text: frame(m, `${this.boot}-${this.seq}`) };
      this.ring.push(f);
      this.ringBytes += f.text.length;
      text += f.text;
    }
    let drop = 0;
    while (this.ring.length > drop + 1 && (this.ring.length - drop > this.opts.ringMessages || this.ringBytes > this.opts.ringBytes)) {
      this.ringBytes -= this.ring[drop].text.length;
      drop++;
    }
    if (drop) this.ring = this.ring.slice(drop);
    if (text) this.writeAll(text);
  }

  /** Everything may have changed: every client gets `snapshot`, and no earlier id can be resumed. */
  reset(snapshot: () => SseMessage[]): void {
    this.forgetHistory();
    if (!this.clients.size) return;
    const text = this.snapshotText(snapshot());
    for (const c of this.clients) c.limit = c.res.writableLength + text.length + this.opts.maxLagBytes;
    this.writeAll(text);
  }

  /** Empties the ring: clients reconnecting later get a snapshot. */
  forgetHistory(): void {
    this.ring = [];
    this.ringBytes = 0;
  }

  private writeAll(text: string): void {
    for (const c of this.clients) {
      c.res.write(text);
      if (c.res.writableLength > c.limit) {
        // Too far behind: drop it. Its EventSource reconnects and resumes or gets a snapshot.
        this.dropped++;
        this.remove(c);
        c.res.destroy();
      }
    }
  }

  private remove(c: Client): void {
    if (this.clients.delete(c) && !this.clients.size) this.emptySinceMs = Date.now();
  }

  /** Ends every stream (shutdown). */
  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.emptySinceMs = Date.now();
  }
}
