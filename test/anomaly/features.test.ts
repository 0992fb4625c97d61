import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_INDEX as F } from '../../src/anomaly/feature-names.js';
import { FeatureState } from '../../src/anomaly/features.js';
import { isRandomizedMac } from '../../src/net/mac.js';
import type { SweepRecord } from '../../src/anomaly/types.js';
import { ALWAYS_ON, GATEWAY, KNOWN, mac, nextTs, quietHistory, STEP, T0 } from './helpers.js';

const state = (known = KNOWN) => new FeatureState({ windowSeconds: 28 * 86400, tzOffsetMinutes: 0, gatewayIp: GATEWAY.ip }, known);

function run(history: SweepRecord[], known = KNOWN): number[][] {
  const s = state(known);
  return history.map((h) => s.step(h));
}

test('features come from past sweeps only: changing the future does not change earlier rows', () => {
  const base = quietHistory(400);
  const alt = base.map((s, i) => (i >= 350 ? { tsSeconds: s.tsSeconds, devices: [...s.devices, { mac: mac(i), ip: `192.168.1.${150 + (i % 50)}` }] } : s));
  const a = run(base);
  const b = run(alt);
  assert.deepEqual(a.slice(0, 350), b.slice(0, 350));
  assert.notDeepEqual(a.slice(350), b.slice(350));
});

test('a new device is new once, then recent; randomized MACs are recognised', () => {
  const h = quietHistory(300);
  const s = state();
  for (const x of h) s.step(x);
  const t = nextTs(h);
  const extra = [{ mac: mac(1, true), ip: '192.168.1.200' }];
  const f1 = s.step({ tsSeconds: t, devices: [...h[0].devices, ...extra] });
  const f2 = s.step({ tsSeconds: t + STEP, devices: [...h[0].devices, ...extra] });
  assert.equal(f1[F.new_devices], 1);
  assert.equal(f2[F.new_devices], 0);
  assert.equal(f2[F.new_recent], 1);
  assert.equal(f1[F.unknown_present], 1);
  assert.ok(isRandomizedMac(mac(1, true)));
  assert.ok(!isRandomizedMac(ALWAYS_ON[0].mac));
  assert.ok(f1[F.random_present] >= 1);
});

test('gateway IP answered by a second MAC is a conflict; an extender answering for clients is not a duplicate', () => {
  const ext = { mac: '00:11:22:33:44:99', ip: '192.168.1.2' };
  const known = [...KNOWN, { mac: ext.mac, class: 'extender' }];
  const h = quietHistory(300).map((s) => ({ tsSeconds: s.tsSeconds, devices: [...s.devices, ext] }));
  const s = state(known);
  for (const x of h) s.step(x);
  const t = nextTs(h);
  const base = h[h.length - 1].devices;
  const spoof = s.step({ tsSeconds: t, devices: [...base, { mac: mac(5), ip: GATEWAY.ip }] });
  assert.equal(spoof[F.gateway_conflict], 1);
  // the extender answers for a client's IP while the client also still answers (roaming moment)
  const client = ALWAYS_ON[3];
  const nat = s.step({ tsSeconds: t + STEP, devices: [...base, { mac: ext.mac, ip: client.ip }] });
  assert.equal(nat[F.dup_ip], 0);
  assert.equal(nat[F.gateway_conflict], 0);
  const dup = s.step({ tsSeconds: t + 2 * STEP, devices: [...base, { mac: mac(6), ip: ALWAYS_ON[4].ip }] });
  assert.equal(dup[F.dup_ip], 1);
});

