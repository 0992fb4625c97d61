// The SQLite state store: round trips, one transaction per write, and clear errors (naming the
// file) for foreign, corrupt, newer or unreachable files — never a silent fresh start.
// A data directory the exporter's user cannot write: test/integration/store-permissions.test.ts (needs root).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store, StoreError, type PendingWrite, type StoredDevice, type StoredEvent } from '../../src/store/store.js';

let root: string;
let n = 0;
const freshDir = () => join(root, `case-${++n}`);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function device(mac: string, extra: Partial<StoredDevice> = {}): StoredDevice {
  return { interface: 'eth0', mac, ips: ['198.18.0.2'], vendor: 'Xensource, Inc.', randomized: false, firstSeenMs: 1000, lastSeenMs: 2000, lastRttMs: 1.5, present: true, absentSinceMs: null, ...extra };
}
function event(ts: number, extra: Partial<StoredEvent> = {}): StoredEvent {
  return { tsMs: ts, interface: 'eth0', kind: 'new_device', mac: '00:16:3e:00:00:01', ip: '198.18.0.2', detail: { vendor: 'x' }, ...extra };
}
function write(extra: Partial<PendingWrite>): PendingWrite {
  return { devices: [], removed: [], events: [], sweeps: [], gateways: [], ...extra };
}
function storeError(dir: string): string {
  try {
    new Store(dir).close();
  } catch (err) {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.message.split('\n').length, 1, `one line expected:\n${err.message}`);
    return err.message;
  }
  assert.fail(`store in ${dir} opened`);
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'gh-store-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('Store: round trips', () => {
  it('creates the directory and file, and reads back what it wrote', () => {
    const dir = join(freshDir(), 'nested', 'data');
    const s = new Store(dir);
    assert.equal(s.file, join(dir, 'ghost-hunter.db'));
    assert.ok(existsSync(s.file));
    s.write(
      write({
        devices: [device('00:16:3e:00:00:01'), device('02:00:00:00:00:02', { ips: [], randomized: true, lastRttMs: null, present: false, absentSinceMs: 3000 })],
        events: [event(1000), event(2000, { kind: 'device_gone', mac: null, ip: null, detail: { last_seen: 'x' } })],
        sweeps: [
          { interface: 'eth0', tsMs: 1000, durationMs: 12.5, ok: true, devices: [{ mac: '00:16:3e:00:00:01', ip: '198.18.0.2' }] },
          { interface: 'eth1', tsMs: 1000, durationMs: 1, ok: false, devices: [] },
        ],
        gateways: [{ interface: 'eth0', ip: '198.18.0.1', mac: '00:16:3e:00:00:fe' }],
      }),
    );
    const devices = s.loadDevices().sort((a, b) => a.mac.localeCompare(b.mac));
    assert.deepEqual(devices, [
      device('00:16:3e:00:00:01'),
      device('02:00:00:00:00:02', { ips: [], randomized: true, lastRttMs: null, present: false, absentSinceMs: 3000 }),
    ]);
    assert.deepEqual(s.recentEvents(10).map((e) => [e.tsMs, e.kind, e.mac]), [
      [2000, 'device_gone', null],
      [1000, 'new_device', '00:16:3e:00:00:01'],
    ]);
    assert.deepEqual(s.recentEvents(1)[0].detail, { last_seen: 'x' });
    assert.deepEqual(s.loadSweeps('eth0', 0), [{ interface: 'eth0', tsMs: 1000, durationMs: 12.5, ok: true, devices: [{ mac: '00:16:3e:00:00:01', ip: '198.18.0.2' }] }]);
    assert.deepEqual(s.loadSweeps('eth0', 1001), []);
    assert.deepEqual(s.loadGateways(), [{ interface: 'eth0', ip: '198.18.0.1', mac: '00:16:3e:00:00:fe' }]);
    s.close();
    s.close(); // idempotent
  });

  it('upserts keep the earliest first_seen, removals delete, gateways are replaced; data survives a reopen', () => {
    const dir = freshDir();
    const s = new Store(dir);
    s.write(write({ devices: [device('a', { firstSeenMs: 500 }), device('b')], gateways: [{ interface: 'eth0', ip: '198.18.0.1', mac: 'old' }] }));
    s.write(write({ devices: [device('a', { firstSeenMs: 900, lastSeenMs: 5000, ips: ['198.18.0.3'] })], removed: [{ interface: 'eth0', mac: 'b' }], gateways: [{ interface: 'eth0', ip: '198.18.0.1', mac: 'new' }] }));
    s.close();
    const again = new Store(dir);
    assert.deepEqual(again.loadDevices(), [device('a', { firstSeenMs: 500, lastSeenMs: 5000, ips: ['198.18.0.3'] })]);
    assert.deepEqual(again.loadGateways(), [{ interface: 'eth0', ip: '198.18.0.1', mac: 'new' }]);
    again.close();
  });

  it('prune drops old sweeps and old events only', () => {
    const s = new Store(freshDir());
    s.write(
      write({
        events: [event(100), event(200), event(300)],
        sweeps: [100, 200, 300].map((ts) => ({ interface: 'eth0', tsMs: ts, durationMs: 1, ok: true, devices: [] })),
      }),
    );
    s.prune(250, 150);
    assert.deepEqual(s.loadSweeps('eth0', 0).map((x) => x.tsMs), [300]);
    assert.deepEqual(s.recentEvents(10).map((e) => e.tsMs), [300, 200]);
    s.close();
  });

  it('anomaly snapshots: saved per interface, replaced on save, bytes intact across a reopen, pruned with old history', () => {
    const dir = freshDir();
    const s = new Store(dir);
    assert.equal(s.loadAnomalySnapshot('eth0'), null);
    const rows = Buffer.from(Float64Array.from([1.5, -2, Math.PI]).buffer);
    s.saveAnomalySnapshot('eth0', { meta: '{"a":1}', rows: Buffer.alloc(8) });
    s.saveAnomalySnapshot('eth0', { meta: '{"a":2}', rows });
    s.saveAnomalySnapshot('eth1', { meta: '{"b":1}', rows: Buffer.alloc(0) });
    s.close();
    const again = new Store(dir);
    const got = again.loadAnomalySnapshot('eth0')!;
    assert.equal(got.meta, '{"a":2}');
    assert.deepEqual([...new Float64Array(new Uint8Array(got.rows).buffer)], [1.5, -2, Math.PI]);
    again.prune(Date.now() - 60_000, 0);
    assert.ok(again.loadAnomalySnapshot('eth1'), 'a recent snapshot survives pruning');
    again.prune(Date.now() + 1000, 0);
    assert.equal(again.loadAnomalySnapshot('eth0'), null);
    again.close();
  });

  it('a write is one transaction: a failing row leaves nothing of it behind', () => {
    const s = new Store(freshDir());
    s.write(write({ devices: [device('keep')] }));
    const bad = { ...event(1), kind: null } as unknown as StoredEvent; // NOT NULL violation, after the devices
    assert.throws(() => s.write(write({ devices: [device('new')], removed: [{ interface: 'eth0', mac: 'keep' }], events: [event(0), bad] })), /NOT NULL/);
    assert.deepEqual(s.loadDevices().map((d) => d.mac), ['keep']);
    assert.deepEqual(s.recentEvents(10), []);
    // The store is still usable afterwards.
    s.write(write({ devices: [device('new')] }));
    assert.deepEqual(s.loadDevices().map((d) => d.mac).sort(), ['keep', 'new']);
    s.close();
  });

  it('a new store appears whole: created under another name and renamed into place', () => {
    const dir = freshDir();
    mkdirSync(dir);
    // What an interrupted creation leaves behind is not mistaken for a store, and is cleaned up.
    writeFileSync(join(dir, 'ghost-hunter.db.new'), '');
    const s = new Store(dir);
    assert.ok(statSync(s.file).size > 0, 'never a 0-byte file at the store path');
    assert.ok(!existsSync(join(dir, 'ghost-hunter.db.new')));
    s.write(write({ devices: [device('a')] }));
    s.close();
    assert.deepEqual(new Store(dir).loadDevices().map((d) => d.mac), ['a']);
  });
});

