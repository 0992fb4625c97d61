// The exporter attacked and faulted as a hostile LAN host or an unlucky operator would, live in a
// lab (198.18.0.0/16 only): lifecycle endpoints (off by default, no CSRF, 202 at once, coalesced),
// atomic reloads, overlapping CIDRs, TLS (silent connections, caps, reloaded certificates and
// versions), a wrong-password flood, start-up errors, and the store deleted while running.
// Nothing asserts on wall-clock time; the timings are printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Lab, cleanupStaleLabs } from '../../src/lab/lab.js';
import { http, REPO, scrape, series, startExporter, tempDir, value, waitFor, writeConfig, type RunningExporter } from '../helpers/exporter.js';

const PREFIX = 'ghd';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TLS_FIXTURES = join(REPO, 'test/fixtures/tls');

function config(lab: Lab, data: string, opts: { cidrs?: string; scan?: string; iface?: string; extraInterfaces?: string } = {}): string {
  return `interfaces:
  - name: ${opts.iface ?? lab.scannerIf}
    cidrs: [${opts.cidrs ?? '198.18.0.0/24'}]
${opts.extraInterfaces ?? ''}scan: {${opts.scan ?? 'interval: 1s, timeout: 150ms, retries: 1, rate: 0'}}
presence: {absent_after: 30s}
storage: {path: ${data}}
`;
}

/** The exporter's own counter for `name`, 0 if absent. */
const num = async (lab: Lab, port: number, name: string, labels: Record<string, string> = {}, path = '/metrics', extra: string[] = []) => {
  const r = await http(lab, `${path.startsWith('http') ? path : `http://127.0.0.1:${port}${path}`}`, extra);
  if (r.status !== 200) throw new Error(`scrape: ${r.status}`);
  const line = r.body.split('\n').find((l) => l.startsWith(name) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)) && /^[a-z_]+(\{|\s)/.test(l));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
};

