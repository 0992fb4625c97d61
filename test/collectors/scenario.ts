// A fixed, deterministic exporter state for the collectors: two interfaces built on real
// inventories with known, unknown, absent, randomized and overflowing devices, a vendor and a
// name that need escaping, and an anomaly engine ready on one interface and training on the
// other. goldenExposition() is the whole /metrics output for it, as the exporter serves it
// without process metrics; test/collectors/fixtures/metrics.prom is its golden copy.
import { fileURLToPath } from 'node:url';
import { DETECTOR_NAMES } from '../../src/anomaly/detectors.js';
import type { AnomalyResult } from '../../src/anomaly/types.js';
import { buildRegistry } from '../../src/collectors/index.js';
import type { KnownDeviceConfig } from '../../src/config/schema.js';
import type { AnomalyReadout, MonitorReadout, SegmentReadout } from '../../src/monitor/readout.js';
import type { SegmentStats } from '../../src/monitor/sweep-stats.js';
import { EVENT_KINDS, Inventory, type EventKind, type InventoryOptions } from '../../src/inventory/inventory.js';

export const GOLDEN_FILE = fileURLToPath(new URL('fixtures/metrics.prom', import.meta.url));
export const GOLDEN_UPDATE_COMMAND = 'npm run test:golden:update';

export const T0 = Date.UTC(2025, 0, 1);
export const MIN = 60_000;

function known(mac: string, extra: Partial<KnownDeviceConfig> = {}): [string, KnownDeviceConfig] {
  return [mac, { mac, name: 'nas', class: 'storage', critical: false, can_sleep: false, ...extra }];
}

function stats(extra: Partial<SegmentStats> = {}): SegmentStats {
  return { sweeps: 0, errors: 0, slow: 0, up: false, running: false, lastStartMs: null, lastDurationSeconds: 0, lastAddresses: 0, lastSuccessMs: null, requestsSent: 0, replies: 0, lastError: null, ...extra };
}

function fakeSegment(name: string, inventory: Inventory, s: SegmentStats, counts: Partial<Record<EventKind, number>> = {}, bogus: [string, number][] = []): SegmentReadout {
  const events = new Map<EventKind, number>(EVENT_KINDS.map((k) => [k, counts[k] ?? 0]));
  const eventsSuppressed = new Map(counts.ip_changed ? [] : [['ip_changed', 17]]);
  return { name, inventory, stats: s, events, eventsSuppressed, capture: () => ({ frames: 1234, dropped: 5, bogus: new Map(bogus) }) };
}

export const GW = '00:16:3e:00:00:fe';
export const NAS = '00:16:3e:00:00:01';
export const PHONE = '06:11:22:33:44:55';
export const GONE = '00:16:3e:00:00:99';
export const ODD = '00:16:3e:00:00:42';

export function scenario() {
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

  const segments = [
    fakeSegment('eth0', eth0, stats({ sweeps: 10, errors: 1, slow: 2, up: true, running: true, lastStartMs: T0 + 6000, lastDurationSeconds: 1.5, lastAddresses: 254, lastSuccessMs: T0 + 5000, requestsSent: 600, replies: 40 }), { new_device: 4, device_gone: 1 }, [['truncated', 3], ['bad_opcode', 1]]),
    fakeSegment('eth1', eth1, stats({ sweeps: 1, errors: 1, lastStartMs: T0 }), { new_device: 2, ip_conflict: 1 }),
  ];
  const anomaly = anomalyResults();
  const state: MonitorReadout = {
    segments: () => segments,
    anomaly: () => anomaly,
    known: () => knownMap,
    store: () => ({ writable: false, errors: 7 }),
    reload: () => ({ successful: true, lastSuccessMs: T0 }),
  };
  return { state, eth0, eth1, segments };
}

/** The anomaly engine's view: scoring on eth0 (the latest sweep is anomalous), still training on eth1. */
function anomalyResults(): Map<string, AnomalyReadout> {
  const ts = T0 / 1000 + 21 * 60;
  const detectors = Object.fromEntries(DETECTOR_NAMES.map((name) => [name, name === 'mass_drop' ? 0.875 : 0]));
  const contributions = (['drop_sync', 'drop_share', 'always_on_missing'] as const).map((feature, i) => ({ feature, value: 3 - i, weight: [0.5, 0.3, 0.2][i] }));
  // the NAS and a printer went missing together (a mass drop), named with since when
  const devices = [
    { mac: NAS, detector: 'mass_drop', weight: 0.875, sinceTsSeconds: ts - 600 },
    { mac: GONE, detector: 'mass_drop', weight: 0.5, sinceTsSeconds: ts - 300 },
  ];
  const ready: AnomalyResult = { tsSeconds: ts, state: 'ready', score: 0.9375, threshold: 0.5, anomalous: true, detectors, contributions, devices, features: {} };
  const training: AnomalyResult = { tsSeconds: ts, state: 'training', score: null, threshold: null, anomalous: false, detectors: {}, contributions: [], devices: [], features: {} };
  return new Map([
    ['eth0', { result: ready, status: { state: 'ready', samples: 300, lastTrainedTsSeconds: ts - 300, threshold: 0.5 } }],
    ['eth1', { result: training, status: { state: 'training', samples: 12, lastTrainedTsSeconds: null, threshold: null } }],
  ]);
}

/**
 * The whole /metrics output for scenario(), registered as the monitor does, without process_/nodejs_ metrics. The two build_info labels that
 * depend on the machine (git revision, Node version) are replaced by fixed words.
 */
export async function goldenExposition(): Promise<string> {
  const registry = buildRegistry(scenario().state, { processMetrics: false });
  return (await registry.metrics()).replace(/^(ghosthunter_build_info\{.*)$/m, (line) =>
    line.replace(/revision="[^"]*"/, 'revision="REVISION"').replace(/nodeversion="[^"]*"/, 'nodeversion="NODE_VERSION"'),
  );
}
