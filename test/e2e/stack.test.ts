// End to end, the bundled stack with real Debian `prometheus` and `prometheus-alertmanager`:
//
//   lab A (scanner netns)                                  lab B (scanner netns)
//   exporter A :19736  <- scrape -  prometheus :19090      exporter B :19736
//   relay :29736 ---------- unix socket ----------------->  relay -> :19736
//   alertmanager :19093 -> fake Slack :18080 (HTTP), fake SMTP :12525
//   relay unix socket -> :19090  (the test queries Prometheus through it)
//
// Every server listens on 127.0.0.1 inside a lab's scanner namespace; the namespaces are
// joined only by unix sockets in a temporary directory. The shipped configs are used
// with only addresses, receiver endpoints, secret-file paths and timing (scrape and
// evaluation every 2 s, rule-group intervals dropped, group_wait 1 s) overridden, and
// smtp_require_tls off because the SMTP stand-in offers no STARTTLS.
//
// Checks: a new unknown device joins lab A -> GhostHunterNewUnknownDevice fires in
// Prometheus with the device's MAC and IP -> Alertmanager delivers it to Slack and
// to SMTP, both naming MAC and IP. Then every PromQL query of every dashboard returns
// data, for both segments, and only for the chosen one when the site variable is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { Lab, cleanupStaleLabs } from '../../src/lab/lab.js';
import { dashboardQueries, expandVariables, TEST_VARIABLES } from '../../grafana/src/queries.js';
import { waitUntil } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PORT = { exporter: 19736, relayB: 29736, prometheus: 19090, alertmanager: 19093, slack: 18080, smtp: 12525 };
const SITES = { a: 'lab-a', b: 'lab-b' };
const SMTP_PASSWORD = 'e2e-secret-from-file';

// ---------- small servers run with `node -e` inside a namespace ----------

/** TCP or unix-socket relay: `node -e RELAY <listen> <connect>`, each `unix:<path>` or `tcp:<port>` (127.0.0.1). */
const RELAY = `
const net = require('net');
const [listen, connect] = process.argv.slice(1);
const spec = (s) => s.startsWith('unix:') ? { path: s.slice(5) } : { host: '127.0.0.1', port: Number(s.slice(4)) };
net.createServer((c) => {
  const u = net.connect(spec(connect));
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
}).listen(spec(listen), () => process.stderr.write('listening\\n'));`;

/** Slack webhook stand-in: prints every request as a JSON line. */
const SLACK = `
require('http').createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    process.stdout.write(JSON.stringify({ method: req.method, url: req.url, body }) + '\\n');
    res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok');
  });
}).listen(Number(process.argv[1]), '127.0.0.1', () => process.stderr.write('listening\\n'));`;

/** Minimal SMTP server (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA; no STARTTLS): prints every mail as a JSON line. */
const SMTP = `
require('net').createServer((sock) => {
  sock.setEncoding('utf8');
  let buf = '', inData = false, login = null, mail = { from: '', to: [], auth: '', data: '' };
  const send = (l) => sock.write(l + '\\r\\n');
  send('220 fake-smtp ESMTP');
  sock.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\\r\\n')) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 2);
      if (inData) {
        if (line === '.') {
          inData = false;
          process.stdout.write(JSON.stringify(mail) + '\\n');
          mail = { from: '', to: [], auth: mail.auth, data: '' };
          send('250 2.0.0 queued');
        } else mail.data += (line.startsWith('..') ? line.slice(1) : line) + '\\r\\n';
        continue;
      }
      if (login !== null) { mail.auth += Buffer.from(line, 'base64').toString() + '\\n'; login++; send(login === 1 ? '334 UGFzc3dvcmQ6' : '235 2.7.0 ok'); if (login === 2) login = null; continue; }
      const [cmd, ...rest] = line.split(' ');
      switch (cmd.toUpperCase()) {
        case 'EHLO': sock.write('250-fake-smtp\\r\\n250-AUTH PLAIN LOGIN\\r\\n250 8BITMIME\\r\\n'); break;
        case 'HELO': send('250 fake-smtp'); break;
        case 'AUTH':
          if (rest[0].toUpperCase() === 'LOGIN') { login = 0; send('334 VXNlcm5hbWU6'); }
          else { mail.auth = Buffer.from(rest[1] || '', 'base64').toString(); send('235 2.7.0 ok'); }
          break;
        case 'MAIL': mail.from = line; send('250 2.1.0 ok'); break;
        case 'RCPT': mail.to.push(line); send('250 2.1.5 ok'); break;
        case 'DATA': inData = true; send('354 end with <CRLF>.<CRLF>'); break;
        case 'RSET': case 'NOOP': send('250 ok'); break;
        case 'QUIT': send('221 bye'); sock.end(); break;
        default: send('502 not implemented');
      }
    }
  });
  sock.on('error', () => {});
}).listen(Number(process.argv[1]), '127.0.0.1', () => process.stderr.write('listening\\n'));`;

