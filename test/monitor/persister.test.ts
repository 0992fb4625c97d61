// The persister queues writes and, when the store cannot be written, keeps every change and
// retries, so a transient failure loses nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Persister } from '../../src/monitor/persister.js';
import { Logger } from '../../src/log.js';
import { Store, type PendingWrite, type StoredDevice } from '../../src/store/store.js';

function device(mac: string, extra: Partial<StoredDevice> = {}): StoredDevice {
  return { interface: 'eth0', mac, ips: ['198.18.0.2'], vendor: '', randomized: false, firstSeenMs: 1, lastSeenMs: 2, lastRttMs: null, present: true, absentSinceMs: null, ...extra };
}

/** A store whose writes fail while `failing` is set; successful writes are recorded (deep copies). */
class FakeStore {
  readonly file = '/data/ghost-hunter.db';
  failing: string | null = null;
  writes: PendingWrite[] = [];
  rows: string[] = [];
  deviceKeys() {
    return this.rows.map((mac) => ({ interface: 'eth0', mac }));
  }
  checkFile() {
    return 'ok' as const;
  }
  write(w: PendingWrite): void {
    if (this.failing) throw new Error(this.failing);
    this.writes.push(structuredClone(w));
  }
}

function setup(rows: string[] = []) {
  const store = new FakeStore();
  store.rows = rows;
  const lines: string[] = [];
  const log = new Logger('debug', 'json', {}, (line) => lines.push(line));
  const persister = new Persister(store as unknown as Store, log);
  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { store, persister, logged };
}

