// The page's connection to /api/stream. EventSource reconnects by itself after a dropped
// connection and sends Last-Event-ID, so the exporter replays what was missed (or, after its
// restart, sends a fresh snapshot). When EventSource gives up (an HTTP error such as 503, or the
// exporter down for long) or the stream goes silent past its heartbeats, this reconnects itself,
// with backoff, passing the last id in the query.

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export interface StreamHandlers {
  /** named server events with their parsed JSON */
  message(event: string, data: unknown): void;
  state(state: StreamState): void;
}

const EVENTS = ['hello', 'reset', 'devices', 'ready', 'removed', 'seen', 'events', 'sweep', 'anomaly', 'heartbeat'];

export class LiveConnection {
  private es: EventSource | null = null;
  private lastId = '';
  private heartbeatMs = 15_000;
  private watchdog: number | undefined;
  private retry: number | undefined;
  private backoffMs = 1000;

  constructor(
    private readonly url: string,
    private readonly on: StreamHandlers,
  ) {}

  start(): void {
    this.open();
  }

  private open(): void {
    this.on.state(this.lastId ? 'reconnecting' : 'connecting');
    const url = this.lastId ? `${this.url}?last_event_id=${encodeURIComponent(this.lastId)}` : this.url;
    const es = new EventSource(url);
    this.es = es;
    for (const name of EVENTS) {
      es.addEventListener(name, (ev) => {
        const m = ev as MessageEvent<string>;
        if (m.lastEventId) this.lastId = m.lastEventId;
        this.alive();
        if (name === 'hello') {
          const hello = JSON.parse(m.data) as { heartbeat_ms?: number };
          if (hello.heartbeat_ms) this.heartbeatMs = hello.heartbeat_ms;
          this.backoffMs = 1000;
          this.on.state('live');
        }
        this.on.message(name, JSON.parse(m.data));
      });
    }
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) this.reconnectLater();
      else this.on.state('reconnecting'); // EventSource retries by itself
    };
    this.alive();
  }

  /** Restarts the silence watchdog: three heartbeats missed means the connection is dead. */
  private alive(): void {
    clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => this.reconnectLater(), this.heartbeatMs * 3);
  }

  private reconnectLater(): void {
    this.es?.close();
    this.es = null;
    clearTimeout(this.watchdog);
    clearTimeout(this.retry);
    this.on.state('reconnecting');
    this.retry = window.setTimeout(() => this.open(), this.backoffMs);
    this.backoffMs = Math.min(30_000, this.backoffMs * 2);
  }
}