// ---------- processes ----------

interface Proc {
  name: string;
  child: ChildProcess;
  lines: string[];
  log: string;
}

const procs: Proc[] = [];

function start(ns: string, name: string, cmd: string[]): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { name, child, lines: [], log: '' };
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    partial += s;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    p.lines.push(...parts.filter(Boolean));
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    p.log = (p.log + s).slice(-20_000);
  });
  procs.push(p);
  return p;
}

async function stop(p: Proc): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function diagnostics(): string {
  return procs.map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'})\n${p.log.slice(-3_000)}`).join('\n');
}

function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 500): Promise<T> {
  return waitUntil(what, fn, timeoutMs, { everyMs, diag: diagnostics });
}

const listening = (p: Proc, what = 'listening') => waitFor(`${p.name} to listen`, () => (p.log.includes(what) ? true : undefined), 10_000, 100);

// ---------- Prometheus API over the relay's unix socket ----------

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function api<T>(socket: string, path: string): Promise<T> {
  const r = await get(socket, path);
  const doc = JSON.parse(r.body) as { status: string; data: T; error?: string };
  if (doc.status !== 'success') throw new Error(`${path}: ${doc.error ?? r.body}`);
  return doc.data;
}

const query = async (socket: string, expr: string): Promise<Series[]> =>
  (await api<{ result: Series[] }>(socket, `/api/v1/query?query=${encodeURIComponent(expr)}`)).result;