describe('Persister', () => {
  it('flushing nothing writes nothing and succeeds', () => {
    const { store, persister } = setup();
    assert.equal(persister.flush(), true);
    persister.enqueue({});
    persister.enqueue({ devices: [], events: [] });
    assert.equal(persister.flush(), true);
    assert.equal(store.writes.length, 0);
  });

  it('writes everything queued in one write and then starts empty', () => {
    const { store, persister } = setup();
    persister.enqueue({ devices: [device('a')], events: [{ tsMs: 1, interface: 'eth0', kind: 'new_device', mac: 'a', ip: null, detail: {} }] });
    persister.enqueue({ sweeps: [{ interface: 'eth0', tsMs: 1, durationMs: 1, ok: true, devices: [] }], gateways: [{ interface: 'eth0', ip: '198.18.0.1', mac: 'g' }] });
    assert.equal(persister.flush(), true);
    assert.equal(store.writes.length, 1);
    assert.equal(store.writes[0].devices.length, 1);
    assert.equal(store.writes[0].events.length, 1);
    assert.equal(store.writes[0].sweeps.length, 1);
    assert.equal(store.writes[0].gateways.length, 1);
    assert.equal(persister.flush(), true);
    assert.equal(store.writes.length, 1);
  });

  it('the latest state of a device wins', () => {
    const { store, persister } = setup();
    persister.enqueue({ devices: [device('a', { lastSeenMs: 1 }), device('b')] });
    persister.enqueue({ devices: [device('a', { lastSeenMs: 9 })] });
    persister.flush();
    assert.deepEqual(store.writes[0].devices.map((d) => [d.mac, d.lastSeenMs]).sort(), [['a', 9], ['b', 2]]);
  });

  it('an unwritable store keeps every change, reports it once, and a later flush writes it all', () => {
    const { store, persister, logged } = setup();
    store.failing = 'SQLITE_READONLY: attempt to write a readonly database';
    persister.enqueue({ devices: [device('a')], events: [{ tsMs: 1, interface: 'eth0', kind: 'new_device', mac: 'a', ip: null, detail: {} }] });
    assert.equal(persister.flush(), false);
    assert.equal(persister.writable, false);
    assert.equal(persister.errors, 1);
    assert.equal(persister.lastError, store.failing);
    persister.enqueue({ devices: [device('b')], events: [{ tsMs: 2, interface: 'eth0', kind: 'new_device', mac: 'b', ip: null, detail: {} }] });
    assert.equal(persister.flush(), false);
    assert.equal(persister.flush(), false);
    assert.equal(persister.errors, 3);
    const errors = logged().filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, 'the same failure is logged once, not on every retry');
    assert.equal(errors[0].file, store.file);
    // A different failure is worth a new line.
    store.failing = 'SQLITE_FULL: database or disk is full';
    persister.flush();
    assert.equal(logged().filter((l) => l.level === 'error').length, 2);

    store.failing = null;
    assert.equal(persister.flush(), true);
    assert.equal(persister.writable, true);
    assert.equal(persister.lastError, null);
    assert.equal(persister.errors, 4, 'the error counter is a counter: it does not reset');
    assert.equal(store.writes.length, 1);
    assert.deepEqual(store.writes[0].devices.map((d) => d.mac).sort(), ['a', 'b']);
    assert.deepEqual(store.writes[0].events.map((e) => e.tsMs), [1, 2]);
    assert.ok(logged().some((l) => l.level === 'info' && l.msg === 'state store is writable again'));
  });

  it('a device removed and then seen again while the store was down is kept (not deleted after the upsert)', () => {
    const { store, persister } = setup();
    store.failing = 'disk full';
    persister.enqueue({ removed: [{ interface: 'eth0', mac: 'a' }] });
    persister.flush();
    persister.enqueue({ devices: [device('a', { lastSeenMs: 50 })] });
    store.failing = null;
    persister.flush();
    assert.deepEqual(store.writes[0].removed, []);
    assert.deepEqual(store.writes[0].devices.map((d) => d.mac), ['a']);
  });

  it('a device seen and then removed while the store was down is removed, not resurrected', () => {
    const { store, persister } = setup(['a']);
    store.failing = 'disk full';
    persister.enqueue({ devices: [device('a'), device('b')] });
    persister.flush();
    persister.enqueue({ removed: [{ interface: 'eth0', mac: 'a' }] });
    persister.enqueue({ removed: [{ interface: 'eth0', mac: 'a' }] });
    store.failing = null;
    persister.flush();
    assert.deepEqual(store.writes[0].devices.map((d) => d.mac), ['b']);
    assert.deepEqual(store.writes[0].removed, [{ interface: 'eth0', mac: 'a' }], 'queued once');
  });

  it('removals are queued only for devices the store holds: a MAC flood during an outage stays bounded', () => {
    const { store, persister } = setup(['old1', 'old2']);
    persister.enqueue({ devices: [device('kept')] });
    persister.flush(); // 'kept' is now in the store
    store.failing = 'disk full';
    for (let i = 0; i < 20_000; i++) {
      // each flooding MAC is admitted, then evicted by the next one
      persister.enqueue({ devices: [device(`flood${i}`)] });
      persister.enqueue({ removed: [{ interface: 'eth0', mac: `flood${i}` }] });
    }
    persister.enqueue({ removed: [{ interface: 'eth0', mac: 'old1' }, { interface: 'eth0', mac: 'kept' }] });
    store.failing = null;
    persister.flush();
    const w = store.writes[1];
    assert.deepEqual(w.removed.map((r) => r.mac).sort(), ['kept', 'old1']);
    assert.deepEqual(w.devices, []);
    // once written, a removed device is no longer in the store: removing it again queues nothing
    persister.enqueue({ removed: [{ interface: 'eth0', mac: 'old1' }] });
    assert.equal(persister.flush(), true);
    assert.equal(store.writes.length, 2);
  });

  it('a long outage keeps the inventory and the newest history, bounded', () => {
    const { store, persister } = setup();
    store.failing = 'disk full';
    for (let i = 0; i < 60; i++) {
      persister.enqueue({
        devices: [device(`m${i % 5}`, { lastSeenMs: i })],
        events: Array.from({ length: 1000 }, (_, j) => ({ tsMs: i * 1000 + j, interface: 'eth0', kind: 'new_device', mac: null, ip: null, detail: {} })),
        sweeps: Array.from({ length: 100 }, (_, j) => ({ interface: 'eth0', tsMs: i * 100 + j, durationMs: 1, ok: true, devices: [] })),
        gateways: [{ interface: 'eth0', ip: '198.18.0.1', mac: `gw${i}` }],
      });
      persister.flush();
    }
    store.failing = null;
    persister.flush();
    const w = store.writes[0];
    assert.equal(w.devices.length, 5);
    assert.deepEqual(w.devices.map((d) => d.lastSeenMs).sort((a, b) => a - b), [55, 56, 57, 58, 59]);
    assert.equal(w.events.length, 50_000);
    assert.equal(w.events[w.events.length - 1].tsMs, 59_999, 'the newest events are kept');
    assert.equal(w.sweeps.length, 5_000);
    assert.deepEqual(w.gateways, [{ interface: 'eth0', ip: '198.18.0.1', mac: 'gw59' }]);
  });
});

