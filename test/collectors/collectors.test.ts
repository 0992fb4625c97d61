// /metrics as rendered from the exporter's state: names, types and labels match the README's
// metrics reference, values follow the inventory, and `promtool check metrics` is silent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { buildRegistry } from '../../src/collectors/index.js';
import type { KnownDeviceConfig } from '../../src/config/schema.js';
import type { AnomalyReadout, MonitorReadout, SegmentReadout } from '../../src/monitor/readout.js';
import type { SegmentStats } from '../../src/monitor/sweep-stats.js';
import { EVENT_KINDS, Inventory, type EventKind, type InventoryOptions } from '../../src/inventory/inventory.js';
import { DECODE_ERROR_REASONS } from '../../src/arp/codec.js';
import { VERSION } from '../../src/version.js';

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;
const PROMTOOL = '/usr/bin/promtool';

// ---- the README's metrics reference -------------------------------------------------------
interface Documented {
  type: string;
  labels: string[];
}
function readmeMetrics(): Map<string, Documented> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('<!-- section:metrics -->'), readme.indexOf('<!-- /section:metrics -->'));
  const out = new Map<string, Documented>();
  for (const m of section.matchAll(/^\| `(ghosthunter_[a-z_]+)` \| (\w+) \|\s*([^|]*?)\s*\|/gm)) {
    out.set(m[1], { type: m[2], labels: m[3].split(',').map((s) => s.trim()).filter(Boolean).sort() });
  }
  return out;
}

// ---- a minimal parser of the text exposition format ---------------------------------------
interface Family {
  type: string;
  help: string;
  samples: { labels: Record<string, string>; value: number }[];
}
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { type: '', help: '', samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (!line) continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'HELP') family(m[2]).help = m[3];
      else family(m[2]).type = m[3];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    family(m[1]).samples.push({ labels, value: Number(m[3]) });
  }
  return families;
}

// ---- a fake exporter state built on real inventories -------------------------------------
function known(mac: string, extra: Partial<KnownDeviceConfig> = {}): [string, KnownDeviceConfig] {
  return [mac, { mac, name: 'nas', class: 'storage', critical: false, can_sleep: false, ...extra }];
}

function stats(extra: Partial<SegmentStats> = {}): SegmentStats {
  return { sweeps: 0, errors: 0, slow: 0, up: false, running: false, lastStartMs: null, lastDurationSeconds: 0, lastAddresses: 0, lastSuccessMs: null, requestsSent: 0, replies: 0, lastError: null, ...extra };
}

function fakeSegment(name: string, inventory: Inventory, s: SegmentStats, counts: Partial<Record<EventKind, number>> = {}, bogus: [string, number][] = []): SegmentReadout {
  const events = new Map<EventKind, number>(EVENT_KINDS.map((k) => [k, counts[k] ?? 0]));
  return { name, inventory, stats: s, events, capture: () => ({ frames: 1234, dropped: 5, bogus: new Map(bogus) }) };
}

const GW = '00:16:3e:00:00:fe';
const NAS = '00:16:3e:00:00:01';
const PHONE = '06:11:22:33:44:55';
const GONE = '00:16:3e:00:00:99';
const ODD = '00:16:3e:00:00:42';

