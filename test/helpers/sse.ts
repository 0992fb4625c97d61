// A minimal Server-Sent Events reader for tests: connects over HTTP (a TCP port or a unix socket)
// and collects the messages as they arrive.
import { request, type IncomingMessage, type RequestOptions } from 'node:http';
import { waitUntil } from './wait.js';

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface SseReader {
  status: number;
  headers: IncomingMessage['headers'];
  events: SseEvent[];
  /** the response body for non-stream answers (e.g. 401, 503) */
  body: string;
  closed: boolean;
  res: IncomingMessage;
  close(): void;
  /** Waits until `n` events named `name` arrived (any name when omitted). */
  waitFor(name: string | undefined, n?: number, timeoutMs?: number): Promise<SseEvent[]>;
  json<T>(name: string): T[];
}

export function openSse(opts: RequestOptions): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const req = request({ method: 'GET', ...opts, headers: { accept: 'text/event-stream', ...opts.headers } }, (res) => {
      const events: SseEvent[] = [];
      let buf = '';
      const reader: SseReader = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        body: '',
        closed: false,
        res,
        close: () => req.destroy(),
        waitFor: (name, n = 1, timeoutMs = 10_000) =>
          waitUntil(`${n} SSE event(s) ${name ?? ''}`, () => {
            const got = events.filter((e) => !name || e.event === name);
            return got.length >= n ? got : undefined;
          }, timeoutMs, { everyMs: 20 }),
        json: <T>(name: string) => events.filter((e) => e.event === name).map((e) => JSON.parse(e.data) as T),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        reader.body += res.headers['content-type']?.startsWith('text/event-stream') ? '' : chunk;
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: SseEvent = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon === 0) continue;
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') e.id = value;
            else if (field === 'event') e.event = value;
            else if (field === 'data') {
              e.data += (hasData ? '\n' : '') + value;
              hasData = true;
            }
          }
          if (hasData) events.push(e);
        }
      });
      res.on('close', () => (reader.closed = true));
      res.on('error', () => (reader.closed = true));
      resolve(reader);
    });
    req.on('error', reject);
    req.end();
  });
}
