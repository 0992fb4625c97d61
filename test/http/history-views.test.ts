// The live page's history from the store: chart buckets, and one device's presence spans and
// address history derived from its events.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { deviceDetailView, historyView, ipHistory, presenceSpans } from '../../src/http/history-views.js';
import type { DeviceView } from '../../src/http/views.js';
import { Store, type StoredEvent } from '../../src/store/store.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 10);

function device(extra: Partial<DeviceView> = {}): DeviceView {
  return {
    interface: 'eth0', mac: 'm', ip: '198.18.0.9', ips: ['198.18.0.9', '198.18.0.2'], vendor: '', name: null, class: null, known: false, critical: false,
    randomized: false, present: true, first_seen: new Date(T0 - 100 * H).toISOString(), last_seen: new Date(T0).toISOString(), rtt_ms: null, ...extra,
  };
}
const ev = (h: number, kind: string, extra: Partial<StoredEvent> = {}): StoredEvent => ({ tsMs: T0 + h * H, interface: 'eth0', kind, mac: 'm', ip: '198.18.0.2', detail: {}, ...extra });

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'gh-history-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('store history for the charts', () => {
  it('buckets presence (mean) and scores (highest, the last threshold), per interface, since the start', () => {
    const s = new Store(join(dir, 'a'));
    const sweeps = [0, 1, 2, 3].map((i) => ({ interface: 'eth0', tsMs: T0 + i * 60_000, durationMs: 1, ok: true, devices: [{ mac: 'x', ip: '198.18.0.1' }], present: 10 + i }));
    s.write({
      devices: [], removed: [], events: [], gateways: [],
      sweeps: [...sweeps, { interface: 'eth1', tsMs: T0, durationMs: 1, ok: true, devices: [], present: 1 }, { interface: 'eth0', tsMs: T0 - 2 * H, durationMs: 1, ok: true, devices: [] }],
      scores: [
        { interface: 'eth0', tsMs: T0, score: 0.2, threshold: 0.5, anomalous: false },
        { interface: 'eth0', tsMs: T0 + 60_000, score: 0.7, threshold: 0.5, anomalous: true },
        { interface: 'eth0', tsMs: T0 + 120_000, score: 0.1, threshold: 0.6, anomalous: false },
        { interface: 'eth0', tsMs: T0 + 10 * 60_000, score: null, threshold: null, anomalous: false },
      ],
    });
    assert.deepEqual(s.presenceHistory(T0 - H, 2 * 60_000), [
      { interface: 'eth0', tsMs: T0 + 60_000, present: 10.5 },
      { interface: 'eth0', tsMs: T0 + 3 * 60_000, present: 12.5 },
      { interface: 'eth1', tsMs: T0, present: 1 },
    ]);
    assert.deepEqual(s.scoreHistory(T0 - H, 5 * 60_000), [{ interface: 'eth0', tsMs: T0 + 120_000, score: 0.7, threshold: 0.6, anomalous: true }]);
    const view = historyView(s, '24h', T0 + H);
    assert.equal(view.bucket_seconds, 120);
    assert.deepEqual(view.presence.eth0.present, [0, 10.5, 12.5]); // the sweep 2 h before, without a count: those that answered
    assert.deepEqual(view.anomaly.eth0, { t: [(T0 + 60_000) / 1000, (T0 + 120_000) / 1000], score: [0.7, 0.1], threshold: [0.5, 0.6], anomalous: [true, false] });
    s.pruneHistory(T0 + 2 * 60_000);
    assert.deepEqual(s.presenceHistory(0, 60_000).map((p) => p.present), [12, 13]);
    s.close();
  });

  it('a store from before the live page gets its chart history from the stored sweeps, once', () => {
    const path = join(dir, 'old');
    new Store(path).close();
    const db = new Database(join(path, 'ghost-hunter.db'));
    db.exec('DROP TABLE sweep_counts; DROP TABLE anomaly_scores');
    db.prepare('INSERT INTO sweeps (interface, ts, duration_ms, ok, devices) VALUES (?, ?, 1, 1, ?)').run('eth0', T0, JSON.stringify([{ mac: 'a', ip: '198.18.0.1' }, { mac: 'b', ip: '198.18.0.2' }]));
    db.close();
    const s = new Store(path);
    assert.deepEqual(s.presenceHistory(0, 60_000), [{ interface: 'eth0', tsMs: T0, present: 2 }]);
    s.close();
    assert.deepEqual(new Store(path).presenceHistory(0, 60_000).length, 1);
  });

  it("a device's events since a time, newest first, and its last presence event before", () => {
    const s = new Store(join(dir, 'b'));
    s.write({
      devices: [], removed: [], sweeps: [], gateways: [],
      events: [ev(-50, 'new_device'), ev(-30, 'device_gone'), ev(-2, 'device_back'), ev(-1, 'ip_changed', { ip: '198.18.0.9', detail: { old_ip: '198.18.0.2', new_ip: '198.18.0.9' } }), ev(-1, 'new_device', { mac: 'other' })],
    });
    const log = s.deviceEvents('eth0', 'm', T0 - 10 * H, 10);
    assert.deepEqual(log.events.map((e) => e.kind), ['ip_changed', 'device_back']);
    assert.equal(log.before?.kind, 'device_gone');
    s.close();
  });
});

describe('device detail', () => {
  it('presence spans: from the state before the window, through gone and back, to now', () => {
    const since = T0 - 48 * H;
    const spans = presenceSpans(device(), [ev(-40, 'device_gone'), ev(-20, 'device_back'), ev(-10, 'ip_changed')], ev(-60, 'new_device'), since, T0);
    assert.deepEqual(spans, [
      { from: since, to: T0 - 40 * H },
      { from: T0 - 20 * H, to: T0 },
    ]);
    // no event before the window: the first event in it tells the state at its start
    assert.deepEqual(presenceSpans(device(), [ev(-40, 'device_back')], null, since, T0), [{ from: T0 - 40 * H, to: T0 }]);
    // no event at all: the device's state now, since it was first seen
    assert.deepEqual(presenceSpans(device({ first_seen: new Date(T0 - 5 * H).toISOString() }), [], null, since, T0), [{ from: T0 - 5 * H, to: T0 }]);
    assert.deepEqual(presenceSpans(device({ present: false }), [], null, since, T0), []);
  });

  it('IP history: addresses from events and the current list, the current one first', () => {
    const h = ipHistory(device(), [ev(-50, 'new_device'), ev(-30, 'device_gone'), ev(-1, 'ip_changed', { ip: '198.18.0.9', detail: { old_ip: '198.18.0.2', new_ip: '198.18.0.9' } })]);
    assert.deepEqual(h, [
      { ip: '198.18.0.9', first_seen: T0 - H, last_seen: T0, current: true },
      { ip: '198.18.0.2', first_seen: T0 - 50 * H, last_seen: T0 - H, current: false },
    ]);
    const detail = deviceDetailView(device(), { events: [ev(-1, 'ip_changed')], before: null }, null, T0 - 7 * 24 * H, T0);
    assert.equal(detail.events[0].ts, new Date(T0 - H).toISOString());
    assert.equal(detail.anomaly, null);
  });
});
