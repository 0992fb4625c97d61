// Inventory bookkeeping: events, presence with a grace period, retention, the max_devices cap,
// passive observation and the gateway watch. Time is passed in, so nothing here sleeps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KnownDeviceConfig } from '../../src/config/schema.js';
import { EVENT_KINDS, Inventory, type DeviceEvent, type InventoryOptions } from '../../src/inventory/inventory.js';
import type { StoredDevice } from '../../src/store/store.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1);

function known(mac: string, extra: Partial<KnownDeviceConfig> = {}): [string, KnownDeviceConfig] {
  return [mac, { mac, name: `dev-${mac.slice(-2)}`, class: '', critical: false, can_sleep: false, ...extra }];
}

function options(extra: Partial<InventoryOptions> = {}): InventoryOptions {
  return {
    absentAfterMs: 15 * MIN,
    sleepyAbsentAfterMs: 120 * MIN,
    retentionMs: 30 * 24 * 60 * MIN,
    maxDevices: 10_000,
    known: new Map(),
    gatewayIp: null,
    ...extra,
  };
}

const mac = (n: number) => `02:00:00:00:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
const kinds = (events: DeviceEvent[]) => events.map((e) => e.kind);
const answer = (ip: string, m: string, rttMs: number | null = 1) => ({ ip, mac: m, rttMs });

describe('Inventory: observing devices', () => {
  it('a new MAC raises new_device once, with vendor and randomized flag', () => {
    const inv = new Inventory('eth0', options());
    const e1 = inv.observe('00:16:3e:00:00:01', '198.18.0.2', T0, 1.5);
    assert.deepEqual(kinds(e1), ['new_device']);
    assert.equal(e1[0].interface, 'eth0');
    assert.equal(e1[0].mac, '00:16:3e:00:00:01');
    assert.equal(e1[0].ip, '198.18.0.2');
    assert.equal(e1[0].tsMs, T0);
    assert.equal(e1[0].detail.randomized, false);
    assert.equal(typeof e1[0].detail.vendor, 'string');
    assert.deepEqual(inv.observe('00:16:3e:00:00:01', '198.18.0.2', T0 + 1000, 2), []);
    const d = inv.devices.get('00:16:3e:00:00:01')!;
    assert.deepEqual(d.ips, ['198.18.0.2']);
    assert.equal(d.firstSeenMs, T0);
    assert.equal(d.lastSeenMs, T0 + 1000);
    assert.equal(d.lastRttMs, 2);
    assert.equal(d.present, true);
    assert.equal(inv.observe('06:00:00:00:00:01', '198.18.0.3', T0, null)[0].detail.randomized, true);
  });

  it('an IP change raises ip_changed and keeps a short history, newest first', () => {
    const inv = new Inventory('eth0', options());
    inv.observe(mac(1), '198.18.0.10', T0, 1);
    const e = inv.observe(mac(1), '198.18.0.11', T0 + 1, 1);
    assert.deepEqual(kinds(e), ['ip_changed']);
    assert.deepEqual(e[0].detail, { old_ip: '198.18.0.10', new_ip: '198.18.0.11' });
    for (let i = 12; i < 20; i++) inv.observe(mac(1), `198.18.0.${i}`, T0 + i, 1);
    assert.deepEqual(inv.devices.get(mac(1))!.ips, ['198.18.0.19', '198.18.0.18', '198.18.0.17', '198.18.0.16']);
    // Returning to an address in the history moves it to the front without duplicating it.
    inv.observe(mac(1), '198.18.0.17', T0 + 100, 1);
    assert.deepEqual(inv.devices.get(mac(1))!.ips, ['198.18.0.17', '198.18.0.19', '198.18.0.18', '198.18.0.16']);
  });

  it('an ARP probe from 0.0.0.0 refreshes presence without touching the address', () => {
    const inv = new Inventory('eth0', options());
    assert.equal(inv.observe(mac(1), '0.0.0.0', T0, null)[0].ip, null);
    assert.deepEqual(inv.devices.get(mac(1))!.ips, []);
    inv.observe(mac(1), '198.18.0.10', T0 + 1, null);
    assert.deepEqual(inv.observe(mac(1), '0.0.0.0', T0 + 2, null), []);
    assert.deepEqual(inv.devices.get(mac(1))!.ips, ['198.18.0.10']);
    assert.equal(inv.devices.get(mac(1))!.lastSeenMs, T0 + 2);
  });

  it('a late (out-of-order) observation never moves lastSeenMs backwards; a null RTT keeps the last one', () => {
    const inv = new Inventory('eth0', options());
    inv.observe(mac(1), '198.18.0.10', T0 + 5000, 3);
    inv.observe(mac(1), '198.18.0.10', T0, null);
    assert.equal(inv.devices.get(mac(1))!.lastSeenMs, T0 + 5000);
    assert.equal(inv.devices.get(mac(1))!.lastRttMs, 3);
  });
});

describe('Inventory: sweeps', () => {
  it('an IP answered by two MACs raises ip_conflict once while it lasts, and again when it recurs', () => {
    const inv = new Inventory('eth0', options());
    const both = [answer('198.18.0.5', mac(1)), answer('198.18.0.5', mac(2))];
    const e1 = inv.applySweep(both, T0);
    assert.deepEqual(kinds(e1), ['new_device', 'new_device', 'ip_conflict']);
    assert.deepEqual(e1[2].detail, { macs: [mac(1), mac(2)] });
    assert.equal(e1[2].ip, '198.18.0.5');
    assert.equal(inv.conflictCount(), 1);
    assert.deepEqual(kinds(inv.applySweep(both, T0 + MIN)), []);
    assert.equal(inv.conflictCount(), 1);
    inv.applySweep([answer('198.18.0.5', mac(1))], T0 + 2 * MIN);
    assert.equal(inv.conflictCount(), 0);
    assert.deepEqual(kinds(inv.applySweep(both, T0 + 3 * MIN)), ['ip_conflict']);
  });

  it('an IP taken over by another MAC raises ip_changed naming both MACs', () => {
    const inv = new Inventory('eth0', options());
    inv.applySweep([answer('198.18.0.5', mac(1))], T0);
    const e = inv.applySweep([answer('198.18.0.5', mac(2))], T0 + MIN);
    assert.deepEqual(kinds(e), ['new_device', 'ip_changed']);
    assert.deepEqual(e[1].detail, { old_mac: mac(1), new_mac: mac(2) });
  });

  it('a device that changed its own IP raises a single ip_changed', () => {
    const inv = new Inventory('eth0', options());
    inv.applySweep([answer('198.18.0.5', mac(1)), answer('198.18.0.6', mac(2))], T0);
    // mac(1) moves to .6 and mac(2) to .5: one ip_changed each, not one per address as well.
    const e = inv.applySweep([answer('198.18.0.6', mac(1)), answer('198.18.0.5', mac(2))], T0 + MIN);
    assert.deepEqual(kinds(e), ['ip_changed', 'ip_changed']);
    assert.deepEqual(e.map((x) => x.detail), [
      { old_ip: '198.18.0.5', new_ip: '198.18.0.6' },
      { old_ip: '198.18.0.6', new_ip: '198.18.0.5' },
    ]);
  });

  it('restored devices are not new and their addresses are remembered', () => {
    const stored: StoredDevice = {
      interface: 'eth0',
      mac: mac(1),
      ips: ['198.18.0.5'],
      vendor: '',
      randomized: true,
      firstSeenMs: T0 - 10 * MIN,
      lastSeenMs: T0 - MIN,
      lastRttMs: 1,
      present: true,
      absentSinceMs: null,
    };
    const inv = new Inventory('eth0', options(), [stored]);
    assert.deepEqual(inv.applySweep([answer('198.18.0.5', mac(1))], T0), []);
    assert.equal(inv.devices.get(mac(1))!.firstSeenMs, T0 - 10 * MIN);
    assert.deepEqual(kinds(inv.applySweep([answer('198.18.0.5', mac(2))], T0 + MIN)), ['new_device', 'ip_changed']);
    // The caller's object is not mutated.
    assert.equal(stored.lastSeenMs, T0 - MIN);
  });
});

describe('Inventory: presence with a grace period', () => {
  it('a silent device becomes a candidate after absent_after, and gone only when marked', () => {
    const inv = new Inventory('eth0', options());
    inv.observe(mac(1), '198.18.0.5', T0, 1);
    assert.deepEqual(inv.absentCandidates(T0 + 15 * MIN), []); // exactly absent_after: not yet
    const candidates = inv.absentCandidates(T0 + 15 * MIN + 1);
    assert.deepEqual(candidates.map((d) => d.mac), [mac(1)]);
    assert.equal(inv.devices.get(mac(1))!.present, true, 'being a candidate does not change presence');
    const gone = inv.markGone([mac(1)], T0 + 16 * MIN);
    assert.deepEqual(kinds(gone), ['device_gone']);
    assert.equal(gone[0].ip, '198.18.0.5');
    assert.equal(gone[0].detail.last_seen, new Date(T0).toISOString());
    const d = inv.devices.get(mac(1))!;
    assert.equal(d.present, false);
    assert.equal(d.absentSinceMs, T0 + 16 * MIN);
    assert.deepEqual(inv.markGone([mac(1), mac(9)], T0 + 17 * MIN), [], 'already gone or unknown: no event');
    assert.deepEqual(inv.absentCandidates(T0 + 60 * MIN), [], 'absent devices are not candidates again');
  });

  it('a candidate that answers the re-probe stays present (no gone/back flap)', () => {
    const inv = new Inventory('eth0', options());
    inv.observe(mac(1), '198.18.0.5', T0, 1);
    const now = T0 + 20 * MIN;
    const candidates = inv.absentCandidates(now);
    assert.equal(candidates.length, 1);
    assert.deepEqual(inv.observe(mac(1), '198.18.0.5', now + 100, 1), []); // the re-probe reply
    const answered = new Set([mac(1)]);
    assert.deepEqual(inv.markGone(candidates.filter((d) => !answered.has(d.mac)).map((d) => d.mac), now), []);
    assert.equal(inv.devices.get(mac(1))!.present, true);
  });

  it('a gone device that returns raises device_back with the absence length', () => {
    const inv = new Inventory('eth0', options());
    inv.observe(mac(1), '198.18.0.5', T0, 1);
    inv.markGone([mac(1)], T0 + 20 * MIN);
    const back = inv.applySweep([answer('198.18.0.5', mac(1))], T0 + 50 * MIN);
    assert.deepEqual(kinds(back), ['device_back']);
    assert.equal(back[0].detail.absent_seconds, 30 * 60);
    const d = inv.devices.get(mac(1))!;
    assert.equal(d.present, true);
    assert.equal(d.absentSinceMs, null);
    // Coming back on another address: device_back and ip_changed.
    inv.markGone([mac(1)], T0 + 80 * MIN);
    assert.deepEqual(kinds(inv.observePassive(mac(1), '198.18.0.6', T0 + 90 * MIN)), ['device_back', 'ip_changed']);
  });

  it('known devices use their own absent_after, or the sleepy one when they can sleep', () => {
    const k = new Map([known(mac(1), { can_sleep: true }), known(mac(2), { absent_after: 5 * MIN }), known(mac(3), { can_sleep: true, absent_after: 1 * MIN })]);
    const inv = new Inventory('eth0', options({ known: k }));
    for (const n of [1, 2, 3, 4]) inv.observe(mac(n), `198.18.0.${n}`, T0, 1);
    assert.equal(inv.absentAfter(mac(1)), 120 * MIN);
    assert.equal(inv.absentAfter(mac(2)), 5 * MIN);
    assert.equal(inv.absentAfter(mac(3)), 1 * MIN);
    assert.equal(inv.absentAfter(mac(4)), 15 * MIN);
    const at = (ms: number) => inv.absentCandidates(T0 + ms).map((d) => d.mac).sort();
    assert.deepEqual(at(2 * MIN), [mac(3)]);
    assert.deepEqual(at(10 * MIN), [mac(2), mac(3)]);
    assert.deepEqual(at(30 * MIN), [mac(2), mac(3), mac(4)]);
    assert.deepEqual(at(121 * MIN), [mac(1), mac(2), mac(3), mac(4)]);
  });
});

describe('Inventory: retention', () => {
  it('expire drops absent unknown devices past the retention, never known or present ones', () => {
    const k = new Map([known(mac(2))]);
    const inv = new Inventory('eth0', options({ known: k, retentionMs: 60 * MIN }));
    inv.applySweep([1, 2, 3].map((n) => answer(`198.18.0.${n}`, mac(n))), T0);
    inv.markGone([mac(1), mac(2)], T0 + 20 * MIN);
    inv.takeChanges();
    assert.deepEqual(inv.expire(T0 + 60 * MIN), [], 'retention counts from last seen, exclusive');
    assert.deepEqual(inv.expire(T0 + 61 * MIN), [mac(1)]);
    assert.deepEqual([...inv.devices.keys()].sort(), [mac(2), mac(3)]);
    assert.deepEqual(inv.takeChanges(), { devices: [], removed: [mac(1)] });
    // Its address is free again: a new owner is not an IP change.
    assert.deepEqual(kinds(inv.applySweep([answer('198.18.0.1', mac(9))], T0 + 62 * MIN)), ['new_device']);
    // An expired device that comes back is new again.
    assert.deepEqual(kinds(inv.observe(mac(1), '198.18.0.1', T0 + 63 * MIN, 1)), ['new_device']);
  });
});

describe('Inventory: max_devices', () => {
  it('over the cap, the oldest absent unknown device makes room', () => {
    const inv = new Inventory('eth0', options({ maxDevices: 3 }));
    for (const n of [1, 2, 3]) inv.observe(mac(n), `198.18.0.${n}`, T0 + n, 1);
    inv.markGone([mac(2), mac(3)], T0 + MIN);
    inv.takeChanges();
    assert.deepEqual(kinds(inv.observe(mac(4), '198.18.0.4', T0 + 2 * MIN, 1)), ['new_device']);
    assert.deepEqual([...inv.devices.keys()].sort(), [mac(1), mac(3), mac(4)]);
    assert.equal(inv.overflow, 0);
    assert.deepEqual(inv.takeChanges().removed, [mac(2)]);
  });

  it('present devices are never evicted: new MACs are counted as overflow instead', () => {
    const inv = new Inventory('eth0', options({ maxDevices: 3 }));
    for (const n of [1, 2, 3]) inv.observe(mac(n), `198.18.0.${n}`, T0, 1);
    for (let n = 4; n < 104; n++) assert.deepEqual(inv.observe(mac(n), `198.18.0.${n}`, T0 + n, 1), []);
    assert.equal(inv.devices.size, 3);
    assert.equal(inv.overflow, 100);
    // The sweep path counts them too and raises no event for them.
    assert.deepEqual(inv.applySweep([answer('198.18.1.1', mac(200))], T0 + MIN), []);
    assert.equal(inv.overflow, 101);
  });

  it('known devices are never evicted, and are admitted even when the cap is full', () => {
    const k = new Map([known(mac(1)), known(mac(500))]);
    const inv = new Inventory('eth0', options({ known: k, maxDevices: 3 }));
    inv.observe(mac(1), '198.18.0.1', T0, 1);
    inv.markGone([mac(1)], T0 + 1); // absent and the oldest, but known
    inv.observe(mac(2), '198.18.0.2', T0 + 2, 1);
    inv.observe(mac(3), '198.18.0.3', T0 + 3, 1);
    // A flood of random MACs: none is tracked, the known absent device stays.
    for (let n = 10; n < 1000; n++) {
      if (n === 500) continue;
      inv.observe(mac(n), '0.0.0.0', T0 + n, null);
    }
    assert.ok(inv.devices.has(mac(1)));
    assert.equal(inv.devices.size, 3);
    assert.equal(inv.overflow, 989);
    // A known device first seen during the flood is still tracked.
    assert.deepEqual(kinds(inv.observe(mac(500), '198.18.0.50', T0 + 2000, 1)), ['new_device']);
    assert.ok(inv.devices.has(mac(500)));
    assert.equal(inv.overflow, 989);
  });

  it('lowering max_devices evicts absent unknown devices as new ones arrive', () => {
    const inv = new Inventory('eth0', options({ maxDevices: 10 }));
    for (let n = 1; n <= 10; n++) inv.observe(mac(n), `198.18.0.${n}`, T0 + n, 1);
    inv.markGone([1, 2, 3, 4, 5, 6].map(mac), T0 + MIN);
    inv.setOptions(options({ maxDevices: 5 }));
    inv.observe(mac(11), '198.18.0.11', T0 + 2 * MIN, 1);
    assert.equal(inv.devices.size, 5);
    assert.deepEqual([...inv.devices.keys()].sort(), [7, 8, 9, 10, 11].map(mac));
  });
});

describe('Inventory: passive observation and the gateway watch', () => {
  const GW = '198.18.0.1';
  const REAL = '00:16:3e:00:00:01';
  const EVIL = '00:16:3e:66:66:66';

  it('the first MAC answering for the gateway is learnt silently', () => {
    const inv = new Inventory('eth0', options({ gatewayIp: GW }));
    assert.deepEqual(kinds(inv.applySweep([answer(GW, REAL)], T0)), ['new_device']);
    assert.equal(inv.gatewayMac, REAL);
    assert.equal(inv.gatewayIp, GW);
  });

  it('a flood of forged gateway claims between two sweeps is one incident, and the next sweep closes it', () => {
    const inv = new Inventory('eth0', options({ gatewayIp: GW, maxDevices: 10_000 }), [], REAL);
    let changes = 0;
    for (let i = 0; i < 1000; i++) {
      changes += inv.observePassive(mac(i), GW, T0 + i).filter((e) => e.kind === 'gateway_mac_changed').length;
      if (i % 100 === 0) inv.observePassive(REAL, GW, T0 + i); // the real gateway keeps announcing itself
    }
    assert.equal(changes, 1);
    assert.equal(inv.gatewayMac, REAL);
    inv.applySweep([answer(GW, REAL)], T0 + MIN);
    assert.deepEqual(kinds(inv.observePassive(EVIL, GW, T0 + 2 * MIN)).filter((k) => k === 'gateway_mac_changed'), ['gateway_mac_changed']);
  });

  it('a spoofed passive reply raises gateway_mac_changed once and does not replace the real MAC', () => {
    const inv = new Inventory('eth0', options({ gatewayIp: GW }), [], REAL);
    const e1 = inv.observePassive(EVIL, GW, T0);
    assert.deepEqual(kinds(e1), ['new_device', 'gateway_mac_changed']);
    assert.deepEqual(e1[1].detail, { old_mac: REAL, new_mac: EVIL });
    assert.equal(e1[1].mac, EVIL);
    assert.equal(e1[1].ip, GW);
    assert.deepEqual(kinds(inv.observePassive(EVIL, GW, T0 + 1)), [], 'no repeat while the same stranger persists');
    assert.equal(inv.gatewayMac, REAL);
    // The next sweep hears both: still the real one, still no repeat; an ip_conflict though.
    assert.deepEqual(kinds(inv.applySweep([answer(GW, REAL), answer(GW, EVIL)], T0 + MIN)), ['new_device', 'ip_conflict']);
    assert.equal(inv.gatewayMac, REAL);
    // Calm again, then the stranger returns: alerted again.
    inv.applySweep([answer(GW, REAL)], T0 + 2 * MIN);
    assert.deepEqual(kinds(inv.observePassive(EVIL, GW, T0 + 3 * MIN)), ['gateway_mac_changed']);
  });

  it('a sweep hearing only a new MAC for the gateway means the gateway really changed', () => {
    const inv = new Inventory('eth0', options({ gatewayIp: GW }), [], REAL);
    const e = inv.applySweep([answer(GW, EVIL)], T0);
    assert.deepEqual(kinds(e), ['new_device', 'gateway_mac_changed']);
    assert.equal(inv.gatewayMac, EVIL);
    assert.deepEqual(kinds(inv.applySweep([answer(GW, EVIL)], T0 + MIN)), []);
  });

  it('passive traffic for other addresses does not touch the gateway; a new gateway IP is relearnt', () => {
    const inv = new Inventory('eth0', options({ gatewayIp: GW }), [], REAL);
    assert.deepEqual(kinds(inv.observePassive(EVIL, '198.18.0.99', T0)), ['new_device']);
    assert.equal(inv.gatewayMac, REAL);
    inv.setOptions(options({ gatewayIp: '198.18.0.254' }));
    assert.equal(inv.gatewayMac, null);
    assert.deepEqual(kinds(inv.applySweep([answer('198.18.0.254', EVIL)], T0 + MIN)), ['ip_changed'], 'moved from .99; no gateway alert');
    assert.equal(inv.gatewayMac, EVIL);
    // No gateway configured: nothing is watched.
    const none = new Inventory('eth0', options());
    none.applySweep([answer(GW, REAL)], T0);
    assert.equal(none.gatewayMac, null);
  });
});

describe('Inventory: changes for the store', () => {
  it('takeChanges returns copies of changed devices once', () => {
    const inv = new Inventory('eth0', options());
    inv.observe(mac(1), '198.18.0.1', T0, 1);
    inv.observe(mac(2), '198.18.0.2', T0, 1);
    const c = inv.takeChanges();
    assert.deepEqual(c.devices.map((d) => d.mac).sort(), [mac(1), mac(2)]);
    c.devices[0].present = false;
    assert.equal(inv.devices.get(c.devices[0].mac)!.present, true, 'a copy, not the live object');
    assert.deepEqual(inv.takeChanges(), { devices: [], removed: [] });
    inv.markGone([mac(1)], T0 + 20 * MIN);
    assert.deepEqual(inv.takeChanges().devices.map((d) => [d.mac, d.present]), [[mac(1), false]]);
  });

  it('every event kind is one of EVENT_KINDS', () => {
    assert.deepEqual([...EVENT_KINDS], ['new_device', 'device_gone', 'device_back', 'ip_changed', 'ip_conflict', 'gateway_mac_changed']);
  });
});
