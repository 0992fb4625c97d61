// Event floods through the production path (ArpChannel -> SegmentMonitor -> Inventory -> log and
// store): one MAC alternating between two IPs raises an ip_changed per frame; what is logged and
// stored is rate-limited per device and kind, the rest is counted, and the latest is kept.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArpFrame } from '../../src/arp/codec.js';
import { ArpChannel } from '../../src/capture/arp-channel.js';
import type { PacketSource } from '../../src/capture/packet-source.js';
import { parseConfig } from '../../src/config/load.js';
import { Logger } from '../../src/log.js';
import { EventLimiter } from '../../src/monitor/event-limiter.js';
import { Persister } from '../../src/monitor/persister.js';
import { SegmentMonitor } from '../../src/monitor/segment-monitor.js';
import { Store } from '../../src/store/store.js';
import type { DeviceEvent } from '../../src/inventory/inventory.js';

const quietSource = (): PacketSource => ({
  interfaceName: 'flood0',
  onPacket: () => () => {},
  sendFrames: () => {},
  stats: () => ({ received: 0, dropped: 0, interfaceDropped: 0 }),
  close: () => {},
});

describe('event floods', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-flood-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('one MAC alternating between two IPs: 20 000 ip_changed raised, a handful logged and stored, all counted, the latest kept', async () => {
    const cfg = parseConfig(`interfaces:\n  - {name: flood0, cidrs: [198.18.70.0/24], gateway: none}\nstorage: {path: ${dir}}\n`);
    const store = new Store(dir);
    const lines: string[] = [];
    const log = new Logger('info', 'logfmt', {}, (l) => lines.push(l));
    const persister = new Persister(store, log);
    const segment = new SegmentMonitor(cfg.interfaces[0], cfg, persister, log, [], null);
    const channel = new ArpChannel(quietSource());
    channel.onArp((p, ts) => segment.observeArp(p, ts));
    const mac = '02:00:00:00:70:01';
    const N = 20_000;
    for (let i = 0; i <= N; i++) {
      const ip = i % 2 ? '198.18.70.11' : '198.18.70.10';
      channel.receive(buildArpFrame({ op: 'request', senderMac: mac, senderIp: ip, targetIp: '198.18.70.1' }), Date.now());
    }
    const eventLines = lines.filter((l) => l.includes('msg=event') && l.includes('event=ip_changed'));
    assert.equal(segment.events.get('ip_changed'), N, 'every raised event is counted');
    assert.ok(eventLines.length <= 5, `log lines are rate-limited: ${eventLines.length}`);
    assert.equal(segment.eventsSuppressed.get('ip_changed'), N - eventLines.length, 'what was not logged is counted as suppressed');
    await segment.stop(); // ends the window: the latest suppressed event is written with the count
    const stored = store.recentEvents(100).filter((e) => e.kind === 'ip_changed');
    assert.ok(stored.length <= 6, `stored rows are rate-limited: ${stored.length}`);
    const summary = stored[0];
    assert.equal(summary.detail.suppressed, N - eventLines.length, 'the summary says how many were suppressed');
    assert.equal(summary.ip, '198.18.70.10', 'the latest event is the one kept');
    assert.equal(summary.detail.new_ip, '198.18.70.10');
    assert.equal(stored.at(-1)!.detail.new_ip, '198.18.70.11', 'the first is kept too');
    const summaryLine = lines.filter((l) => l.includes('event=ip_changed')).at(-1)!;
    assert.match(summaryLine, new RegExp(`suppressed=${N - eventLines.length} `));
    assert.equal(stored.length + (N - eventLines.length), N + 1, 'every raised event is either stored or counted in a stored summary');
    store.close();
  });
});

describe('EventLimiter', () => {
  const ev = (kind: string, mac: string | null, tsMs: number, ip: string | null = null): DeviceEvent =>
    ({ tsMs, interface: 'eth0', kind, mac, ip, detail: {} }) as unknown as DeviceEvent;

  it('limits per device and kind, including kinds it has never heard of', () => {
    const l = new EventLimiter({ burst: 2, windowMs: 1000, maxKeys: 100 });
    const passed = l.admit([ev('mac_rotated', 'a', 0), ev('mac_rotated', 'a', 1), ev('mac_rotated', 'a', 2), ev('ip_takeover', 'a', 3), ev('mac_rotated', 'b', 4)], 10);
    assert.deepEqual(passed.map((e) => `${e.kind}/${e.mac}/${e.tsMs}`), ['mac_rotated/a/0', 'mac_rotated/a/1', 'ip_takeover/a/3', 'mac_rotated/b/4']);
    assert.deepEqual(Object.fromEntries(l.suppressed), { mac_rotated: 1 });
  });

  it('a window that ends gives the latest suppressed event with the count; a new window starts fresh', () => {
    const l = new EventLimiter({ burst: 1, windowMs: 1000, maxKeys: 100 });
    l.admit([ev('ip_changed', 'a', 0), ev('ip_changed', 'a', 1), ev('ip_changed', 'a', 2)], 0);
    assert.deepEqual(l.due(999), []);
    const [summary] = l.due(1000);
    assert.equal(summary.tsMs, 2);
    assert.equal(summary.detail.suppressed, 2);
    assert.deepEqual(l.due(5000), [], 'once');
    assert.equal(l.admit([ev('ip_changed', 'a', 3)], 1001).length, 1);
  });

  it('events without a MAC are keyed by their IP', () => {
    const l = new EventLimiter({ burst: 1, windowMs: 1000, maxKeys: 100 });
    assert.equal(l.admit([ev('x', null, 0, '198.18.0.1'), ev('x', null, 0, '198.18.0.2'), ev('x', null, 0, '198.18.0.1')], 0).length, 2);
  });

  it('is bounded: beyond maxKeys the oldest key is let go, its summary first', () => {
    const l = new EventLimiter({ burst: 1, windowMs: 60_000, maxKeys: 3 });
    l.admit([ev('k', 'a', 0), ev('k', 'a', 1)], 0);
    const passed = l.admit(['b', 'c', 'd'].map((m, i) => ev('k', m, 10 + i)), 10);
    assert.equal(passed.length, 3);
    assert.equal(l.size, 3);
    assert.deepEqual(l.drain().map((e) => [e.mac, e.detail.suppressed]), [['a', 1]], 'the evicted key summary is kept for the next flush');
  });
});
