import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { decodeSnapshot } from '../../src/anomaly/snapshot-codec.js';
import { Lab, cleanupStaleLabs } from '../../src/lab/lab.js';
import { Store } from '../../src/store/store.js';
import { http, parseMetrics, scrape, series, startExporter, tempDir, value, waitFor, writeConfig, type RunningExporter } from '../helpers/exporter.js';

const PREFIX = 'gex';

function configYaml(lab: Lab, dataDir: string, extra = ''): string {
  return `interfaces:
  - name: ${lab.scannerIf}
    cidrs: [198.18.0.0/27]
scan:
  interval: 1s
  timeout: 150ms
  retries: 1
presence:
  absent_after: 2s
storage:
  path: ${dataDir}
known_devices:
  - {mac: "00:16:3e:12:00:01", name: gateway, class: router, critical: true}
${extra}`;
}

describe('exporter against a lab (real libpcap, real HTTP)', { timeout: 300_000 }, () => {
  let lab: Lab;
  let dir: string;
  let configFile: string;
  let exporter: RunningExporter;

  before(async () => {
    await cleanupStaleLabs(PREFIX);
    lab = await Lab.up(12, { name: `${PREFIX}a`, cidr: '198.18.0.0/24' });
    dir = tempDir('e2e');
    configFile = writeConfig(dir, configYaml(lab, join(dir, 'data')));
    exporter = startExporter(lab, [`--config.file=${configFile}`, '--web.enable-lifecycle']);
  });

  after(async () => {
    await exporter?.stop();
    await lab?.down();
    await cleanupStaleLabs(PREFIX);
  });

  test('/metrics shows the live device count and every device present', async () => {
    const samples = await waitFor('all 12 devices and the scanner', async () => {
      const s = await scrape(lab, exporter.port);
      return value(s, 'ghosthunter_devices', { interface: lab.scannerIf }) === 13 ? s : undefined;
    });
    for (const d of lab.devices()) {
      assert.equal(value(samples, 'ghosthunter_device_present', { mac: d.mac }), 1, `present ${d.mac}`);
      const info = series(samples, 'ghosthunter_device_info', { mac: d.mac });
      assert.equal(info.length, 1);
      assert.match(info[0][0], new RegExp(`ip="${d.ip.replace(/\./g, '\\.')}"`));
      assert.match(info[0][0], /vendor="Xensource, Inc\."/);
    }
    assert.match(series(samples, 'ghosthunter_device_info', { mac: '00:16:3e:12:00:01' })[0][0], /name="gateway".*critical="true"/);
    assert.equal(value(samples, 'ghosthunter_devices_unknown', { interface: lab.scannerIf }), 12);
    assert.equal(value(samples, 'ghosthunter_up', { interface: lab.scannerIf }), 1);
    assert.ok((value(samples, 'ghosthunter_arp_requests_sent_total') ?? 0) > 0);
    assert.equal(value(samples, 'ghosthunter_events_total', { kind: 'new_device' }), 13);
    assert.equal(value(samples, 'ghosthunter_build_info'), 1);
    // One day of history is needed before the anomaly model scores: it says "training".
    assert.equal(value(samples, 'ghosthunter_anomaly_model_ready', { interface: lab.scannerIf }), 0);
    assert.equal(value(samples, 'ghosthunter_anomaly_score', { interface: lab.scannerIf }), undefined);
  });

  test('promtool check metrics passes on a real scrape', async () => {
    const r = await http(lab, `http://127.0.0.1:${exporter.port}/metrics`);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: r.body, encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  });

  test('live page, health, readiness, JSON inventory, service discovery and 404', async () => {
    const base = `http://127.0.0.1:${exporter.port}`;
    // the page itself is static; what it shows comes from its stream (test/browser)
    const landing = await http(lab, `${base}/`);
    assert.equal(landing.status, 200);
    assert.match(landing.body, /<title>Ghost Hunter<\/title>/);
    assert.match(landing.body, /src="\/assets\/main\.js"/);
    assert.equal((await http(lab, `${base}/-/healthy`)).status, 200);
    assert.equal((await http(lab, `${base}/-/ready`)).status, 200);
    assert.equal((await http(lab, `${base}/nope`)).status, 404);
    assert.equal((await http(lab, `${base}/-/reload`)).status, 405);
    const api = JSON.parse((await http(lab, `${base}/api/devices`)).body) as { devices: { mac: string; ip: string; present: boolean; first_seen: string }[] };
    for (const d of lab.devices()) assert.ok(api.devices.some((x) => x.mac === d.mac && x.ip === d.ip && x.present));
    const events = JSON.parse((await http(lab, `${base}/api/events?limit=500`)).body) as { events: { kind: string; mac: string | null; ip: string | null }[] };
    for (const d of lab.devices()) assert.ok(events.events.some((e) => e.kind === 'new_device' && e.mac === d.mac && e.ip === d.ip), `event log has ${d.mac}`);
    const sd = JSON.parse((await http(lab, `${base}/sd`)).body) as { targets: string[]; labels: Record<string, string> }[];
    for (const d of lab.devices()) {
      const group = sd.find((g) => g.targets[0] === d.ip);
      assert.ok(group, `sd lists ${d.ip}`);
      assert.equal(group.labels.__meta_ghosthunter_mac, d.mac);
    }
    const sweep = await http(lab, `${base}/-/sweep`, ['-X', 'POST']);
    assert.equal(sweep.status, 202);
  });

  test('a device that leaves is gone after the grace period', async () => {
    const leaving = lab.devices().find((d) => d.ip === '198.18.0.5')!;
    const before = value(await scrape(lab, exporter.port), 'ghosthunter_events_total', { kind: 'device_gone' }) ?? 0;
    await lab.removeDevice(leaving.ip);
    const s = await waitFor('presence 0', async () => {
      const s = await scrape(lab, exporter.port);
      return value(s, 'ghosthunter_device_present', { mac: leaving.mac }) === 0 ? s : undefined;
    });
    assert.equal(value(s, 'ghosthunter_events_total', { kind: 'device_gone' }), before + 1);
    assert.equal(value(s, 'ghosthunter_devices', { interface: lab.scannerIf }), 12);
    assert.match(exporter.logs(), new RegExp(`event=device_gone .*mac=${leaving.mac}`));
  });

  test('a new device joins: new-device counter and presence 1', async () => {
    const before = value(await scrape(lab, exporter.port), 'ghosthunter_events_total', { kind: 'new_device' })!;
    const joined = await lab.addDevice('198.18.0.20');
    const s = await waitFor('new device present', async () => {
      const s = await scrape(lab, exporter.port);
      return value(s, 'ghosthunter_device_present', { mac: joined.mac }) === 1 ? s : undefined;
    });
    assert.equal(value(s, 'ghosthunter_events_total', { kind: 'new_device' }), before + 1);
  });

  test('an IP moving to another MAC raises ip_changed and creates no new presence series for the old MAC', async () => {
    const old = lab.devices().find((d) => d.ip === '198.18.0.6')!;
    const before = value(await scrape(lab, exporter.port), 'ghosthunter_events_total', { kind: 'ip_changed' })!;
    const moved = await lab.moveIp(old.ip);
    const s = await waitFor('ip_changed', async () => {
      const s = await scrape(lab, exporter.port);
      return (value(s, 'ghosthunter_events_total', { kind: 'ip_changed' }) ?? 0) > before ? s : undefined;
    });
    assert.equal(series(s, 'ghosthunter_device_present', { mac: old.mac }).length, 1);
    assert.equal(series(s, 'ghosthunter_device_present', { mac: moved.mac }).length, 1);
    assert.match(series(s, 'ghosthunter_device_info', { mac: moved.mac })[0][0], /ip="198\.18\.0\.6"/);
  });

  test('a second MAC claiming a live IP raises ip_conflict', async () => {
    const before = value(await scrape(lab, exporter.port), 'ghosthunter_events_total', { kind: 'ip_conflict' })!;
    await lab.spoof('198.18.0.7');
    const s = await waitFor('ip_conflict', async () => {
      const s = await scrape(lab, exporter.port);
      return (value(s, 'ghosthunter_events_total', { kind: 'ip_conflict' }) ?? 0) > before ? s : undefined;
    });
    assert.ok((value(s, 'ghosthunter_ip_conflicts', { interface: lab.scannerIf }) ?? 0) >= 1);
  });

  test('the gateway answering with a new MAC raises gateway_mac_changed', async () => {
    assert.ok(lab.gatewayIp);
    const s0 = await scrape(lab, exporter.port);
    assert.match(series(s0, 'ghosthunter_gateway_info')[0][0], /mac="00:16:3e:12:00:01"/);
    const before = value(s0, 'ghosthunter_events_total', { kind: 'gateway_mac_changed' })!;
    const attacker = await lab.moveIp(lab.gatewayIp);
    const s = await waitFor('gateway_mac_changed', async () => {
      const s = await scrape(lab, exporter.port);
      return (value(s, 'ghosthunter_events_total', { kind: 'gateway_mac_changed' }) ?? 0) > before ? s : undefined;
    });
    assert.match(series(s, 'ghosthunter_gateway_info')[0][0], new RegExp(`mac="${attacker.mac}"`));
  });

  test('a bad config on reload is rejected and the old one keeps running', async () => {
    const base = `http://127.0.0.1:${exporter.port}`;
    writeFileSync(configFile, configYaml(lab, join(dir, 'data'), 'scan_typo: 1\n'));
    const r = await http(lab, `${base}/-/reload`, ['-X', 'POST']);
    assert.equal(r.status, 500);
    assert.match(r.body, /scan_typo/);
    let s = await scrape(lab, exporter.port);
    assert.equal(value(s, 'ghosthunter_config_last_reload_successful'), 0);
    const sweeps = value(s, 'ghosthunter_sweeps_total', { interface: lab.scannerIf })!;
    await waitFor('sweeps go on', async () => (value(await scrape(lab, exporter.port), 'ghosthunter_sweeps_total', { interface: lab.scannerIf }) ?? 0) > sweeps + 1);
    // SIGHUP with the fixed file succeeds.
    writeFileSync(configFile, configYaml(lab, join(dir, 'data')));
    exporter.proc.kill('SIGHUP');
    s = await waitFor('reload ok', async () => {
      const s = await scrape(lab, exporter.port);
      return value(s, 'ghosthunter_config_last_reload_successful') === 1 ? s : undefined;
    });
    assert.match(exporter.logs(), /configuration reload failed/);
  });

  test('kill -9 and restart keep first-seen times', async () => {
    const s1 = await scrape(lab, exporter.port);
    const firstSeen = new Map(series(s1, 'ghosthunter_device_first_seen_timestamp_seconds').map(([k, v]) => [/mac="([^"]+)"/.exec(k)![1], v]));
    assert.ok(firstSeen.size >= 13);
    await new Promise((r) => setTimeout(r, 1500)); // let the state reach the store
    await exporter.stop('SIGKILL');
    exporter = startExporter(lab, [`--config.file=${configFile}`, '--web.enable-lifecycle']);
    const s2 = await waitFor('restarted exporter', async () => {
      const s = await scrape(lab, exporter.port);
      return (value(s, 'ghosthunter_sweeps_total') ?? 0) >= 1 ? s : undefined;
    });
    for (const [mac, ts] of firstSeen) {
      assert.equal(value(s2, 'ghosthunter_device_first_seen_timestamp_seconds', { mac }), ts, `first seen of ${mac}`);
    }
    // Counters restart from zero, and no device is "new" again.
    assert.equal(value(s2, 'ghosthunter_events_total', { kind: 'new_device' }), 0);
  });
});

describe('TLS and basic auth via --web.config.file', { timeout: 120_000 }, () => {
  let lab: Lab;
  let exporter: RunningExporter | undefined;

  before(async () => {
    await cleanupStaleLabs(`${PREFIX}t`);
    lab = await Lab.up(3, { name: `${PREFIX}t` });
  });
  after(async () => {
    await exporter?.stop();
    await lab?.down();
  });

  test('wrong password refused, right one served, plain HTTP refused', async () => {
    const dir = tempDir('tls');
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const hash = bcrypt.hashSync('s3cret', 10);
    const web = writeConfig(dir, `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: "${hash}"\n`, 'web.yml');
    const cfg = writeConfig(dir, `interfaces: [{name: ${lab.scannerIf}, cidrs: [198.18.0.0/29]}]\nscan: {interval: 1s}\nstorage: {path: ${join(dir, 'data')}}\n`);
    exporter = startExporter(lab, [`--config.file=${cfg}`, `--web.config.file=${web}`]);
    const url = `https://127.0.0.1:${exporter.port}/metrics`;
    const ok = await waitFor('TLS scrape', async () => {
      const r = await http(lab, url, ['-k', '-u', 'prometheus:s3cret']);
      return r.status === 200 ? r : undefined;
    });
    assert.match(ok.body, /ghosthunter_up/);
    assert.equal((await http(lab, url, ['-k', '-u', 'prometheus:wrong'])).status, 401);
    assert.equal((await http(lab, url, ['-k', '-u', 'nobody:s3cret'])).status, 401);
    assert.equal((await http(lab, url, ['-k'])).status, 401);
    assert.notEqual((await http(lab, `http://127.0.0.1:${exporter.port}/metrics`)).status, 200);
    assert.ok(parseMetrics(ok.body).size > 0);
  });
});

describe('shutdown during a long sweep', { timeout: 120_000 }, () => {
  let lab: Lab;
  before(async () => {
    await cleanupStaleLabs(`${PREFIX}s`);
    lab = await Lab.up(3, { name: `${PREFIX}s` });
  });
  after(async () => {
    await lab?.down();
  });

  test('SIGTERM interrupts the sweep in flight: the exporter exits cleanly instead of finishing a /16', async () => {
    const dir = tempDir('shutdown');
    // A /16 at the polite default rate sweeps for minutes; shutdown must not wait for it.
    const cfg = writeConfig(dir, `interfaces: [{name: ${lab.scannerIf}, cidrs: [198.18.0.0/16]}]\nstorage: {path: ${join(dir, 'data')}}\n`);
    const exporter = startExporter(lab, [`--config.file=${cfg}`]);
    await waitFor('the exporter to listen', async () => exporter.logs().includes('msg=listening'));
    await waitFor('requests on the wire', async () => {
      const r = await lab.exec(['cat', `/sys/class/net/${lab.scannerIf}/statistics/tx_packets`]);
      return Number(r.stdout) > 100;
    });
    const code = await exporter.stop('SIGTERM'); // the helper sends SIGKILL after 15 s: code null
    assert.equal(code, 0, exporter.logs());
    assert.match(exporter.logs(), /msg="sweep interrupted by shutdown"/);
    assert.doesNotMatch(exporter.logs(), /msg="sweep failed"/);
  });

  test('a long first sweep: devices appear as they answer, not when it ends, and a stop keeps them', async () => {
    const dir = tempDir('first-sweep');
    // The lab's devices sit at the bottom of the /16: asked in the first second of a ~3 minute pass.
    const cfg = writeConfig(dir, `interfaces: [{name: ${lab.scannerIf}, cidrs: [198.18.0.0/16]}]\nstorage: {path: ${join(dir, 'data')}}\n`);
    const startedAt = Date.now() / 1000;
    const exporter = startExporter(lab, [`--config.file=${cfg}`]);
    try {
      const m = await waitFor('the lab devices on /metrics', async () => {
        const s = await scrape(lab, exporter.port);
        return series(s, 'ghosthunter_device_present').length >= lab.devices().length ? s : null;
      });
      for (const d of lab.devices()) assert.equal(value(m, 'ghosthunter_device_present', { mac: d.mac }), 1, d.mac);
      assert.equal(value(m, 'ghosthunter_events_total', { kind: 'new_device' }), lab.devices().length);
      assert.equal(value(m, 'ghosthunter_sweep_addresses'), 0, 'the first sweep has not ended');
      assert.equal(value(m, 'ghosthunter_sweep_duration_seconds'), 0);
      // What GhostHunterSweepsFailing relies on: not up yet, but nothing failed either.
      assert.equal(value(m, 'ghosthunter_up'), 0);
      assert.equal(value(m, 'ghosthunter_sweep_errors_total'), 0);
      // What GhostHunterSweepHung relies on: the running sweep and when it started.
      assert.equal(value(m, 'ghosthunter_sweep_running'), 1);
      const start = value(m, 'ghosthunter_last_sweep_start_timestamp_seconds')!;
      assert.ok(start >= Math.floor(startedAt) && start <= Date.now() / 1000, `sweep start ${start}, exporter started ${startedAt}`);
    } finally {
      assert.equal(await exporter.stop('SIGTERM'), 0, exporter.logs());
    }
    assert.match(exporter.logs(), /msg="sweep interrupted by shutdown"/);
    const again = startExporter(lab, [`--config.file=${cfg}`]);
    try {
      await waitFor('the restarted exporter to start sweeping (after it listens)', async () => again.logs().includes('msg=sweeping'));
      assert.match(again.logs(), new RegExp(`msg=sweeping .*devices_restored=${lab.devices().length}( |$)`, 'm'));
    } finally {
      await again.stop('SIGTERM');
    }
  });
});

describe('the anomaly model resumes from its saved state after a restart', { timeout: 180_000 }, () => {
  let lab: Lab;
  let dir: string;
  let configFile: string;
  let exporter: RunningExporter | undefined;
  const anomaly = 'anomaly: {warmup: 3s, retrain_every: 2s, seed: 1}';

  before(async () => {
    await cleanupStaleLabs(`${PREFIX}r`);
    lab = await Lab.up(6, { name: `${PREFIX}r`, cidr: '198.18.0.0/24' });
    dir = tempDir('e2e-resume');
    configFile = writeConfig(dir, configYaml(lab, join(dir, 'data'), anomaly));
  });

  after(async () => {
    await exporter?.stop();
    await lab?.down();
    await cleanupStaleLabs(`${PREFIX}r`);
  });

  const ready = async (e: RunningExporter, minSamples: number) =>
    waitFor(`anomaly model ready with >= ${minSamples} samples`, async () => {
      const s = await scrape(lab, e.port);
      const samples = value(s, 'ghosthunter_anomaly_model_samples', { interface: lab.scannerIf }) ?? 0;
      return value(s, 'ghosthunter_anomaly_model_ready', { interface: lab.scannerIf }) === 1 && samples >= minSamples ? samples : undefined;
    });

  test('clean stop saves the feature state; the next start loads it instead of replaying history', async () => {
    exporter = startExporter(lab, [`--config.file=${configFile}`]);
    const before = await ready(exporter, 6);
    assert.match(exporter.logs(), /anomaly state restored.*from=history sweeps_replayed=0/);
    assert.equal(await exporter.stop(), 0);
    const store = new Store(join(dir, 'data'));
    const saved = store.loadAnomalySnapshot(lab.scannerIf);
    store.close();
    assert.ok(saved, 'a snapshot row for the interface');
    assert.ok(decodeSnapshot(saved).rowTs.length >= before, 'the saved window holds every sample the model had');

    exporter = startExporter(lab, [`--config.file=${configFile}`]);
    const after = await ready(exporter, before);
    assert.ok(after >= before, `window kept across the restart: ${after} >= ${before}`);
    assert.match(exporter.logs(), /anomaly state restored.*from=snapshot/);
  });

  test('kill -9 loses nothing: the state saved at the first retrain after start plus the stored sweeps after it', async () => {
    const s = await scrape(lab, exporter!.port);
    const before = value(s, 'ghosthunter_anomaly_model_samples', { interface: lab.scannerIf }) ?? 0;
    await new Promise((r) => setTimeout(r, 3000)); // sweeps (every 1 s) keep reaching the store after that save
    await exporter!.stop('SIGKILL');
    exporter = startExporter(lab, [`--config.file=${configFile}`]);
    const after = await ready(exporter, before + 1);
    assert.ok(after > before);
    assert.match(exporter.logs(), /anomaly state restored.*from=snapshot sweeps_replayed=[1-9]\d*/);
  });

  test('an unreadable snapshot is reported and history is replayed instead', async () => {
    assert.equal(await exporter!.stop(), 0);
    const store = new Store(join(dir, 'data'));
    store.saveAnomalySnapshot(lab.scannerIf, { meta: '{"version": 1, "state"', rows: Buffer.alloc(3) });
    store.close();
    exporter = startExporter(lab, [`--config.file=${configFile}`]);
    await ready(exporter, 6);
    assert.match(exporter.logs(), /anomaly snapshot unreadable; replaying sweep history.*not valid JSON/);
    assert.match(exporter.logs(), /anomaly state restored.*from=history/);
  });
});
