// /metrics as rendered from the exporter's state: the whole output matches the golden file
// (fixtures/metrics.prom) for a fixed inventory, every family is documented in the metrics
// reference, and values follow the inventory. `promtool check metrics` on it: test/stack/exposition.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import { buildRegistry } from '../../src/collectors/index.js';
import type { MonitorReadout } from '../../src/monitor/readout.js';
import { EVENT_KINDS } from '../../src/inventory/inventory.js';
import { DECODE_ERROR_REASONS } from '../../src/arp/codec.js';
import { VERSION } from '../../src/version.js';
import { GONE, GOLDEN_FILE, GOLDEN_UPDATE_COMMAND, GW, MIN, NAS, ODD, PHONE, T0, goldenExposition, scenario } from './scenario.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** The metrics reference, relative to the repository root. */
const METRICS_DOC = 'docs/metrics.md';

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

async function render(registry: Registry): Promise<string> {
  return registry.metrics();
}

const sample = (f: Map<string, Family>, name: string, labels: Record<string, string>) =>
  f.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('collectors', () => {
  it('the whole /metrics output matches the golden file', async () => {
    const golden = readFileSync(GOLDEN_FILE, 'utf8').split('\n');
    const text = (await goldenExposition()).split('\n');
    const i = text.findIndex((line, n) => line !== golden[n]);
    const at = i < 0 ? golden.length : i;
    assert.ok(
      i < 0 && text.length === golden.length,
      `/metrics differs from ${relative(REPO, GOLDEN_FILE)} at line ${at + 1}:\n  golden: ${golden[at] ?? '(end of file)'}\n  now:    ${text[at] ?? '(end of output)'}\n` +
        `If the change is intended, run \`${GOLDEN_UPDATE_COMMAND}\` and review the diff.`,
    );
  });

  it(`every metric family in the golden file is documented in ${METRICS_DOC}, and every documented one is exported`, () => {
    const families = parseExposition(readFileSync(GOLDEN_FILE, 'utf8'));
    const doc = readFileSync(join(REPO, METRICS_DOC), 'utf8');
    for (const [name, f] of families) {
      assert.ok(doc.includes(`\`${name}\``), `${name} is exported but not documented in ${METRICS_DOC}`);
      assert.ok(f.help.length > 10, `${name}: help text`);
      assert.ok(f.samples.length > 0, `${name} has samples in the golden file`);
    }
    const documented = [...doc.matchAll(/^\| `(ghosthunter_[a-z_]+)` \|/gm)].map((m) => m[1]);
    assert.ok(documented.length > 30, `the metrics table in ${METRICS_DOC} was found`);
    assert.deepEqual(documented.filter((n) => !families.has(n)), [], `documented in ${METRICS_DOC} but not in the golden /metrics`);
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

  it('no interfaces: the exporter-wide series are still there', async () => {
    const state: MonitorReadout = { segments: () => [], anomaly: () => new Map(), known: () => new Map(), store: () => ({ writable: true, errors: 0 }), reload: () => ({ successful: false, lastSuccessMs: 0 }) };
    const text = await render(buildRegistry(state, { processMetrics: false }));
    assert.match(text, /^ghosthunter_store_writable 1$/m);
    assert.match(text, /^ghosthunter_config_last_reload_successful 0$/m);
  });
});