describe('lifecycle endpoints, reloads and overlapping CIDRs', { timeout: 300_000 }, () => {
  let lab: Lab;
  let dir: string;
  let cfg: string;
  let exporter: RunningExporter | undefined;

  before(async () => {
    await cleanupStaleLabs(`${PREFIX}a`);
    lab = await Lab.up(3, { name: `${PREFIX}a` });
    dir = tempDir('hard-life');
  });
  after(async () => {
    await exporter?.stop();
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without --web.enable-lifecycle: POST /-/reload and /-/sweep are refused, SIGHUP still reloads', async () => {
    cfg = writeConfig(dir, config(lab, join(dir, 'data0')), 'off.yml');
    const off = startExporter(lab, [`--config.file=${cfg}`]);
    try {
      const base = `http://127.0.0.1:${off.port}`;
      await waitFor('first sweep', async () => (await http(lab, `${base}/-/ready`)).status === 200);
      for (const path of ['/-/reload', '/-/sweep']) {
        const r = await http(lab, `${base}${path}`, ['-X', 'POST']);
        assert.equal(r.status, 403, path);
        assert.match(r.body, /--web\.enable-lifecycle/);
      }
      off.proc.kill('SIGHUP');
      await waitFor('SIGHUP reload', async () => off.logs().includes('msg="configuration reloaded"'));
    } finally {
      await off.stop();
    }
  });

  test('overlapping CIDRs: no false IP conflicts; POST /-/sweep answers 202 while the sweep runs, and a flood of them makes one or two sweeps', async () => {
    // A slow sweep (253 addresses at 50/s: ~5 s) and no scheduled sweep during the test.
    cfg = writeConfig(dir, config(lab, join(dir, 'data1'), { cidrs: '198.18.0.0/24, 198.18.0.2-4, 198.18.0.3', scan: 'interval: 10m, timeout: 150ms, retries: 0, rate: 50' }), 'on.yml');
    exporter = startExporter(lab, [`--config.file=${cfg}`, '--web.enable-lifecycle']);
    const base = `http://127.0.0.1:${exporter.port}`;
    const s0 = await waitFor('first sweep with every device', async () => {
      const s = await scrape(lab, exporter!.port);
      return value(s, 'ghosthunter_sweeps_total') === 1 && value(s, 'ghosthunter_sweep_running') === 0 && value(s, 'ghosthunter_devices') === 4 ? s : undefined;
    });
    assert.equal(value(s0, 'ghosthunter_ip_conflicts'), 0, 'overlapping targets raise no conflict');
    assert.equal(value(s0, 'ghosthunter_events_total', { kind: 'ip_conflict' }), 0);
    assert.equal(value(s0, 'ghosthunter_sweep_addresses'), 254, 'each address of the /24 once');

    // A web page's cross-origin POST (text/plain, as a form or no-cors fetch sends it) is refused.
    for (const extra of [['-H', 'Origin: http://evil.example'], ['-H', 'Content-Type: text/plain', '--data', 'x'], ['-H', 'Sec-Fetch-Site: cross-site']]) {
      assert.equal((await http(lab, `${base}/-/sweep`, ['-X', 'POST', ...extra])).status, 403, extra.join(' '));
    }
    await sleep(500);
    assert.equal(await num(lab, exporter.port, 'ghosthunter_sweeps_total'), 1, 'no sweep from the refused requests');

    const t0 = performance.now();
    const first = await http(lab, `${base}/-/sweep`, ['-X', 'POST']);
    const answeredMs = performance.now() - t0;
    assert.equal(first.status, 202);
    assert.match(first.body, new RegExp(`^${lab.scannerIf}: sweep (started|queued)`));
    await waitFor('the requested sweep running', async () => (await num(lab, exporter!.port, 'ghosthunter_sweep_running')) === 1);
    const answers: string[] = [];
    for (let i = 0; i < 29; i++) {
      const r = await http(lab, `${base}/-/sweep`, ['-X', 'POST']);
      assert.equal(r.status, 202);
      answers.push(r.body.trim());
    }
    assert.equal(await num(lab, exporter.port, 'ghosthunter_sweep_running'), 1, 'the answers came while the sweep was still running');
    await waitFor('the requested sweeps to end', async () => (await num(lab, exporter!.port, 'ghosthunter_sweeps_total')) >= 3 && (await num(lab, exporter!.port, 'ghosthunter_sweep_running')) === 0, 240);
    await sleep(12_000); // longer than the gap between requested sweeps: nothing more is queued
    const sweeps = await num(lab, exporter.port, 'ghosthunter_sweeps_total');
    assert.equal(sweeps, 3, '30 requests: the one that started and one more after it');
    console.log(`lifecycle: 202 after ${answeredMs.toFixed(0)} ms while the sweep ran; 30 POSTs made ${sweeps - 1} sweeps; answers: ${[...new Set(answers)].join(' | ')}`);
  });

  test('a rejected reload changes nothing: a missing interface with new CIDRs and rate, or only a missing interface', async () => {
    const base = `http://127.0.0.1:${exporter!.port}`;
    const good = readFileSync(cfg, 'utf8');
    const addresses = await num(lab, exporter!.port, 'ghosthunter_sweep_addresses');
    const devices = JSON.parse((await http(lab, `${base}/api/devices`)).body).devices.length as number;
    writeFileSync(cfg, config(lab, join(dir, 'data1'), { cidrs: '198.18.0.0/28', scan: 'interval: 10m, timeout: 150ms, retries: 0, rate: 0', extraInterfaces: '  - name: ghnope0\n' }));
    let r = await http(lab, `${base}/-/reload`, ['-X', 'POST']);
    assert.equal(r.status, 500);
    assert.match(r.body, /ghnope0/);
    writeFileSync(cfg, config(lab, join(dir, 'data1'), { iface: 'ghnope0' }));
    r = await http(lab, `${base}/-/reload`, ['-X', 'POST']);
    assert.equal(r.status, 500);
    assert.equal(await num(lab, exporter!.port, 'ghosthunter_config_last_reload_successful'), 0);
    // The running configuration is untouched: same interface, same targets.
    const before = await num(lab, exporter!.port, 'ghosthunter_sweeps_total');
    const sweep = await http(lab, `${base}/-/sweep`, ['-X', 'POST']);
    assert.equal(sweep.status, 202, sweep.body);
    assert.match(sweep.body, new RegExp(`^${lab.scannerIf}: `));
    await waitFor('the sweep after the rejected reloads', async () => (await num(lab, exporter!.port, 'ghosthunter_sweeps_total')) > before && (await num(lab, exporter!.port, 'ghosthunter_sweep_running')) === 0, 240);
    assert.equal(await num(lab, exporter!.port, 'ghosthunter_sweep_addresses'), addresses, 'the old targets are swept');
    assert.equal(JSON.parse((await http(lab, `${base}/api/devices`)).body).devices.length, devices);
    assert.equal((await http(lab, `${base}/-/ready`)).status, 200);
    writeFileSync(cfg, good);
    assert.equal((await http(lab, `${base}/-/reload`, ['-X', 'POST'])).status, 200);
    assert.equal(await num(lab, exporter!.port, 'ghosthunter_config_last_reload_successful'), 1);
  });
});

