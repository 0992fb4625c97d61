import type { PendingWrite, Store } from '../store/store.js';
import type { Logger } from '../log.js';

const MAX_PENDING_EVENTS = 50_000;
const MAX_PENDING_SWEEPS = 5_000;
const MAX_PENDING_SCORES = 5_000;

const deviceKey = (d: { interface: string; mac: string }): string => `${d.interface}|${d.mac}`;

/**
 * Queues writes and commits them in one transaction. When the disk is read-only or full
 * the queue is kept (bounded) and retried on the next flush, so a transient failure loses
 * nothing and a long one loses only the oldest history, never the inventory. Removals are
 * queued only for devices the store holds, so a MAC flood during an outage (each new MAC
 * evicting another) cannot grow the queue beyond the store's own size.
 */
export class Persister {
  private pending: Required<PendingWrite> = { devices: [], removed: [], events: [], sweeps: [], gateways: [], scores: [] };
  writable = true;
  errors = 0;
  lastError: string | null = null;

  /** interface|mac of every device row in the store */
  private readonly stored: Set<string>;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.stored = new Set(store.deviceKeys().map(deviceKey));
  }

  enqueue(w: Partial<PendingWrite>): void {
    const p = this.pending;
    // The store applies upserts before deletes, so the queue keeps only the latest fate of each
    // device: removed-then-seen-again must not delete it, seen-then-removed must not keep it.
    if (w.removed?.length) {
      const gone = new Set(w.removed.map(deviceKey));
      p.devices = p.devices.filter((d) => !gone.has(deviceKey(d)));
      const queued = new Set(p.removed.map(deviceKey));
      for (const r of w.removed) {
        if (queued.has(deviceKey(r)) || !this.stored.has(deviceKey(r))) continue;
        queued.add(deviceKey(r));
        p.removed.push(r);
      }
    }
    if (w.devices?.length) {
      const byKey = new Map(p.devices.map((d) => [deviceKey(d), d]));
      for (const d of w.devices) byKey.set(deviceKey(d), d);
      p.devices = [...byKey.values()];
      const back = new Set(w.devices.map(deviceKey));
      p.removed = p.removed.filter((r) => !back.has(deviceKey(r)));
    }
    if (w.events) p.events.push(...w.events);
    if (w.sweeps) p.sweeps.push(...w.sweeps);
    if (w.scores) p.scores.push(...w.scores);
    if (w.gateways?.length) {
      // Only the latest gateway of each interface matters (one is queued per sweep during an outage).
      const byIface = new Map(p.gateways.map((g) => [g.interface, g]));
      for (const g of w.gateways) byIface.set(g.interface, g);
      p.gateways = [...byIface.values()];
    }
    if (p.events.length > MAX_PENDING_EVENTS) p.events.splice(0, p.events.length - MAX_PENDING_EVENTS);
    if (p.sweeps.length > MAX_PENDING_SWEEPS) p.sweeps.splice(0, p.sweeps.length - MAX_PENDING_SWEEPS);
    if (p.scores.length > MAX_PENDING_SCORES) p.scores.splice(0, p.scores.length - MAX_PENDING_SCORES);
  }

  flush(): boolean {
    const p = this.pending;
    if (!p.devices.length && !p.removed.length && !p.events.length && !p.sweeps.length && !p.gateways.length && !p.scores.length) return true;
    try {
      this.store.write(p);
      for (const d of p.devices) this.stored.add(deviceKey(d));
      for (const r of p.removed) this.stored.delete(deviceKey(r));
      this.pending = { devices: [], removed: [], events: [], sweeps: [], gateways: [], scores: [] };
      if (!this.writable) this.log.info('state store is writable again', { file: this.store.file });
      this.writable = true;
      this.lastError = null;
      return true;
    } catch (err) {
      this.errors++;
      const message = (err as Error).message;
      if (this.writable || message !== this.lastError) {
        // SQLite's own words are terse ("disk I/O error"); its code says which (e.g. SQLITE_IOERR_WRITE, SQLITE_FULL, SQLITE_READONLY).
        const code = (err as { code?: unknown }).code;
        this.log.error('cannot write state store; keeping changes in memory and retrying', { file: this.store.file, err: message, code: typeof code === 'string' ? code : undefined });
      }
      this.writable = false;
      this.lastError = message;
      return false;
    }
  }
}