describe('Store: deleted or replaced while running', () => {
  it('a deleted file is noticed, and recreated empty only when asked (the caller refills it)', () => {
    const dir = freshDir();
    const s = new Store(dir);
    s.write(write({ devices: [device('a')] }));
    assert.equal(s.checkFile(), 'ok');
    rmSync(s.file);
    assert.equal(s.checkFile(), 'deleted');
    s.recreate();
    assert.equal(s.checkFile(), 'ok');
    assert.deepEqual(s.loadDevices(), []);
    s.write(write({ devices: [device('b')] }));
    s.close();
    assert.deepEqual(new Store(dir).loadDevices().map((d) => d.mac), ['b']);
  });

  it('the WAL files of the deleted store are not applied to the new one', () => {
    const dir = freshDir();
    const s = new Store(dir);
    s.write(write({ devices: [device('a')] }));
    rmSync(s.file);
    s.recreate();
    s.close();
    const again = new Store(dir);
    assert.deepEqual(again.loadDevices(), []);
    assert.equal((new Database(again.file, { readonly: true }).pragma('integrity_check', { simple: true })), 'ok');
    again.close();
  });

  it('a file replaced by another is reported as such', () => {
    const dir = freshDir();
    const s = new Store(dir);
    writeFileSync(`${s.file}.tmp`, 'x');
    rmSync(s.file);
    renameSync(`${s.file}.tmp`, s.file);
    assert.equal(s.checkFile(), 'replaced');
    s.close();
  });
});