function decodeQuotedPrintable(s: string): string {
  return Buffer.from(
    s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

// ---------- the test ----------

test(
  'stack end to end: new device -> Prometheus alert -> Slack and email; every dashboard query returns data for both segments',
  { timeout: 300_000 },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'gh-stack-'));
    let labA: Lab | undefined;
    let labB: Lab | undefined;
    try {
      for (const name of ['ghsta', 'ghstb']) await cleanupStaleLabs(name); // left by a crashed earlier run
      labA = await Lab.up(3, { name: 'ghsta', cidr: '198.18.10.0/24' });
      labB = await Lab.up(2, { name: 'ghstb', cidr: '198.18.20.0/24' });
      const nsA = labA.scannerNs;
      const nsB = labB.scannerNs;

      // --- the exporters: lab A knows its devices (the gateway is critical), lab B knows none
      const exporterConfig = (lab: Lab, dir: string, known: { mac: string; name: string; class?: string; critical?: boolean }[]) => {
        mkdirSync(dir, { recursive: true });
        const path = join(dir, 'config.yml');
        writeFileSync(
          path,
          stringify({
            interfaces: [{ name: lab.scannerIf, cidrs: [lab.cidr] }],
            scan: { interval: '2s', rate: 500 },
            presence: { absent_after: '10s' },
            // score sweeps after a few seconds instead of a day, so the anomaly panels have data
            anomaly: { warmup: '10s', retrain_every: '10s', seed: 1 },
            storage: { path: dir },
            known_devices: known,
          }),
        );
        return path;
      };
      const knownA = labA.devices().map((d, i) =>
        i === 0 ? { mac: d.mac, name: 'gateway', class: 'router', critical: true } : { mac: d.mac, name: `known-${i}` },
      );
      const cli = ['node', '--import', 'tsx', join(ROOT, 'src', 'cli.ts')];
      const flags = [`--web.listen-address=127.0.0.1:${PORT.exporter}`, '--log.level=info'];
      const exporterA = start(nsA, 'exporter A', [...cli, '--config.file', exporterConfig(labA, join(tmp, 'a'), knownA), ...flags]);
      const exporterB = start(nsB, 'exporter B', [...cli, '--config.file', exporterConfig(labB, join(tmp, 'b'), []), ...flags]);

      // --- relays: Prometheus in lab A scrapes exporter B through a unix socket; the test reaches Prometheus the same way
      const bSock = join(tmp, 'exporter-b.sock');
      const promSock = join(tmp, 'prometheus.sock');
      await listening(start(nsB, 'relay B', ['node', '-e', RELAY, `unix:${bSock}`, `tcp:${PORT.exporter}`]));
      await listening(start(nsA, 'relay A->B', ['node', '-e', RELAY, `tcp:${PORT.relayB}`, `unix:${bSock}`]));
      await listening(start(nsA, 'relay Prometheus', ['node', '-e', RELAY, `unix:${promSock}`, `tcp:${PORT.prometheus}`]));

      // --- receivers
      const slack = start(nsA, 'fake Slack', ['node', '-e', SLACK, String(PORT.slack)]);
      const smtp = start(nsA, 'fake SMTP', ['node', '-e', SMTP, String(PORT.smtp)]);
      await listening(slack);
      await listening(smtp);

      // --- Alertmanager with the shipped config and templates
      const am = parse(readFileSync(join(ROOT, 'alertmanager', 'alertmanager.yml'), 'utf8'));
      writeFileSync(join(tmp, 'slack_api_url'), `http://127.0.0.1:${PORT.slack}/services/T000/B000/XXXX`);
      writeFileSync(join(tmp, 'smtp_password'), SMTP_PASSWORD);
      am.global.slack_api_url_file = join(tmp, 'slack_api_url');
      am.global.smtp_smarthost = `127.0.0.1:${PORT.smtp}`;
      am.global.smtp_auth_password_file = join(tmp, 'smtp_password');
      am.global.smtp_require_tls = false; // the local SMTP stand-in offers no STARTTLS
      am.templates = [join(ROOT, 'alertmanager', 'templates', '*.tmpl')];
      am.route.group_wait = '1s'; // timing
      am.route.group_interval = '5s';
      writeFileSync(join(tmp, 'alertmanager.yml'), stringify(am));
      mkdirSync(join(tmp, 'am-data'));
      start(nsA, 'alertmanager', [
        'prometheus-alertmanager',
        `--config.file=${join(tmp, 'alertmanager.yml')}`,
        `--storage.path=${join(tmp, 'am-data')}`,
        `--web.listen-address=127.0.0.1:${PORT.alertmanager}`,
        '--cluster.listen-address=',
      ]);

      // --- Prometheus with the shipped config and rules
      const rulesDir = join(tmp, 'rules');
      mkdirSync(rulesDir);
      for (const f of readdirSync(join(ROOT, 'prometheus', 'rules'))) {
        const doc = parse(readFileSync(join(ROOT, 'prometheus', 'rules', f), 'utf8')) as { groups: { interval?: string }[] };
        for (const g of doc.groups) delete g.interval; // timing: evaluate every group every 2 s
        writeFileSync(join(rulesDir, f), stringify(doc));
      }
      const prom = parse(readFileSync(join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8'));
      prom.global.scrape_interval = '2s';
      prom.global.evaluation_interval = '2s';
      prom.rule_files = [join(rulesDir, '*.yml')];
      prom.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${PORT.alertmanager}`];
      for (const sc of prom.scrape_configs as { job_name: string; static_configs: { targets: string[]; labels?: object }[] }[]) {
        if (sc.job_name === 'ghost-hunter') {
          sc.static_configs = [
            { targets: [`127.0.0.1:${PORT.exporter}`], labels: { site: SITES.a, segment: 'seg-a' } },
            { targets: [`127.0.0.1:${PORT.relayB}`], labels: { site: SITES.b, segment: 'seg-b' } },
          ];
        }
        if (sc.job_name === 'prometheus') sc.static_configs[0].targets = [`127.0.0.1:${PORT.prometheus}`];
        if (sc.job_name === 'alertmanager') sc.static_configs[0].targets = [`127.0.0.1:${PORT.alertmanager}`];
      }
      writeFileSync(join(tmp, 'prometheus.yml'), stringify(prom));
      mkdirSync(join(tmp, 'prom-data'));
      start(nsA, 'prometheus', [
        'prometheus',
        `--config.file=${join(tmp, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(tmp, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${PORT.prometheus}`,
      ]);
      await waitFor('Prometheus ready', async () => ((await get(promSock, '/-/ready')).status === 200 ? true : undefined), 30_000);

      // --- both exporters scraped, both labs swept
      await waitFor(
        'both exporters up and sweeping',
        async () => {
          const up = await query(promSock, 'up{job="ghost-hunter"} == 1 and on (instance) (count by (instance) (ghosthunter_device_present == 1) > 0)');
          return up.length === 2 ? true : undefined;
        },
        60_000,
      );
      assert.equal(exporterA.child.exitCode, null);
      assert.equal(exporterB.child.exitCode, null);

      // --- a new unknown device joins lab A
      const dev = await labA.addDevice();
      const alert = await waitFor(
        `GhostHunterNewUnknownDevice for ${dev.mac}`,
        async () => {
          const data = await api<{ alerts: { labels: Record<string, string>; state: string; annotations: Record<string, string> }[] }>(promSock, '/api/v1/alerts');
          return data.alerts.find((a) => a.labels.alertname === 'GhostHunterNewUnknownDevice' && a.labels.mac === dev.mac && a.state === 'firing');
        },
        60_000,
      );
      assert.equal(alert.labels.ip, dev.ip);
      assert.equal(alert.labels.site, SITES.a);
      assert.equal(alert.labels.severity, 'warning');
      assert.ok(alert.annotations.description.includes(dev.mac) && alert.annotations.description.includes(dev.ip));
      // the known devices of lab A do not alert
      const known = new Set(knownA.map((k) => k.mac));
      const data = await api<{ alerts: { labels: Record<string, string> }[] }>(promSock, '/api/v1/alerts');
      assert.ok(!data.alerts.some((a) => a.labels.alertname === 'GhostHunterNewUnknownDevice' && known.has(a.labels.mac)));

      // --- Alertmanager delivers it to Slack and by email, naming MAC and IP
      const slackMsg = await waitFor(
        'a Slack message naming the new device',
        () => slack.lines.map((l) => JSON.parse(l) as { url: string; body: string }).find((m) => m.body.includes(dev.mac) && m.body.includes(dev.ip)),
        60_000,
      );
      assert.equal(slackMsg.url, '/services/T000/B000/XXXX');
      const payload = JSON.parse(slackMsg.body) as { channel: string; attachments: { title: string; text: string }[] };
      assert.equal(payload.channel, '#ghost-hunter');
      assert.match(payload.attachments[0].title, /GhostHunterNewUnknownDevice/);
      assert.ok(payload.attachments[0].text.includes(`MAC ${dev.mac} IP ${dev.ip}`), payload.attachments[0].text);

      const mail = await waitFor(
        'an email naming the new device',
        () =>
          smtp.lines
            .map((l) => JSON.parse(l) as { from: string; to: string[]; auth: string; data: string })
            .map((m) => ({ ...m, text: decodeQuotedPrintable(m.data) }))
            .find((m) => m.text.includes(dev.mac) && m.text.includes(dev.ip)),
        60_000,
      );
      assert.ok(mail.to.some((t) => t.includes('lan-admins@example.org')));
      assert.ok(mail.auth.includes(SMTP_PASSWORD), 'SMTP password read from the secret file');
      assert.match(mail.text, /Subject: \[FIRING:\d+\] New unknown device/);

      // --- every dashboard query returns data, for both segments, and for one when $site is set
      await waitFor(
        'the anomaly model scoring sweeps on both segments',
        async () => ((await query(promSock, 'ghosthunter_anomaly_score and on (instance, interface) ghosthunter_anomaly_threshold')).length === 2 ? true : undefined),
        60_000,
      );
      const dir = join(ROOT, 'grafana', 'dashboards');
      const queries = readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .flatMap((f) => dashboardQueries(f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard));
      const failures: string[] = [];
      for (const q of queries) {
        const where = `${q.dashboard} / ${q.panel} / ${q.refId}: ${q.expr}`;
        const all = await query(promSock, expandVariables(q.expr));
        if (all.length === 0) {
          failures.push(`no data: ${where}`);
          continue;
        }
        const isVariable = q.panel.startsWith('variable ');
        if (isVariable && q.refId !== 'site') continue;
        const sites = new Set(all.map((s) => s.metric.site));
        if (!(sites.has(SITES.a) && sites.has(SITES.b))) failures.push(`not both segments (${[...sites].join(', ')}): ${where}`);
        if (isVariable) continue;
        const onlyA = await query(promSock, expandVariables(q.expr, { ...TEST_VARIABLES, site: SITES.a }));
        if (onlyA.length === 0 || onlyA.some((s) => s.metric.site !== SITES.a)) failures.push(`site=${SITES.a} not applied: ${where}`);
      }
      assert.deepEqual(failures, [], failures.join('\n'));
    } finally {
      for (const p of [...procs].reverse()) await stop(p);
      await labA?.down();
      await labB?.down();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
