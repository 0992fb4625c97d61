import { StoreError, type PendingWrite, type Store, type StoredEvent } from '../store/store.js';
import type { Logger } from '../log.js';

const MAX_PENDING_EVENTS = 50_000;
const MAX_PENDING_SWEEPS = 5_000;
const MAX_PENDING_SCORES = 5_000;
/** Recent events kept in memory: what /api/events serves when the store cannot be read, and what a recreated store gets back. */
const RECENT_EVENTS = 10_000;

/** The full state the monitor holds in memory, to write into a store recreated after a deletion. */
export type MemoryState = () => Pick<PendingWrite, 'devices' | 'gateways'>;

const deviceKey = (d: { interface: string; mac: string }): string => `${d.interface}|${d.mac}`;

/**
 * Queues writes and commits them in one transaction. When the disk is read-only or full
 * the queue is kept (bounded) and retried on the next flush, so a transient failure loses
 * nothing and a long one loses only the oldest history, never the inventory. Removals are
 * queued only for devices the store holds, so a MAC flood during an outage (each new MAC
 * evicting another) cannot grow the queue beyond the store's own size. A store file deleted while
 * running is noticed at the next flush, counted as an error, and recreated from memory.
 */
export class Persister {
  private pending: Required<PendingWrite> = { devices: [], removed: [], events: [], sweeps: [], gateways: [], scores: [] };
  writable = true;
  errors = 0;
  lastError: string | null = null;

  /** interface|mac of every device row in the store */
  private readonly stored: Set<string>;
  /** The last RECENT_EVENTS events enqueued, oldest first (trimmed in batches). */
  private recent: StoredEvent[] = [];

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly memory: MemoryState = () => ({ devices: [], gateways: [] }),
  ) {
    this.stored = new Set(store.deviceKeys().map(deviceKey));
  }

  /** The most recent events, newest first, from memory (whether or not they reached the store). */
  recentEvents(limit: number): StoredEvent[] {
    return this.recent.slice(-limit).reverse();
  }

  /** Events not yet written, newest first. */
  pendingEvents(): StoredEvent[] {
    return [...this.pending.events].reverse();
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
    if (w.events?.length) {
      p.events.push(...w.events);
      this.recent.push(...w.events);
      if (this.recent.length > 2 * RECENT_EVENTS) this.recent = this.recent.slice(-RECENT_EVENTS);
    }
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
      this.followFile();
      this.store.write(this.pending);
      for (const d of this.pending.devices) this.stored.add(deviceKey(d));
      for (const r of this.pending.removed) this.stored.delete(deviceKey(r));
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

  /**
   * The store file deleted under us would swallow every write (SQLite writes on into the unlinked
   * inode): make a new one and queue the whole state held in memory for it. A file replaced by
   * another is opened only if it is a Ghost Hunter store (then it gets the state too).
   */
  private followFile(): void {
    const state = this.store.checkFile();
    if (state === 'ok') return;
    if (state === 'unreachable') {
      this.store.letGo();
      throw new StoreError(`${this.store.file} is gone with the file system it was on; not creating an empty store in its place`);
    }
    if (state === 'deleted') this.store.recreate();
    else this.store.reopen(); // throws for a file that is not ours: the flush fails and keeps everything
    this.errors++;
    this.log.error(`state store was ${state} while running; ${state === 'deleted' ? 'recreating it' : 'writing to the new file'} from the state in memory`, { file: this.store.file });
    this.stored.clear();
    for (const key of this.store.deviceKeys().map(deviceKey)) this.stored.add(key);
    const { devices, gateways } = this.memory();
    this.pending = { devices: [], removed: [], events: [], sweeps: this.pending.sweeps, gateways: [], scores: this.pending.scores };
    this.enqueue({ devices, gateways });
    this.pending.events = this.recent.slice(-RECENT_EVENTS); // the unwritten events are among the recent ones
  }
}
