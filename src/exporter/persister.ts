import type { PendingWrite, Store } from '../store/store.js';
import type { Logger } from '../log.js';

const MAX_PENDING_EVENTS = 50_000;
const MAX_PENDING_SWEEPS = 5_000;

/**
 * Queues writes and commits them in one transaction. When the disk is read-only or full
 * the queue is kept (bounded) and retried on the next flush, so a transient failure loses
 * nothing and a long one loses only the oldest history, never the inventory.
 */
export class Persister {
  private pending: PendingWrite = { devices: [], removed: [], events: [], sweeps: [], gateways: [] };
  writable = true;
  errors = 0;
  lastError: string | null = null;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  enqueue(w: Partial<PendingWrite>): void {
    const p = this.pending;
    if (w.devices) {
      const byKey = new Map(p.devices.map((d) => [`${d.interface}|${d.mac}`, d]));
      for (const d of w.devices) byKey.set(`${d.interface}|${d.mac}`, d);
      p.devices = [...byKey.values()];
    }
    if (w.removed) p.removed.push(...w.removed);
    if (w.events) p.events.push(...w.events);
    if (w.sweeps) p.sweeps.push(...w.sweeps);
    if (w.gateways) p.gateways.push(...w.gateways);
    if (p.events.length > MAX_PENDING_EVENTS) p.events.splice(0, p.events.length - MAX_PENDING_EVENTS);
    if (p.sweeps.length > MAX_PENDING_SWEEPS) p.sweeps.splice(0, p.sweeps.length - MAX_PENDING_SWEEPS);
  }

  flush(): boolean {
    const p = this.pending;
    if (!p.devices.length && !p.removed.length && !p.events.length && !p.sweeps.length && !p.gateways.length) return true;
    try {
      this.store.write(p);
      this.pending = { devices: [], removed: [], events: [], sweeps: [], gateways: [] };
      if (!this.writable) this.log.info('state store is writable again', { file: this.store.file });
      this.writable = true;
      this.lastError = null;
      return true;
    } catch (err) {
      this.errors++;
      const message = (err as Error).message;
      if (this.writable || message !== this.lastError) {
        this.log.error('cannot write state store; keeping changes in memory and retrying', { file: this.store.file, err: message });
      }
      this.writable = false;
      this.lastError = message;
      return false;
    }
  }
}