test('always-on devices missing are debounced and measured against their own usual gaps', () => {
  const h = quietHistory(1000); // three and a half days: long enough to know who is always on
  const s = state();
  for (const x of h) s.step(x);
  const gone = ALWAYS_ON[2].mac;
  const base = [GATEWAY, ...ALWAYS_ON].filter((d) => d.mac !== gone);
  let t = nextTs(h);
  const first = s.step({ tsSeconds: t, devices: base });
  assert.equal(first[F.always_on_missing], 0, 'one missed reply is ARP loss');
  assert.equal(first[F.always_on_surprise], -5, 'nothing missing for two sweeps yet');
  let last = first;
  const surprise: number[] = [];
  for (let k = 0; k < 24; k++) {
    last = s.step({ tsSeconds: (t += STEP), devices: base });
    surprise.push(last[F.always_on_surprise]);
  }
  assert.ok(surprise.every((x, i) => i === 0 || x > surprise[i - 1]), 'the longer the gap, the more surprising');
  assert.equal(last[F.always_on_missing], 1);
  // a device that loses 1 % of its replies: two hours away is far beyond any day of its history
  assert.ok(last[F.always_on_surprise] > 10, `${last[F.always_on_surprise]}`);
  assert.ok(last[F.segment_missing_frac] > 0 && last[F.segment_missing_frac] < 0.2);
  assert.deepEqual(
    s.involved.filter((i) => i.group === 'overdue').map((i) => [i.mac, i.sinceTs]),
    [[gone, nextTs(h)]],
  );
});

test('always-on is learned with tolerance for brief misses: a device answering one sweep in three still counts', () => {
  const flaky = ALWAYS_ON[7].mac;
  const h = quietHistory(1000).map((x, i) => ({ tsSeconds: x.tsSeconds, devices: x.devices.filter((d) => d.mac !== flaky || i % 3 === 0) }));
  const s = state();
  for (const x of h) s.step(x);
  let t = nextTs(h);
  const without = [GATEWAY, ...ALWAYS_ON].filter((d) => d.mac !== flaky);
  // its usual two-sweep gaps are not news ...
  s.step({ tsSeconds: t, devices: without });
  let f = s.step({ tsSeconds: (t += STEP), devices: without });
  assert.equal(f[F.always_on_missing], 0);
  // ... an hour and a half away is
  for (let k = 0; k < 18; k++) f = s.step({ tsSeconds: (t += STEP), devices: without });
  assert.equal(f[F.always_on_missing], 1);
  assert.ok(f[F.always_on_surprise] > 4, `${f[F.always_on_surprise]}`);
});

test('a mass drop is devices usually present vanishing together; one device, or phones leaving when they usually do, is not', () => {
  const h = quietHistory(1000);
  const fresh = () => {
    const s = state();
    for (const x of h) s.step(x);
    return s;
  };
  // four always-on devices vanish at once, at night (the phones are home)
  let s = fresh();
  const gone = ALWAYS_ON.slice(0, 4).map((d) => d.mac);
  let t = nextTs(h);
  const keep = h[h.length - 1].devices.filter((d) => !gone.includes(d.mac));
  s.step({ tsSeconds: t, devices: keep });
  const drop = s.step({ tsSeconds: (t += STEP), devices: keep });
  assert.ok(drop[F.drop_sync] > 10, `${drop[F.drop_sync]}`);
  assert.ok(drop[F.drop_share] > 0.2 && drop[F.drop_share] < 0.5, `${drop[F.drop_share]}`);
  const named = s.involved.filter((i) => i.group === 'drop');
  assert.deepEqual(named.map((i) => i.mac).sort(), [...gone].sort());
  assert.ok(named.every((i) => i.sinceTs === nextTs(h)));
  // one device alone is not a mass drop
  s = fresh();
  t = nextTs(h);
  const one = h[h.length - 1].devices.filter((d) => d.mac !== ALWAYS_ON[0].mac);
  s.step({ tsSeconds: t, devices: one });
  assert.equal(s.step({ tsSeconds: t + STEP, devices: one })[F.drop_sync], 0);
  // the phones leave at 8:00 as every weekday: usually absent from then on, they weigh nothing
  s = state();
  const day = 288;
  const upTo8 = quietHistory(3 * day + 96 + 2); // Monday..Thursday 08:10
  for (const x of upTo8) s.step(x);
  assert.equal(s.step(quietHistory(1, 7, 3 * day + 98)[0])[F.drop_sync], 0);
});