describe('TLS and basic auth under attack', { timeout: 300_000 }, () => {
  let lab: Lab;
  let dir: string;
  let web: string;
  let exporter: RunningExporter | undefined;
  const hash = bcrypt.hashSync('s3cret', 10);
  const webYaml = (extra = '', user = 'prometheus', h = hash) => `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n${extra}basic_auth_users:\n  ${user}: "${h}"\n`;
  const url = (path = '/metrics') => `https://127.0.0.1:${exporter!.port}${path}`;
  const good = ['-k', '-u', 'prometheus:s3cret', '--interface', '127.0.0.2'];

  before(async () => {
    await cleanupStaleLabs(`${PREFIX}t`);
    lab = await Lab.up(2, { name: `${PREFIX}t` });
    dir = tempDir('hard-tls');
    copyFileSync(join(TLS_FIXTURES, 'cert-a.pem'), join(dir, 'cert.pem'));
    copyFileSync(join(TLS_FIXTURES, 'key-a.pem'), join(dir, 'key.pem'));
    web = writeConfig(dir, webYaml(), 'web.yml');
  });
  after(async () => {
    await exporter?.stop();
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli.ts'), '--config.check', ...args], { cwd: REPO, encoding: 'utf8' });

  test('--config.check refuses a truncated bcrypt hash and a swapped certificate and key, naming the key or file', () => {
    const cfg = writeConfig(dir, config(lab, join(dir, 'data')), 'check.yml');
    const truncated = writeConfig(dir, webYaml('', 'prometheus', hash.slice(0, 40)), 'truncated.yml');
    let r = check([`--config.file=${cfg}`, `--web.config.file=${truncated}`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^ghost-hunter: error: ${truncated}: basic_auth_users\\.prometheus: must be a whole bcrypt hash`));
    const swapped = writeConfig(dir, 'tls_server_config:\n  cert_file: key.pem\n  key_file: cert.pem\n', 'swapped.yml');
    r = check([`--config.file=${cfg}`, `--web.config.file=${swapped}`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^ghost-hunter: error: ${swapped}: tls_server_config\\.cert_file: key\\.pem is not a PEM certificate`));
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal(check([`--config.file=${cfg}`, `--web.config.file=${web}`]).status, 0);
  });

  test('the scheme of Authorization is case-insensitive', async () => {
    const cfg = writeConfig(dir, config(lab, join(dir, 'data')), 'tls.yml');
    exporter = startExporter(lab, [`--config.file=${cfg}`, `--web.config.file=${web}`]);
    await waitFor('TLS scrape', async () => (await http(lab, url(), good)).status === 200);
    const token = Buffer.from('prometheus:s3cret').toString('base64');
    for (const scheme of ['basic', 'BASIC']) assert.equal((await http(lab, url(), ['-k', '-H', `Authorization: ${scheme} ${token}`])).status, 200, scheme);
  });

  test('silent connections to the TLS port are cut off like on plain HTTP, and one address cannot take them all', async () => {
    const script = writeConfig(
      dir,
      `import net from 'node:net';
const [port, n] = process.argv.slice(2).map(Number);
const t0 = Date.now();
const closed = [];
await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
  const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.9' });
  let gaveUp = false;
  const timer = setTimeout(() => { gaveUp = true; s.destroy(); }, 60000);
  s.on('error', () => {});
  s.on('close', () => { clearTimeout(timer); if (!gaveUp) closed.push(Date.now() - t0); resolve(); });
})));
console.log(JSON.stringify({ closed: closed.sort((a, b) => a - b) }));
`,
      'silent.mjs',
    );
    const attack = lab.exec([process.execPath, script, String(exporter!.port), '200'], { timeoutMs: 90_000 });
    await sleep(1000);
    const during = await http(lab, url(), good);
    assert.equal(during.status, 200, 'a scrape from another address is served while the attacker holds its connections');
    const r = await attack;
    assert.equal(r.code, 0, r.stderr);
    const { closed } = JSON.parse(r.stdout) as { closed: number[] };
    assert.equal(closed.length, 200, 'the server closed every silent connection (none was left for the client to give up on)');
    const refused = closed.filter((ms) => ms < 1000).length;
    assert.ok(refused >= 200 - 64, `beyond 64 per address, connections are closed as they arrive (${refused})`);
    console.log(`silent TLS connections: ${refused} closed at once (per-address cap), the rest cut after ${closed[refused] ?? '-'}-${closed.at(-1)} ms`);
  });

  test('64 clients flooding wrong passwords: scrapes with the right one go on, the flood is rate-limited, the event loop stays free', async () => {
    const flood = await lab.exec(
      [process.execPath, join(REPO, 'test/helpers/auth-flood.mjs'), JSON.stringify({ url: url(), user: 'prometheus', password: 's3cret', clients: 64, requests: 640, scrapeEveryMs: 200, quietMs: 1500, goodFrom: '127.0.0.2', badFrom: ['127.0.0.9'], watch: ['nodejs_eventloop_lag_max_seconds'] })],
      { timeoutMs: 120_000 },
    );
    assert.equal(flood.code, 0, flood.stderr);
    const r = JSON.parse(flood.stdout) as { floodMs: number; badStatus: Record<string, number>; good: { status: number; ms: number; phase: string; watched?: Record<string, number> }[] };
    assert.ok(r.good.length > 5);
    assert.deepEqual([...new Set(r.good.map((g) => g.status))], [200], 'every good scrape answered 200');
    assert.ok((r.badStatus['429'] ?? 0) > 0, `the flood was rate-limited: ${JSON.stringify(r.badStatus)}`);
    assert.ok((r.badStatus['401'] ?? 0) <= 20, `few wrong passwords were checked at all: ${JSON.stringify(r.badStatus)}`);
    assert.equal(Object.keys(r.badStatus).filter((s) => !['401', '429', '503'].includes(s)).length, 0, JSON.stringify(r.badStatus));
    const lag = Math.max(...r.good.map((g) => g.watched?.nodejs_eventloop_lag_max_seconds ?? 0));
    assert.ok(lag < 1, `event-loop lag stays far below the seconds it reached (max ${lag} s)`);
    assert.ok((await num(lab, exporter!.port, 'ghosthunter_http_auth_failures_total', { reason: 'rate_limited' }, url(), good)) > 0);
    const ms = (phase: string) => r.good.filter((g) => g.phase === phase).map((g) => g.ms).sort((a, b) => a - b);
    const p = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]?.toFixed(1);
    console.log(`flood: ${JSON.stringify(r.badStatus)} in ${r.floodMs.toFixed(0)} ms; good scrape p50/max before ${p(ms('before'), 0.5)}/${p(ms('before'), 1)} ms, during ${p(ms('flood'), 0.5)}/${p(ms('flood'), 1)} ms; event-loop lag max ${lag} s`);
  });

  test('a reload applies a new certificate and min_version live; what needs a restart, or a truncated hash, is refused', async () => {
    const subject = async () => {
      const r = await lab.exec(['sh', '-c', `openssl s_client -connect 127.0.0.1:${exporter!.port} </dev/null 2>/dev/null | openssl x509 -noout -subject`]);
      return r.stdout.trim();
    };
    assert.match(await subject(), /ghost-hunter test a/);
    copyFileSync(join(TLS_FIXTURES, 'cert-b.pem'), join(dir, 'cert.pem'));
    copyFileSync(join(TLS_FIXTURES, 'key-b.pem'), join(dir, 'key.pem'));
    exporter!.proc.kill('SIGHUP');
    await waitFor('the new certificate served', async () => /ghost-hunter test b/.test(await subject()));
    assert.equal((await http(lab, url(), [...good, '--tls-max', '1.2'])).status, 200);
    writeFileSync(web, webYaml('  min_version: TLS13\n'));
    exporter!.proc.kill('SIGHUP');
    await waitFor('TLS 1.2 refused', async () => (await http(lab, url(), [...good, '--tls-max', '1.2'])).status === 0);
    assert.equal((await http(lab, url(), good)).status, 200, 'TLS 1.3 still served');
    // Client certificates cannot be switched on in a running server: refused, nothing changes.
    writeFileSync(web, webYaml('  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: cert.pem\n'));
    exporter!.proc.kill('SIGHUP');
    await waitFor('reload refused', async () => exporter!.logs().includes('needs a restart'));
    assert.equal((await http(lab, url(), good)).status, 200, 'served as before, without a client certificate');
    assert.equal(await num(lab, exporter!.port, 'ghosthunter_config_last_reload_successful', {}, url(), good), 0);
    writeFileSync(web, webYaml('', 'prometheus', hash.slice(0, 50)));
    exporter!.proc.kill('SIGHUP');
    await waitFor('truncated hash refused', async () => /basic_auth_users\.prometheus: must be a whole bcrypt hash/.test(exporter!.logs()));
    assert.equal((await http(lab, url(), good)).status, 200, 'the running password still works');
    await exporter!.stop();
    exporter = undefined;
  });
});

describe('start-up and the store', { timeout: 240_000 }, () => {
  let lab: Lab;
  let dir: string;
  let exporter: RunningExporter | undefined;

  before(async () => {
    await cleanupStaleLabs(`${PREFIX}s`);
    lab = await Lab.up(3, { name: `${PREFIX}s` });
    dir = tempDir('hard-start');
  });
  after(async () => {
    await exporter?.stop();
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  const txPackets = async () => Number((await lab.exec(['cat', `/sys/class/net/${lab.scannerIf}/statistics/tx_packets`])).stdout);

  test('a port in use: one line naming the address, exit 1, and not a packet sent', async () => {
    const port = 19_990;
    const holder = lab.spawnInScanner([process.execPath, '-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('held'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      const tx0 = await txPackets();
      exporter = startExporter(lab, [`--config.file=${writeConfig(dir, config(lab, join(dir, 'port')), 'port.yml')}`], { port });
      const code = await new Promise<number | null>((res) => exporter!.proc.once('exit', (c) => res(c)));
      const logs = exporter.logs();
      exporter = undefined;
      assert.equal(code, 1, logs);
      assert.match(logs, new RegExp(`ghost-hunter: error: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use \\(--web\\.listen-address\\)`));
      assert.doesNotMatch(logs, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(logs, /msg=sweeping/);
      assert.equal(await txPackets(), tx0, 'no ARP request left the scanner');
    } finally {
      holder.kill();
    }
  });

  test('the store deleted while running: counted as a store error, logged, recreated from memory; a restart finds every device', async () => {
    const data = join(dir, 'deleted');
    const cfg = writeConfig(dir, config(lab, data), 'deleted.yml');
    exporter = startExporter(lab, [`--config.file=${cfg}`]);
    const s0 = await waitFor('all devices', async () => {
      const s = await scrape(lab, exporter!.port);
      return value(s, 'ghosthunter_devices') === 4 ? s : undefined;
    });
    const firstSeen = new Map(series(s0, 'ghosthunter_device_first_seen_timestamp_seconds').map(([k, v]) => [/mac="([^"]+)"/.exec(k)![1], v]));
    const file = join(data, 'ghost-hunter.db');
    rmSync(file);
    await waitFor('the deletion noticed', async () => (await num(lab, exporter!.port, 'ghosthunter_store_errors_total')) >= 1);
    assert.match(exporter.logs(), new RegExp(`level=error msg="state store was deleted while running; recreating it from the state in memory" file=${file}`));
    await waitFor('the store recreated', async () => existsSync(file));
    assert.equal(await num(lab, exporter.port, 'ghosthunter_store_writable'), 1);
    assert.equal(await exporter.stop(), 0);
    exporter = startExporter(lab, [`--config.file=${cfg}`]);
    const s1 = await waitFor('restarted', async () => {
      const s = await scrape(lab, exporter!.port);
      return (value(s, 'ghosthunter_sweeps_total') ?? 0) >= 1 ? s : undefined;
    });
    assert.equal(value(s1, 'ghosthunter_events_total', { kind: 'new_device' }), 0, 'no device is new again');
    for (const [mac, ts] of firstSeen) assert.equal(value(s1, 'ghosthunter_device_first_seen_timestamp_seconds', { mac }), ts, `first seen of ${mac}`);
    await exporter.stop();
    exporter = undefined;
  });
});