describe('Persister with a real store', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'gh-persister-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a locked store fails the flush, and the retry after the lock is gone commits everything', () => {
    const store = new Store(join(root, 'data'));
    const lines: string[] = [];
    const persister = new Persister(store, new Logger('info', 'logfmt', {}, (l) => lines.push(l)));
    persister.enqueue({ devices: [device('a')] });
    assert.equal(persister.flush(), true);

    const other = new Database(store.file);
    other.exec('BEGIN IMMEDIATE');
    persister.enqueue({ devices: [device('b')], removed: [{ interface: 'eth0', mac: 'a' }] });
    try {
      assert.equal(persister.flush(), false);
      assert.equal(persister.writable, false);
      assert.match(lines.join(''), /level=error msg="cannot write state store; keeping changes in memory and retrying" file=\S+ghost-hunter\.db err="database is locked"/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    assert.deepEqual(store.loadDevices().map((d) => d.mac), ['a'], 'nothing of the failed write landed');
    assert.equal(persister.flush(), true);
    assert.deepEqual(store.loadDevices().map((d) => d.mac), ['b']);
    store.close();
  });

  const event = (i: number) => ({ tsMs: i, interface: 'eth0', kind: 'ip_changed', mac: 'a', ip: `198.18.0.${i % 250}`, detail: { i } });

  it('the store deleted while running: counted as an error, logged, and recreated from memory', () => {
    const store = new Store(join(root, 'deleted'));
    const lines: string[] = [];
    const memory = { devices: [device('a'), device('b', { present: false, absentSinceMs: 5 })], gateways: [{ interface: 'eth0', ip: '198.18.0.1', mac: 'g' }] };
    const persister = new Persister(store, new Logger('info', 'logfmt', {}, (l) => lines.push(l)), () => memory);
    persister.enqueue({ ...memory, events: [event(1), event(2)] });
    assert.equal(persister.flush(), true);
    rmSync(store.file); // what `rm ghost-hunter.db` does to a running exporter
    persister.enqueue({ events: [event(3)] });
    assert.equal(persister.flush(), true, 'the flush writes into the recreated store');
    assert.equal(persister.errors, 1, 'the deletion counts as a store error (ghosthunter_store_errors_total)');
    assert.match(lines.join(''), /level=error msg="state store was deleted while running; recreating it from the state in memory" file=\S+ghost-hunter\.db/);
    assert.ok(existsSync(store.file));
    assert.deepEqual(store.loadDevices().map((d) => [d.mac, d.present]), [['a', true], ['b', false]]);
    assert.deepEqual(store.loadGateways(), memory.gateways);
    assert.deepEqual(store.recentEvents(10).map((e) => e.tsMs), [3, 2, 1], 'the recent events held in memory are written again');
    // Removals of devices the old file held are not queued against the new one.
    persister.enqueue({ removed: [{ interface: 'eth0', mac: 'a' }] });
    assert.equal(persister.flush(), true);
    assert.deepEqual(store.loadDevices().map((d) => d.mac), ['b']);
    store.close();
  });

  it('the whole data directory deleted: the same, directory included', () => {
    const dir = join(root, 'dir-deleted');
    const store = new Store(dir);
    const persister = new Persister(store, new Logger('info', 'logfmt', {}, () => {}), () => ({ devices: [device('a')], gateways: [] }));
    persister.enqueue({ devices: [device('a')] });
    assert.equal(persister.flush(), true);
    rmSync(dir, { recursive: true });
    persister.enqueue({ events: [event(1)] });
    assert.equal(persister.flush(), true);
    assert.equal(persister.errors, 1);
    assert.deepEqual(store.loadDevices().map((d) => d.mac), ['a']);
    store.close();
  });

  it('a store replaced by a foreign file is not written to: the flush fails and keeps everything', () => {
    const store = new Store(join(root, 'replaced'));
    const persister = new Persister(store, new Logger('info', 'logfmt', {}, () => {}), () => ({ devices: [device('a')], gateways: [] }));
    persister.enqueue({ devices: [device('a')] });
    assert.equal(persister.flush(), true);
    const foreign = join(root, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE t (x)');
    db.close();
    renameSync(foreign, store.file);
    persister.enqueue({ devices: [device('b')] });
    assert.equal(persister.flush(), false);
    assert.equal(persister.writable, false);
    const check = new Database(store.file, { readonly: true });
    assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), [{ name: 't' }], 'the foreign file is untouched');
    check.close();
    store.close();
  });

  it('keeps the most recent events in memory (bounded), written or not', () => {
    const store = new Store(join(root, 'ring'));
    const persister = new Persister(store, new Logger('info', 'logfmt', {}, () => {}));
    for (let i = 0; i < 25_000; i++) persister.enqueue({ events: [event(i)] });
    const recent = persister.recentEvents(10_000);
    assert.equal(recent.length, 10_000);
    assert.equal(recent[0].tsMs, 24_999, 'newest first');
    assert.equal(recent[9_999].tsMs, 15_000);
    store.close();
  });
});