function scenario() {
  const knownMap = new Map([known(NAS, { name: 'nas "main"\\1', critical: true }), known(GONE, { name: 'printer', class: '' })]);
  const opts: InventoryOptions = { absentAfterMs: 15 * MIN, sleepyAbsentAfterMs: 120 * MIN, retentionMs: 60 * MIN, maxDevices: 4, known: knownMap, gatewayIp: '198.18.0.1' };
  // A restored device whose vendor needs escaping in the exposition format.
  const odd = { interface: 'eth0', mac: ODD, ips: ['198.18.0.42'], vendor: 'Odd "Vendor"\\ Ltd\nSecond line', randomized: false, firstSeenMs: T0 - MIN, lastSeenMs: T0 - MIN, lastRttMs: null, present: true, absentSinceMs: null };
  const eth0 = new Inventory('eth0', opts, [odd]);
  eth0.applySweep(
    [
      { ip: '198.18.0.1', mac: GW, rttMs: 0.5 },
      { ip: '198.18.0.2', mac: NAS, rttMs: 1.25 },
      { ip: '198.18.0.3', mac: PHONE, rttMs: null },
      { ip: '198.18.0.9', mac: GONE, rttMs: 2 },
    ],
    T0,
  );
  eth0.markGone([GONE], T0 + 20 * MIN);
  eth0.observe('02:00:00:00:00:01', '198.18.0.77', T0 + 21 * MIN, null); // over max_devices: overflow
  const eth1 = new Inventory('eth1', { ...opts, gatewayIp: null, maxDevices: 100 });
  eth1.applySweep([{ ip: '198.18.5.5', mac: '00:16:3e:00:05:05', rttMs: 3 }, { ip: '198.18.5.5', mac: '00:16:3e:00:05:06', rttMs: 4 }], T0);

  // eth0's model scores sweeps, eth1's is still training
  const anomaly = new Map<string, AnomalyReadout>([
    ['eth0', {
      result: { tsSeconds: T0 / 1000, state: 'ready', score: 0.8125, threshold: 0.5, anomalous: true, detectors: { new_burst: 0.9, night_device: 0.1 }, contributions: [{ feature: 'new_cohort', value: 7, weight: 0.8 }], features: {} },
      status: { state: 'ready', samples: 300, lastTrainedTsSeconds: T0 / 1000, threshold: 0.5 },
    }],
    ['eth1', { result: null, status: { state: 'training', samples: 3, lastTrainedTsSeconds: null, threshold: null } }],
  ]);
  const segments = [
    fakeSegment('eth0', eth0, stats({ sweeps: 10, errors: 1, slow: 2, up: true, running: true, lastStartMs: T0 + 6000, lastDurationSeconds: 1.5, lastAddresses: 254, lastSuccessMs: T0 + 5000, requestsSent: 600, replies: 40 }), { new_device: 4, device_gone: 1 }, [['truncated', 3], ['bad_opcode', 1]]),
    fakeSegment('eth1', eth1, stats({ sweeps: 1, errors: 1, lastStartMs: T0 }), { new_device: 2, ip_conflict: 1 }),
  ];
  const state: MonitorReadout = {
    segments: () => segments,
    anomaly: () => anomaly,
    known: () => knownMap,
    store: () => ({ writable: false, errors: 7 }),
    reload: () => ({ successful: true, lastSuccessMs: T0 }),
  };
  return { state, eth0, eth1, segments };
}

async function render(registry: Registry): Promise<string> {
  return registry.metrics();
}

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: (r.stdout + r.stderr).trim() };
}