describe('Store: files that are not ours are refused with a clear error', () => {
  it('an empty (0-byte) file is refused like any corrupt store and left untouched', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = join(dir, 'ghost-hunter.db');
    writeFileSync(file, '');
    assert.equal(storeError(dir), `${file} is empty (0 bytes), so it is no Ghost Hunter store; restore it from a backup or move it away`);
    assert.equal(statSync(file).size, 0);
    assert.ok(!existsSync(`${file}-wal`) && !existsSync(`${file}-shm`));
  });

  it("another application's SQLite file is refused and left untouched", () => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = join(dir, 'ghost-hunter.db');
    const foreign = new Database(file);
    foreign.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('alice')");
    foreign.close();
    const before = sha(file);
    assert.equal(storeError(dir), `${file} is not a Ghost Hunter store (it is another application's SQLite file); move it away or point storage.path elsewhere`);
    assert.equal(sha(file), before, 'the foreign file must not be modified (e.g. switched to WAL)');
    assert.ok(!existsSync(`${file}-wal`) && !existsSync(`${file}-shm`), 'no WAL files left next to it');
    const check = new Database(file, { readonly: true });
    assert.deepEqual(check.prepare('SELECT name FROM users').all(), [{ name: 'alice' }]);
    check.close();
  });

  it('a SQLite file with another application_id is refused even without tables', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = join(dir, 'ghost-hunter.db');
    const foreign = new Database(file);
    foreign.pragma('application_id = 1234');
    foreign.close();
    assert.match(storeError(dir), new RegExp(`^${file.replace(/[.]/g, '\\.')} is not a Ghost Hunter store`));
  });

  it('a store written by a newer schema is refused', () => {
    const dir = freshDir();
    new Store(dir).close();
    const file = join(dir, 'ghost-hunter.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    assert.equal(storeError(dir), `${file} was written by a newer Ghost Hunter (schema 99)`);
  });

  for (const [name, content] of [
    ['a text file', 'interfaces:\n  - name: eth0\n'],
    ['random bytes', Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) & 255))],
    ['zeros', Buffer.alloc(4096)],
    ['a truncated SQLite header', Buffer.from('SQLite format 3\0')],
  ] as [string, string | Buffer][]) {
    it(`garbage (${name}) is reported as corrupt, not replaced`, () => {
      const dir = freshDir();
      mkdirSync(dir);
      const file = join(dir, 'ghost-hunter.db');
      writeFileSync(file, content);
      const before = sha(file);
      assert.match(storeError(dir), new RegExp(`^${file.replace(/[.]/g, '\\.')} is corrupt or not a database: `));
      assert.equal(sha(file), before);
    });
  }

  function corruptedStore(damage: (file: string) => void): string {
    const dir = freshDir();
    const s = new Store(dir);
    s.write(write({ events: Array.from({ length: 3000 }, (_, i) => event(i, { detail: { i, pad: 'x'.repeat(100) } })) }));
    s.close();
    damage(s.file);
    return storeError(dir);
  }

  it('a store with damaged pages is reported as corrupt', () => {
    const message = corruptedStore((file) => {
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, 3 * 4096);
      closeSync(fd);
    });
    assert.match(message, /ghost-hunter\.db is corrupt.*; restore it from a backup or move it away$/);
  });

  it('a truncated store is reported as corrupt', () => {
    const message = corruptedStore((file) => truncateSync(file, Math.floor(statSync(file).size / 2)));
    assert.match(message, /ghost-hunter\.db is corrupt/);
  });
});

describe('Store: unreachable locations', () => {
  it('a data directory below a regular file gives a clear error', () => {
    const file = join(root, `plain-file-${++n}`);
    writeFileSync(file, 'x');
    const message = storeError(join(file, 'data'));
    assert.match(message, new RegExp(`^cannot create data directory ${join(file, 'data')}: ENOTDIR`));
  });

  it('a directory where the database file should be gives a clear error', () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'ghost-hunter.db'), { recursive: true });
    assert.match(storeError(dir), /ghost-hunter\.db cannot be opened: /);
  });

  it('a write while another process holds the write lock fails (after the busy timeout) and leaves the store intact', () => {
    const dir = freshDir();
    const s = new Store(dir);
    s.write(write({ devices: [device('a')] }));
    const other = new Database(s.file);
    other.exec('BEGIN IMMEDIATE');
    try {
      assert.throws(() => s.write(write({ devices: [device('b')] })), (err: Error & { code?: string }) => err.code === 'SQLITE_BUSY');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    s.write(write({ devices: [device('b')] }));
    assert.deepEqual(s.loadDevices().map((d) => d.mac).sort(), ['a', 'b']);
    s.close();
  });
});