test('a new device at night is rare, the same in the daytime is not; vendor and private MACs apart', () => {
  const h = quietHistory(3 * 288); // three days: nothing new ever arrives at night
  const s = state();
  for (const x of h) s.step(x);
  const night = s.step({ tsSeconds: nextTs(h) + 3 * 3600, devices: [...h[0].devices, { mac: mac(40), ip: '192.168.1.240' }] }); // 03:00
  assert.ok(night[F.night_new] > 0.9, `${night[F.night_new]}`);
  assert.equal(night[F.night_new_random], 0);
  assert.deepEqual(
    s.involved.filter((i) => i.group === 'night').map((i) => i.mac),
    [mac(40)],
  );
  const noon = s.step({ tsSeconds: nextTs(h) + 12 * 3600, devices: [...h[0].devices, { mac: mac(41, true), ip: '192.168.1.241' }] });
  assert.ok(noon[F.night_new_random] > 0 && noon[F.night_new_random] < 0.4, `${noon[F.night_new_random]}: people are about in the daytime`);
});

/** A quiet network (the gateway and the always-on devices answer every sweep) swept every `interval` seconds. */
function sweeper(interval: number) {
  const state = new FeatureState({ windowSeconds: 28 * 86400, tzOffsetMinutes: 0, gatewayIp: GATEWAY.ip, intervalSeconds: interval }, KNOWN);
  let ts = T0;
  return {
    /** Sweeps until `seconds` after the first sweep (exclusive), with `devices` answering besides the base. */
    until(seconds: number, devices: (typeof ALWAYS_ON)[number][] = [], without: string[] = []): number[] {
      let f: number[] = [];
      while (ts < T0 + seconds) f = this.sweep(devices, without);
      return f;
    },
    sweep(devices: (typeof ALWAYS_ON)[number][] = [], without: string[] = []): number[] {
      const base = [GATEWAY, ...ALWAYS_ON].filter((d) => !without.includes(d.mac));
      const f = state.step({ tsSeconds: ts, devices: [...base, ...devices] });
      ts += interval;
      return f;
    },
    get elapsed(): number {
      return ts - T0;
    },
  };
}

test('windows are hours and days at any scan.interval: 1-minute sweeps mean what 5-minute sweeps mean', () => {
  const HOUR = 3600;
  for (const interval of [60, 300]) {
    const n = sweeper(interval);
    // within the first hour of history (the bootstrap), a newcomer is not "new"
    n.until(HOUR / 2);
    const early = { mac: mac(1), ip: '192.168.1.201' };
    assert.equal(n.sweep([early])[F.new_devices], 0, `${interval}s: bootstrap lasts an hour`);
    n.until(2 * HOUR, [early]);
    // a newcomer after it is new, and recent for three hours
    const late = { mac: mac(2), ip: '192.168.1.202' };
    const arrival = n.elapsed;
    const first = n.sweep([early, late]);
    assert.deepEqual([first[F.new_devices], first[F.new_recent]], [1, 1], `${interval}s: new after the bootstrap`);
    assert.equal(n.until(arrival + 3 * HOUR + 1, [early, late])[F.new_recent], 1, `${interval}s: still recent 3 h later`);
    assert.equal(n.sweep([early, late])[F.new_recent], 0, `${interval}s: no longer recent after 3 h`);
    // a randomized MAC counts as new within the hour
    const phone = { mac: mac(3, true), ip: '192.168.1.203' };
    const seen = n.elapsed;
    assert.equal(n.sweep([early, late, phone])[F.random_new_1h], 1, `${interval}s: a new randomized MAC`);
    assert.equal(n.until(seen + HOUR, [early, late, phone])[F.random_new_1h], 1, `${interval}s: within the hour`);
    assert.equal(n.sweep([early, late, phone])[F.random_new_1h], 0, `${interval}s: not after an hour`);
  }
});

test('always-on takes three days of presence at any scan.interval', () => {
  for (const interval of [60, 300]) {
    const n = sweeper(interval);
    // present for two days (2880 sweeps at 1 minute): not yet always-on
    n.until(48 * 3600);
    n.sweep([], [ALWAYS_ON[0].mac]);
    assert.equal(n.sweep([], [ALWAYS_ON[0].mac])[F.always_on_missing], 0, `${interval}s: two days are not enough`);
    n.until(73 * 3600);
    let f: number[] = [];
    for (let k = 0; k < Math.ceil(1800 / interval); k++) f = n.sweep([], [ALWAYS_ON[1].mac]);
    assert.equal(f[F.always_on_missing], 1, `${interval}s: missing for half an hour after three days of presence`);
  }
});
