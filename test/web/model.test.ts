// The page's device model (src/web/model.ts, no DOM): search, filters, sorting and live updates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceModel, ipNumber, type Filter, type Sort } from '../../src/web/model.js';
import type { Device } from '../../src/web/types.js';

const TODAY = Date.UTC(2026, 0, 10);
const NONE: Filter = { text: '', present: false, unknown: false, newToday: false, iface: '' };
const BY_IP: Sort = { key: 'ip', dir: 1 };

function d(mac: string, ip: string | null, extra: Partial<Device> = {}): Device {
  return {
    interface: 'eth0', mac, ip, ips: ip ? [ip] : [], vendor: 'Xensource, Inc.', name: null, class: null, known: false, critical: false,
    randomized: false, present: true, first_seen: new Date(TODAY + 1000).toISOString(), last_seen: new Date(TODAY + 2000).toISOString(), rtt_ms: null, ...extra,
  };
}

function model(): DeviceModel {
  const m = new DeviceModel();
  m.upsert([
    d('00:00:00:00:00:0a', '198.18.0.10', { name: 'nas', class: 'storage', known: true }),
    d('00:00:00:00:00:02', '198.18.0.2', { name: 'Printer', kind: 'printer', os: 'Linux', present: false }),
    d('00:00:00:00:00:03', '198.18.1.1', { interface: 'eth1', first_seen: new Date(TODAY - 86_400_000).toISOString(), vendor: 'Apple, Inc.' }),
    d('02:00:00:00:00:04', null, { randomized: true }),
  ]);
  return m;
}
const macs = (m: DeviceModel, f: Partial<Filter>, s: Sort = BY_IP) => m.query({ ...NONE, ...f }, s, TODAY).map((r) => r.d.mac.slice(-2));

describe('DeviceModel', () => {
  it('sorts by IP numerically, devices without an address first', () => {
    assert.equal(ipNumber('198.18.0.10') > ipNumber('198.18.0.2'), true);
    assert.deepEqual(macs(model(), {}), ['04', '02', '0a', '03']);
  });

  it('search: every term must match name, kind, OS, vendor, MAC, interface or an IP, any case', () => {
    const m = model();
    assert.deepEqual(macs(m, { text: 'printer' }), ['02']);
    assert.deepEqual(macs(m, { text: 'LINUX 198.18.0.2' }), ['02']);
    assert.deepEqual(macs(m, { text: 'storage' }), ['0a']);
    assert.deepEqual(macs(m, { text: 'apple' }), ['03']);
    assert.deepEqual(macs(m, { text: '02:00' }), ['04']);
    assert.deepEqual(macs(m, { text: 'eth1' }), ['03']);
    assert.deepEqual(macs(m, { text: 'nas nothing' }), []);
  });

  it('filters: present, unknown, new today, interface', () => {
    const m = model();
    assert.deepEqual(macs(m, { present: true }), ['04', '0a', '03']);
    assert.deepEqual(macs(m, { unknown: true }), ['04', '02', '03']);
    assert.deepEqual(macs(m, { newToday: true }), ['04', '02', '0a']);
    assert.deepEqual(macs(m, { iface: 'eth1' }), ['03']);
    assert.deepEqual(m.interfaces(), ['eth0', 'eth1']);
    assert.deepEqual(m.counts(), { total: 4, present: 3, unknown: 3 });
  });

  it('sorts by name with unnamed devices last in both directions, and by kind (identified, else class)', () => {
    const m = model();
    assert.deepEqual(macs(m, {}, { key: 'name', dir: 1 }), ['02', '0a', '04', '03']);
    assert.deepEqual(macs(m, {}, { key: 'name', dir: -1 }).slice(0, 2), ['0a', '02']);
    assert.deepEqual(macs(m, {}, { key: 'kind', dir: 1 }).slice(0, 2), ['02', '0a']);
    assert.deepEqual(macs(m, {}, { key: 'present', dir: 1 }).at(-1), '02');
  });

  it('live updates: upsert replaces, seen moves only the last-seen time, remove drops', () => {
    const m = model();
    const v = m.version;
    m.upsert([d('00:00:00:00:00:02', '198.18.0.99', { present: true })]);
    assert.deepEqual(macs(m, { present: true }).includes('02'), true);
    m.seen('eth0', [['00:00:00:00:00:0a', TODAY + 9000, 0.5], ['ff:ff:ff:ff:ff:ff', 1, null]]);
    const row = m.get('eth0|00:00:00:00:00:0a')!;
    assert.equal(row.lastMs, TODAY + 9000);
    assert.equal(row.d.last_seen, new Date(TODAY + 9000).toISOString());
    assert.equal(row.d.rtt_ms, 0.5);
    assert.deepEqual(macs(m, {}, { key: 'last', dir: -1 })[0], '0a');
    m.remove([{ interface: 'eth1', mac: '00:00:00:00:00:03' }]);
    assert.equal(m.size, 3);
    assert.ok(m.version > v);
  });
});