const sample = (f: Map<string, Family>, name: string, labels: Record<string, string>) =>
  f.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('collectors', () => {
  it('every exported ghosthunter_* metric matches the README (type and labels), and every documented one is exported', async () => {
    const { state } = scenario();
    const families = parseExposition(await render(buildRegistry(state, { processMetrics: false })));
    const documented = readmeMetrics();
    assert.ok(documented.size > 30, 'the README table was found');
    for (const [name, f] of families) {
      const doc = documented.get(name);
      assert.ok(doc, `${name} is exported but not in the README`);
      assert.equal(f.type, doc.type, `${name}: type`);
      assert.ok(f.help.length > 10, `${name}: help text`);
      for (const s of f.samples) assert.deepEqual(Object.keys(s.labels).sort(), doc.labels, `${name}: labels`);
    }
    // The anomaly series come from collectors/anomaly.ts, registered by buildRegistry like the rest.
    const missing = [...documented.keys()].filter((n) => !families.has(n) && !n.startsWith('ghosthunter_anomal'));
    assert.deepEqual(missing, []);
    for (const [name, f] of families) assert.ok(f.samples.length > 0 || name === 'ghosthunter_last_sweep_success_timestamp_seconds', `${name} has samples`);
  });

  it('device metrics follow the inventory', async () => {
    const { state } = scenario();
    const f = parseExposition(await render(buildRegistry(state, { processMetrics: false })));
    const eth0 = { interface: 'eth0' };
    assert.equal(sample(f, 'ghosthunter_devices', eth0), 4); // gw, nas, phone, odd
    assert.equal(sample(f, 'ghosthunter_devices_unknown', eth0), 3);
    assert.equal(sample(f, 'ghosthunter_devices_known_absent', eth0), 1);
    assert.equal(sample(f, 'ghosthunter_devices_tracked', eth0), 5);
    assert.equal(sample(f, 'ghosthunter_devices_overflow_total', eth0), 1);
    assert.equal(sample(f, 'ghosthunter_devices', { interface: 'eth1' }), 2);
    assert.equal(sample(f, 'ghosthunter_ip_conflicts', { interface: 'eth1' }), 1);
    assert.equal(sample(f, 'ghosthunter_ip_conflicts', eth0), 0);

    assert.equal(sample(f, 'ghosthunter_device_present', { interface: 'eth0', mac: NAS }), 1);
    assert.equal(sample(f, 'ghosthunter_device_present', { interface: 'eth0', mac: GONE }), 0);
    assert.equal(sample(f, 'ghosthunter_device_first_seen_timestamp_seconds', { mac: NAS }), T0 / 1000);
    assert.equal(sample(f, 'ghosthunter_device_last_seen_timestamp_seconds', { mac: NAS }), T0 / 1000);
    assert.equal(sample(f, 'ghosthunter_device_rtt_seconds', { mac: NAS }), 0.00125);
    assert.equal(sample(f, 'ghosthunter_device_rtt_seconds', { mac: PHONE }), undefined, 'no RTT, no series');

    const info = f.get('ghosthunter_device_info')!.samples;
    assert.equal(info.length, 7);
    assert.ok(info.every((s) => s.value === 1));
    const nas = info.find((s) => s.labels.mac === NAS)!.labels;
    assert.deepEqual(nas, { interface: 'eth0', mac: NAS, ip: '198.18.0.2', vendor: nas.vendor, name: 'nas "main"\\1', class: 'storage', known: 'true', critical: 'true', randomized: 'false' });
    const phone = info.find((s) => s.labels.mac === PHONE)!.labels;
    assert.equal(phone.known, 'false');
    assert.equal(phone.name, '');
    assert.equal(phone.randomized, 'true');
    assert.equal(info.find((s) => s.labels.mac === ODD)!.labels.vendor, 'Odd "Vendor"\\ Ltd\nSecond line', 'escaped and unescaped intact');

    assert.deepEqual(f.get('ghosthunter_gateway_info')!.samples, [{ labels: { interface: 'eth0', ip: '198.18.0.1', mac: GW }, value: 1 }]);
  });

  it('event, sweep, capture and exporter metrics', async () => {
    const { state } = scenario();
    const f = parseExposition(await render(buildRegistry(state, { processMetrics: false })));
    const events = f.get('ghosthunter_events_total')!.samples;
    assert.equal(events.length, 2 * EVENT_KINDS.length, 'every kind on every interface, zeros included');
    assert.equal(sample(f, 'ghosthunter_events_total', { interface: 'eth0', kind: 'new_device' }), 4);
    assert.equal(sample(f, 'ghosthunter_events_total', { interface: 'eth0', kind: 'gateway_mac_changed' }), 0);
    assert.equal(sample(f, 'ghosthunter_events_total', { interface: 'eth1', kind: 'ip_conflict' }), 1);

    const eth0 = { interface: 'eth0' };
    assert.equal(sample(f, 'ghosthunter_up', eth0), 1);
    assert.equal(sample(f, 'ghosthunter_up', { interface: 'eth1' }), 0);
    assert.equal(sample(f, 'ghosthunter_sweeps_total', eth0), 10);
    assert.equal(sample(f, 'ghosthunter_sweep_errors_total', eth0), 1);
    assert.equal(sample(f, 'ghosthunter_sweeps_slow_total', eth0), 2);
    assert.equal(sample(f, 'ghosthunter_sweep_duration_seconds', eth0), 1.5);
    assert.equal(sample(f, 'ghosthunter_sweep_addresses', eth0), 254);
    assert.equal(sample(f, 'ghosthunter_last_sweep_success_timestamp_seconds', eth0), (T0 + 5000) / 1000);
    assert.equal(sample(f, 'ghosthunter_last_sweep_success_timestamp_seconds', { interface: 'eth1' }), undefined, 'never succeeded: no series');
    assert.equal(sample(f, 'ghosthunter_sweep_running', eth0), 1);
    assert.equal(sample(f, 'ghosthunter_sweep_running', { interface: 'eth1' }), 0);
    assert.equal(sample(f, 'ghosthunter_last_sweep_start_timestamp_seconds', eth0), (T0 + 6000) / 1000);
    assert.equal(sample(f, 'ghosthunter_last_sweep_start_timestamp_seconds', { interface: 'eth1' }), T0 / 1000);
    assert.equal(sample(f, 'ghosthunter_arp_requests_sent_total', eth0), 600);
    assert.equal(sample(f, 'ghosthunter_arp_replies_received_total', eth0), 40);

    assert.equal(sample(f, 'ghosthunter_arp_frames_received_total', eth0), 1234);
    assert.equal(sample(f, 'ghosthunter_pcap_dropped_packets_total', eth0), 5);
    const bogus = f.get('ghosthunter_bogus_frames_total')!.samples.filter((s) => s.labels.interface === 'eth0');
    assert.deepEqual(bogus.map((s) => s.labels.reason), [...DECODE_ERROR_REASONS], 'a bounded, pre-initialised set of reasons');
    assert.equal(sample(f, 'ghosthunter_bogus_frames_total', { interface: 'eth0', reason: 'truncated' }), 3);
    assert.equal(sample(f, 'ghosthunter_bogus_frames_total', { interface: 'eth0', reason: 'not_arp' }), 0);

    assert.equal(sample(f, 'ghosthunter_store_writable', {}), 0);
    assert.equal(sample(f, 'ghosthunter_store_errors_total', {}), 7);
    assert.equal(sample(f, 'ghosthunter_config_last_reload_successful', {}), 1);
    assert.equal(sample(f, 'ghosthunter_config_last_reload_success_timestamp_seconds', {}), T0 / 1000);
    assert.deepEqual(f.get('ghosthunter_build_info')!.samples[0].labels, { version: VERSION, revision: f.get('ghosthunter_build_info')!.samples[0].labels.revision, nodeversion: process.version });
  });

  it('series of expired devices vanish at the next scrape', async () => {
    const { state, eth0 } = scenario();
    const registry = buildRegistry(state, { processMetrics: false });
    eth0.markGone([PHONE], T0 + 20 * MIN);
    assert.match(await render(registry), new RegExp(`mac="${PHONE}"`));
    assert.deepEqual(eth0.expire(T0 + 24 * 60 * MIN), [PHONE]);
    const text = await render(registry);
    assert.doesNotMatch(text, new RegExp(`mac="${PHONE}"`));
    assert.match(text, new RegExp(`ghosthunter_device_present\\{interface="eth0",mac="${GONE}"\\} 0`), 'absent known devices are retained');
  });

  it('no interfaces: still a valid exposition', async () => {
    const state: MonitorReadout = { segments: () => [], anomaly: () => new Map(), known: () => new Map(), store: () => ({ writable: true, errors: 0 }), reload: () => ({ successful: false, lastSuccessMs: 0 }) };
    const text = await render(buildRegistry(state, { processMetrics: false }));
    assert.match(text, /^ghosthunter_store_writable 1$/m);
    assert.match(text, /^ghosthunter_config_last_reload_successful 0$/m);
    if (existsSync(PROMTOOL)) assert.deepEqual(promtool(text), { status: 0, output: '' });
  });

  for (const processMetrics of [false, true]) {
    it(`promtool check metrics passes silently (process metrics ${processMetrics ? 'on' : 'off'})`, { skip: !existsSync(PROMTOOL) && `${PROMTOOL} not installed` }, async () => {
      const { state } = scenario();
      const text = await render(buildRegistry(state, { processMetrics }));
      assert.equal(/^process_cpu_seconds_total /m.test(text), processMetrics);
      assert.deepEqual(promtool(text), { status: 0, output: '' });
    });
  }
});
