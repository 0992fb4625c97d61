import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** 'GHNT' — marks the file as ours so a foreign SQLite file is never silently reused. */
const APPLICATION_ID = 0x47484e54;
const SCHEMA_VERSION = 1;

export class StoreError extends Error {}

export interface StoredDevice {
  interface: string;
  mac: string;
  ips: string[];
  vendor: string;
  randomized: boolean;
  firstSeenMs: number;
  lastSeenMs: number;
  lastRttMs: number | null;
  present: boolean;
  absentSinceMs: number | null;
}

export interface StoredEvent {
  tsMs: number;
  interface: string;
  kind: string;
  mac: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

export interface StoredSweep {
  interface: string;
  tsMs: number;
  durationMs: number;
  ok: boolean;
  devices: { mac: string; ip: string }[];
  /** Devices the inventory counted present after the sweep (the live page's chart); default: those that answered. */
  present?: number;
}

/** One scored sweep of an interface (the live page's anomaly chart). */
export interface StoredScore {
  interface: string;
  tsMs: number;
  score: number | null;
  threshold: number | null;
  anomalous: boolean;
}

/** A time bucket of a history chart: the bucket's last time and its values. */
export interface PresencePoint {
  interface: string;
  tsMs: number;
  /** mean over the bucket's sweeps */
  present: number;
}

export interface ScorePoint {
  interface: string;
  tsMs: number;
  /** highest score of the bucket (peaks matter), the threshold in force at its end */
  score: number;
  threshold: number | null;
  anomalous: boolean;
}

export interface PendingWrite {
  devices: StoredDevice[];
  removed: { interface: string; mac: string }[];
  events: StoredEvent[];
  sweeps: StoredSweep[];
  gateways: { interface: string; ip: string; mac: string }[];
  scores?: StoredScore[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  interface TEXT NOT NULL, mac TEXT NOT NULL, ips TEXT NOT NULL, vendor TEXT NOT NULL,
  randomized INTEGER NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
  last_rtt_ms REAL, present INTEGER NOT NULL, absent_since REAL,
  PRIMARY KEY (interface, mac)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, ts REAL NOT NULL, interface TEXT NOT NULL, kind TEXT NOT NULL,
  mac TEXT, ip TEXT, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS sweeps (
  id INTEGER PRIMARY KEY, interface TEXT NOT NULL, ts REAL NOT NULL, duration_ms REAL NOT NULL,
  ok INTEGER NOT NULL, devices TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sweeps_iface_ts ON sweeps (interface, ts);
CREATE TABLE IF NOT EXISTS gateways (interface TEXT PRIMARY KEY, ip TEXT NOT NULL, mac TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS anomaly_snapshots (interface TEXT PRIMARY KEY, saved_at REAL NOT NULL, meta TEXT NOT NULL, rows BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS events_device ON events (mac, interface, id);
`;

/**
 * The live page's history: a few numbers per sweep, so a week of charts never reads the sweeps'
 * device lists (hundreds of kB each on a large network). Filled from the sweeps table once when created.
 */
const HISTORY_SCHEMA = `
CREATE TABLE sweep_counts (interface TEXT NOT NULL, ts REAL NOT NULL, answered INTEGER NOT NULL, present INTEGER NOT NULL,
  PRIMARY KEY (interface, ts)) WITHOUT ROWID;
INSERT OR IGNORE INTO sweep_counts SELECT interface, ts, json_array_length(devices), json_array_length(devices) FROM sweeps;
CREATE TABLE anomaly_scores (interface TEXT NOT NULL, ts REAL NOT NULL, score REAL, threshold REAL, anomalous INTEGER NOT NULL,
  PRIMARY KEY (interface, ts)) WITHOUT ROWID;
`;

/**
 * The embedded store: inventory, event log and per-sweep history in one SQLite file (WAL).
 * Every write is one transaction, so `kill -9` loses at most the write in flight.
 */
export class Store {
  readonly file: string;
  private db: Database.Database;
  /** Device and inode of the file this store opened: a deletion or replacement shows as a change. */
  private identity: { dev: number; ino: number } | null = null;

  constructor(dir: string) {
    const absDir = resolve(dir);
    this.file = join(absDir, 'ghost-hunter.db');
    try {
      mkdirSync(absDir, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create data directory ${absDir}: ${(err as Error).message}`);
    }
    if (!existsSync(this.file)) this.createFile();
    this.db = this.openDatabase();
  }

  /**
   * A new, empty store, built under a temporary name and renamed into place: an interrupted
   * creation never leaves a half-made (e.g. 0-byte) file at the store's path, so a file there is
   * always either a whole store or something to refuse.
   */
  private createFile(): void {
    const tmp = `${this.file}.new`;
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
    let db: Database.Database | null = null;
    try {
      db = new Database(tmp);
      db.pragma('journal_mode = WAL');
      db.exec(SCHEMA);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.close(); // checkpoints: everything is in the main file now
      renameSync(tmp, this.file);
      const dirFd = openSync(dirname(this.file), 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch (err) {
      if (db?.open) db.close();
      throw new StoreError(`${this.file} cannot be created: ${(err as Error).message}`);
    }
  }

  /**
   * Whether the file this store opened is still at its path: 'deleted' (gone, while the nearest
   * directory above it that still exists is on the same file system: it was removed), 'replaced'
   * (another file is there now), or 'unreachable' (gone with the file system it was on, e.g.
   * unmounted: never recreated, see letGo()).
   */
  checkFile(): 'ok' | 'deleted' | 'replaced' | 'unreachable' {
    if (!this.identity) return 'ok';
    let st;
    try {
      st = statSync(this.file);
    } catch {
      for (let dir = dirname(this.file); ; dir = dirname(dir)) {
        try {
          return statSync(dir).dev === this.identity.dev ? 'deleted' : 'unreachable';
        } catch {
          if (dir === dirname(dir)) return 'unreachable';
        }
      }
    }
    return st.dev === this.identity.dev && st.ino === this.identity.ino ? 'ok' : 'replaced';
  }

  /** After checkFile() said 'deleted': a new, empty store at the path (the caller writes its state again). */
  recreate(): void {
    this.letGo();
    mkdirSync(dirname(this.file), { recursive: true });
    this.createFile();
    this.db = this.openDatabase();
  }

  /** After checkFile() said 'replaced': the new file, if it is a Ghost Hunter store (StoreError if not). */
  reopen(): void {
    this.letGo();
    this.db = this.openDatabase();
  }

  /**
   * Closes the connection to a file no longer at our path (writes into it would be lost). SQLite
   * does not checkpoint into an unlinked file, so its WAL files stay at the path: they belong to
   * the old file and would be replayed into whatever file is opened there next. The next write
   * opens whatever is at the path then, if it is a Ghost Hunter store.
   */
  letGo(): void {
    this.release(this.db);
    if (!this.identity) return;
    for (const f of [`${this.file}-wal`, `${this.file}-shm`]) rmSync(f, { force: true });
    this.identity = null;
  }

  /**
   * Opens and checks the file, which must exist (new stores come from createFile): a vanished
   * file is an error, never a fresh empty store; so is one that is not ours.
   */
  private openDatabase(): Database.Database {
    const existed = existsSync(this.file);
    if (!existed) throw new StoreError(`${this.file} has disappeared; not creating an empty store in its place`);
    let db: Database.Database | null = null;
    try {
      const st = statSync(this.file);
      if (st.isFile() && st.size === 0) throw new StoreError(`${this.file} is empty (0 bytes), so it is no Ghost Hunter store; restore it from a backup or move it away`);
      db = new Database(this.file, { fileMustExist: true });
      db.pragma('busy_timeout = 2000');
      // Identify the file before changing anything in it (journal_mode = WAL rewrites the header).
      const appId = db.pragma('application_id', { simple: true }) as number;
      if (appId !== APPLICATION_ID) {
        throw new StoreError(
          `${this.file} is not a Ghost Hunter store (it is another application's SQLite file); ` +
            'move it away or point storage.path elsewhere',
        );
      }
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new StoreError(`${this.file} was written by a newer Ghost Hunter (schema ${version})`);
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        // quick_check reports many lines; one line is enough to say what is wrong.
        let detail = String(check).replace(/\*\*\*[^*]*\*\*\*/g, '').trim().replace(/\s*\n\s*/g, '; ');
        if (detail.length > 200) detail = `${detail.slice(0, 200)}…`;
        throw new StoreError(`${this.file} is corrupt (${detail}); restore it from a backup or move it away`);
      }
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      const opened = db;
      const hasHistory = opened.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sweep_counts'").get();
      if (!hasHistory) opened.transaction(() => opened.exec(HISTORY_SCHEMA))();
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.identity = { dev: st.dev, ino: st.ino };
      return db;
    } catch (err) {
      // Release the file (and any -wal/-shm it opened) so the error leaves nothing half-open behind.
      if (db?.open) db.close();
      if (err instanceof StoreError) throw err;
      const e = err as Error & { code?: string };
      const what = e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT' ? 'is corrupt or not a database' : 'cannot be opened';
      throw new StoreError(`${this.file} ${what}: ${e.message}`);
    }
  }

  /** The open connection; after a failed write, a fresh one to the same (still ours) file. */
  private conn(): Database.Database {
    if (!this.db.open) this.db = this.openDatabase();
    return this.db;
  }

  loadDevices(): StoredDevice[] {
    const rows = this.conn().prepare('SELECT * FROM devices').all() as Record<string, unknown>[];
    return rows.map((r) => ({
      interface: String(r.interface),
      mac: String(r.mac),
      ips: JSON.parse(String(r.ips)) as string[],
      vendor: String(r.vendor),
      randomized: r.randomized === 1,
      firstSeenMs: Number(r.first_seen),
      lastSeenMs: Number(r.last_seen),
      lastRttMs: r.last_rtt_ms === null ? null : Number(r.last_rtt_ms),
      present: r.present === 1,
      absentSinceMs: r.absent_since === null ? null : Number(r.absent_since),
    }));
  }

  deviceKeys(): { interface: string; mac: string }[] {
    return this.conn().prepare('SELECT interface, mac FROM devices').all() as { interface: string; mac: string }[];
  }

  loadGateways(): { interface: string; ip: string; mac: string }[] {
    return this.conn().prepare('SELECT interface, ip, mac FROM gateways').all() as { interface: string; ip: string; mac: string }[];
  }

  loadSweeps(iface: string, sinceMs: number): StoredSweep[] {
    const rows = this.conn()
      .prepare('SELECT interface, ts, duration_ms, ok, devices FROM sweeps WHERE interface = ? AND ts >= ? ORDER BY ts')
      .all(iface, sinceMs) as Record<string, unknown>[];
    return rows.map((r) => ({
      interface: String(r.interface),
      tsMs: Number(r.ts),
      durationMs: Number(r.duration_ms),
      ok: r.ok === 1,
      devices: JSON.parse(String(r.devices)) as { mac: string; ip: string }[],
    }));
  }

  /** The anomaly engine's saved feature state and window for an interface (see src/anomaly/snapshot-codec.ts). */
  loadAnomalySnapshot(iface: string): { meta: string; rows: Buffer } | null {
    const r = this.conn().prepare('SELECT meta, rows FROM anomaly_snapshots WHERE interface = ?').get(iface) as { meta: string; rows: Buffer } | undefined;
    return r ?? null;
  }

  saveAnomalySnapshot(iface: string, snap: { meta: string; rows: Buffer }): void {
    const db = this.conn();
    try {
      db.prepare(
        'INSERT INTO anomaly_snapshots (interface, saved_at, meta, rows) VALUES (?, ?, ?, ?) ON CONFLICT (interface) DO UPDATE SET saved_at = excluded.saved_at, meta = excluded.meta, rows = excluded.rows',
      ).run(iface, Date.now(), snap.meta, snap.rows);
    } catch (err) {
      this.release(db);
      throw err;
    }
  }

  recentEvents(limit: number): StoredEvent[] {
    const rows = this.conn().prepare('SELECT ts, interface, kind, mac, ip, detail FROM events ORDER BY id DESC LIMIT ?').all(limit) as Record<string, unknown>[];
    return rows.map(eventOfRow);
  }

  /** One device's events since `sinceMs`, newest first, and the last presence event before it (where its state then comes from). */
  deviceEvents(iface: string, mac: string, sinceMs: number, limit: number): { events: StoredEvent[]; before: StoredEvent | null } {
    const db = this.conn();
    const rows = db
      .prepare('SELECT ts, interface, kind, mac, ip, detail FROM events WHERE mac = ? AND interface = ? AND ts >= ? ORDER BY id DESC LIMIT ?')
      .all(mac, iface, sinceMs, limit) as Record<string, unknown>[];
    const before = db
      .prepare(
        "SELECT ts, interface, kind, mac, ip, detail FROM events WHERE mac = ? AND interface = ? AND ts < ? AND kind IN ('new_device', 'device_gone', 'device_back') ORDER BY id DESC LIMIT 1",
      )
      .get(mac, iface, sinceMs) as Record<string, unknown> | undefined;
    return { events: rows.map(eventOfRow), before: before ? eventOfRow(before) : null };
  }

  /** Devices present per interface since `sinceMs`, one point per `bucketMs` (the mean of its sweeps). */
  presenceHistory(sinceMs: number, bucketMs: number): PresencePoint[] {
    const rows = this.conn()
      .prepare(
        'SELECT interface, max(ts) AS ts, avg(present) AS present FROM sweep_counts WHERE ts >= ? GROUP BY interface, CAST(ts / ? AS INTEGER) ORDER BY interface, ts',
      )
      .all(sinceMs, bucketMs) as { interface: string; ts: number; present: number }[];
    return rows.map((r) => ({ interface: r.interface, tsMs: r.ts, present: Math.round(r.present * 10) / 10 }));
  }

  /** Anomaly scores per interface since `sinceMs`, one point per `bucketMs` (sweeps still training have none). */
  scoreHistory(sinceMs: number, bucketMs: number): ScorePoint[] {
    const rows = this.conn()
      .prepare('SELECT interface, ts, score, threshold, anomalous FROM anomaly_scores WHERE ts >= ? AND score IS NOT NULL ORDER BY interface, ts')
      .all(sinceMs) as { interface: string; ts: number; score: number; threshold: number | null; anomalous: number }[];
    const out: (ScorePoint & { bucket: number })[] = [];
    let last: (typeof out)[number] | null = null;
    for (const r of rows) {
      const bucket = Math.floor(r.ts / bucketMs);
      if (last && last.interface === r.interface && last.bucket === bucket) {
        // the bucket's highest score (peaks matter), the threshold in force at its end
        last.score = Math.max(last.score, r.score);
        last.tsMs = r.ts;
        last.threshold = r.threshold;
        last.anomalous ||= r.anomalous === 1;
        continue;
      }
      last = { interface: r.interface, tsMs: r.ts, score: r.score, threshold: r.threshold, anomalous: r.anomalous === 1, bucket };
      out.push(last);
    }
    return out.map(({ bucket, ...p }) => p);
  }

  /** Writes everything in one transaction: all of it lands, or none of it. */
  write(w: PendingWrite): void {
    const db = this.conn();
    try {
      this.writeNow(db, w);
    } catch (err) {
      this.release(db);
      throw err;
    }
  }

  /**
   * After a failed write, let go of the file at once: a file system that failed (full, remounted
   * read-only) can then be unmounted, repaired and mounted again, and the next write opens it afresh.
   */
  private release(db: Database.Database): void {
    try {
      db.close();
    } catch {
      // closing a connection on a dead file system may fail; it is released either way
    }
  }

  private writeNow(db: Database.Database, w: PendingWrite): void {
    const upsert = db.prepare(`INSERT INTO devices (interface, mac, ips, vendor, randomized, first_seen, last_seen, last_rtt_ms, present, absent_since)
      VALUES (@interface, @mac, @ips, @vendor, @randomized, @firstSeenMs, @lastSeenMs, @lastRttMs, @present, @absentSinceMs)
      ON CONFLICT (interface, mac) DO UPDATE SET ips = excluded.ips, vendor = excluded.vendor, randomized = excluded.randomized,
        first_seen = min(first_seen, excluded.first_seen), last_seen = excluded.last_seen, last_rtt_ms = excluded.last_rtt_ms,
        present = excluded.present, absent_since = excluded.absent_since`);
    const remove = db.prepare('DELETE FROM devices WHERE interface = ? AND mac = ?');
    const event = db.prepare('INSERT INTO events (ts, interface, kind, mac, ip, detail) VALUES (?, ?, ?, ?, ?, ?)');
    const sweep = db.prepare('INSERT INTO sweeps (interface, ts, duration_ms, ok, devices) VALUES (?, ?, ?, ?, ?)');
    const gateway = db.prepare('INSERT INTO gateways (interface, ip, mac) VALUES (?, ?, ?) ON CONFLICT (interface) DO UPDATE SET ip = excluded.ip, mac = excluded.mac');
    const counts = db.prepare('INSERT OR REPLACE INTO sweep_counts (interface, ts, answered, present) VALUES (?, ?, ?, ?)');
    const score = db.prepare('INSERT OR REPLACE INTO anomaly_scores (interface, ts, score, threshold, anomalous) VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const d of w.devices) {
        upsert.run({ ...d, ips: JSON.stringify(d.ips), randomized: d.randomized ? 1 : 0, present: d.present ? 1 : 0 });
      }
      for (const r of w.removed) remove.run(r.interface, r.mac);
      for (const e of w.events) event.run(e.tsMs, e.interface, e.kind, e.mac, e.ip, JSON.stringify(e.detail));
      for (const s of w.sweeps) {
        sweep.run(s.interface, s.tsMs, s.durationMs, s.ok ? 1 : 0, JSON.stringify(s.devices));
        counts.run(s.interface, s.tsMs, s.devices.length, s.present ?? s.devices.length);
      }
      for (const s of w.scores ?? []) score.run(s.interface, s.tsMs, s.score, s.threshold, s.anomalous ? 1 : 0);
      for (const g of w.gateways) gateway.run(g.interface, g.ip, g.mac);
    })();
  }

  /** Drops history older than the anomaly window and events older than the retention. */
  prune(sweepsBeforeMs: number, eventsBeforeMs: number): void {
    this.conn().prepare('DELETE FROM sweeps WHERE ts < ?').run(sweepsBeforeMs);
    this.conn().prepare('DELETE FROM anomaly_snapshots WHERE saved_at < ?').run(sweepsBeforeMs);
    this.conn().prepare('DELETE FROM events WHERE ts < ?').run(eventsBeforeMs);
  }

  /** Drops the live page's chart history older than `beforeMs`. */
  pruneHistory(beforeMs: number): void {
    this.conn().prepare('DELETE FROM sweep_counts WHERE ts < ?').run(beforeMs);
    this.conn().prepare('DELETE FROM anomaly_scores WHERE ts < ?').run(beforeMs);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function eventOfRow(r: Record<string, unknown>): StoredEvent {
  return {
    tsMs: Number(r.ts),
    interface: String(r.interface),
    kind: String(r.kind),
    mac: r.mac === null ? null : String(r.mac),
    ip: r.ip === null ? null : String(r.ip),
    detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
  };
}
