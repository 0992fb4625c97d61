import type { DeviceEvent } from '../inventory/inventory.js';

export interface EventLimits {
  /** Events of one device and kind logged and stored per window... */
  burst: number;
  windowMs: number;
  /** ...for at most this many device/kind pairs at once (the oldest is let go beyond it). */
  maxKeys: number;
}

export const EVENT_LIMITS: EventLimits = { burst: 5, windowMs: 10 * 60_000, maxKeys: 20_000 };

interface Window {
  startMs: number;
  passed: number;
  suppressed: number;
  firstSuppressedMs: number;
  latest: DeviceEvent | null;
}

/**
 * Rate-limits events per device and kind, for every kind (it knows none by name): in each window
 * the first `burst` events pass; the rest are counted, and when the window ends the latest of them
 * passes once more as a summary with `detail.suppressed` (how many) and `suppressed_since`.
 * One MAC flipping between two IPs thousands of times a second then costs a few log lines and
 * rows, not thousands, and nothing is lost from the counts.
 */
export class EventLimiter {
  private readonly windows = new Map<string, Window>();
  /** Summaries of windows let go early (maxKeys), handed out by the next due()/drain(). */
  private ready: DeviceEvent[] = [];
  /** Events not logged or stored individually, by kind. */
  readonly suppressed = new Map<string, number>();

  constructor(private readonly limits: EventLimits = EVENT_LIMITS) {}

  get size(): number {
    return this.windows.size;
  }

  /** The events to log and store now. */
  admit(events: readonly DeviceEvent[], nowMs: number): DeviceEvent[] {
    const out: DeviceEvent[] = [];
    for (const e of events) {
      const key = `${e.kind}|${e.mac ?? `ip:${e.ip ?? ''}`}`;
      let w = this.windows.get(key);
      if (w && nowMs - w.startMs >= this.limits.windowMs) {
        this.close(key, w, out);
        w = undefined;
      }
      if (!w) {
        if (this.windows.size >= this.limits.maxKeys) {
          const [oldKey, oldWindow] = this.windows.entries().next().value!;
          this.close(oldKey, oldWindow, this.ready);
        }
        w = { startMs: nowMs, passed: 0, suppressed: 0, firstSuppressedMs: 0, latest: null };
        this.windows.set(key, w);
      }
      if (w.passed < this.limits.burst) {
        w.passed++;
        out.push(e);
        continue;
      }
      if (w.suppressed === 0) w.firstSuppressedMs = e.tsMs;
      w.suppressed++;
      w.latest = e;
      this.suppressed.set(e.kind, (this.suppressed.get(e.kind) ?? 0) + 1);
    }
    return out;
  }

  /** Summaries of the windows that have ended by `nowMs`. */
  due(nowMs: number): DeviceEvent[] {
    const out = this.ready;
    this.ready = [];
    for (const [key, w] of this.windows) if (nowMs - w.startMs >= this.limits.windowMs) this.close(key, w, out);
    return out;
  }

  /** Every pending summary (at shutdown). */
  drain(): DeviceEvent[] {
    return this.due(Infinity);
  }

  private close(key: string, w: Window, out: DeviceEvent[]): void {
    this.windows.delete(key);
    if (!w.latest) return;
    out.push({ ...w.latest, detail: { ...w.latest.detail, suppressed: w.suppressed, suppressed_since: new Date(w.firstSuppressedMs).toISOString() } });
  }
}
