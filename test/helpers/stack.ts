// Pieces shared by the end-to-end tests of the bundled stack (test/e2e/stack.test.ts,
// test/e2e/sites.test.ts): long-running processes inside lab namespaces, unix-socket
// relays joining the namespaces, Slack and SMTP stand-ins, HTTP over unix sockets, and
// the shipped Prometheus rules, Alertmanager config and dashboards with only addresses,
// paths and timing overridden.
//
// Every server listens on 127.0.0.1 inside a lab namespace; namespaces are joined only
// by unix sockets in the test's temporary directory, so nothing reaches a real interface.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Lab } from '../../src/lab/lab.js';
import { dashboardQueries, expandVariables, TEST_VARIABLES, type DashboardQuery } from '../../grafana/src/queries.js';
import { waitUntil } from './wait.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ---------- small servers run with `node -e` inside a namespace ----------

/** TCP or unix-socket relay: `node -e RELAY <listen> <connect>`, each `unix:<path>` or `tcp:<port>` (127.0.0.1). */
export const RELAY = `
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

export interface Proc {
  name: string;
  child: ChildProcess;
  /** stdout, one entry per line */
  lines: string[];
  /** the last 20 000 characters of stderr */
  log: string;
}

/** Processes started inside lab namespaces, stopped together; their logs go into every wait's error. */
export class Processes {
  private readonly procs: Proc[] = [];

  start(ns: string, name: string, cmd: string[]): Proc {
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
    this.procs.push(p);
    return p;
  }

  async stop(p: Proc): Promise<void> {
    const { child } = p;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    for (const p of [...this.procs].reverse()) await this.stop(p);
  }

  diagnostics(): string {
    return this.procs.map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'})\n${p.log.slice(-3_000)}`).join('\n');
  }

  waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 500): Promise<T> {
    return waitUntil(what, fn, timeoutMs, { everyMs, diag: () => this.diagnostics() });
  }

  /** Waits until `p` has written `what` (default: the relays' and receivers' "listening") to stderr. */
  listening(p: Proc, what = 'listening'): Promise<true> {
    return this.waitFor(`${p.name} to listen`, () => (p.log.includes(what) ? true : undefined), 10_000, 100);
  }

  /** A unix socket in `dir` that reaches 127.0.0.1:`port` inside `ns` (for the test itself). */
  async socketTo(dir: string, ns: string, port: number, name: string): Promise<string> {
    const sock = join(dir, `${name}.sock`);
    await this.listening(this.start(ns, `relay ${name}`, ['node', '-e', RELAY, `unix:${sock}`, `tcp:${port}`]));
    return sock;
  }

  /** 127.0.0.1:`fromPort` in `fromNs` reaches 127.0.0.1:`toPort` in `toNs`, through a unix socket in `dir`. */
  async tunnel(dir: string, name: string, from: { ns: string; port: number }, to: { ns: string; port: number }): Promise<void> {
    const sock = await this.socketTo(dir, to.ns, to.port, name);
    await this.listening(this.start(from.ns, `relay ${name} (${from.port})`, ['node', '-e', RELAY, `tcp:${from.port}`, `unix:${sock}`]));
  }
}

// ---------- HTTP and the Prometheus API over unix sockets ----------

export interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

export function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
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

export async function api<T>(socket: string, path: string): Promise<T> {
  const r = await get(socket, path);
  const doc = JSON.parse(r.body) as { status: string; data: T; error?: string };
  if (doc.status !== 'success') throw new Error(`${path}: ${doc.error ?? r.body}`);
  return doc.data;
}

export const query = async (socket: string, expr: string): Promise<Series[]> =>
  (await api<{ result: Series[] }>(socket, `/api/v1/query?query=${encodeURIComponent(expr)}`)).result;

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

export const alerts = async (socket: string): Promise<PromAlert[]> => (await api<{ alerts: PromAlert[] }>(socket, '/api/v1/alerts')).alerts;

// ---------- the shipped configs, with addresses, paths and timing overridden ----------

/** The exporter's config for a lab: 2-second sweeps, and the anomaly model scoring after seconds instead of a day. */
export function exporterConfig(
  lab: Lab,
  dir: string,
  known: { mac: string; name: string; class?: string; critical?: boolean }[],
  iface = lab.scannerIf,
): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'config.yml');
  writeFileSync(
    path,
    stringify({
      interfaces: [{ name: iface, cidrs: [lab.cidr] }],
      scan: { interval: '2s', rate: 500 },
      presence: { absent_after: '10s' },
      anomaly: { warmup: '10s', retrain_every: '10s', seed: 1 },
      storage: { path: dir },
      known_devices: known,
    }),
  );
  return path;
}

/** The exporter from source (through tsx), listening on 127.0.0.1:`port`. */
export function exporterCommand(configPath: string, port: number): string[] {
  return ['node', '--import', 'tsx', join(ROOT, 'src', 'cli.ts'), '--config.file', configPath, `--web.listen-address=127.0.0.1:${port}`, '--log.level=info'];
}

/** The shipped rule files in `dir`, with every group evaluated at the global interval (the timing override). */
export function shippedRules(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(join(ROOT, 'prometheus', 'rules'))) {
    const doc = parse(readFileSync(join(ROOT, 'prometheus', 'rules', f), 'utf8')) as { groups: { interval?: string }[] };
    for (const g of doc.groups) delete g.interval;
    writeFileSync(join(dir, f), stringify(doc));
  }
  return join(dir, '*.yml');
}

/** A shipped Prometheus config (path relative to prometheus/), parsed for overriding. */
export function shippedPrometheus(relPath: string): PrometheusConfig {
  return parse(readFileSync(join(ROOT, 'prometheus', relPath), 'utf8')) as PrometheusConfig;
}

export interface PrometheusConfig {
  global: { scrape_interval: string; evaluation_interval: string; external_labels?: Record<string, string> };
  rule_files: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  remote_write?: { url: string; write_relabel_configs?: { source_labels: string[]; regex: string; action: string }[] }[];
  scrape_configs: { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] }[];
}

export function scrapeJob(cfg: PrometheusConfig, job: string): PrometheusConfig['scrape_configs'][number] {
  const sc = cfg.scrape_configs.find((s) => s.job_name === job);
  if (!sc) throw new Error(`no scrape job ${job}`);
  return sc;
}

/** Starts `prometheus` in `ns` with `cfg` written to `dir`; resolves once it is ready, with the socket the test queries it through. */
export async function startPrometheus(
  procs: Processes,
  ns: string,
  name: string,
  dir: string,
  port: number,
  cfg: PrometheusConfig | object,
  flags: string[] = [],
): Promise<string> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'prometheus.yml'), stringify(cfg));
  procs.start(ns, name, [
    'prometheus',
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...flags,
  ]);
  const sock = await procs.socketTo(dir, ns, port, name.replace(/\W+/g, '-'));
  await procs.waitFor(`${name} ready`, async () => ((await get(sock, '/-/ready')).status === 200 ? true : undefined), 30_000);
  return sock;
}

export const SMTP_PASSWORD = 'e2e-secret-from-file';

export interface Receivers {
  slack: Proc;
  smtp: Proc;
}

/**
 * Fake Slack and SMTP receivers and `prometheus-alertmanager` with the shipped config and
 * templates in `ns`: only the receivers' addresses, the secret files' paths and timing
 * (group_wait 1 s, group_interval 5 s) are overridden, and smtp_require_tls is off
 * because the SMTP stand-in offers no STARTTLS.
 */
export async function startAlertmanager(
  procs: Processes,
  ns: string,
  dir: string,
  port: { alertmanager: number; slack: number; smtp: number },
): Promise<Receivers> {
  const slack = procs.start(ns, 'fake Slack', ['node', '-e', SLACK, String(port.slack)]);
  const smtp = procs.start(ns, 'fake SMTP', ['node', '-e', SMTP, String(port.smtp)]);
  await procs.listening(slack);
  await procs.listening(smtp);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const am = parse(readFileSync(join(ROOT, 'alertmanager', 'alertmanager.yml'), 'utf8'));
  writeFileSync(join(dir, 'slack_api_url'), `http://127.0.0.1:${port.slack}/services/T000/B000/XXXX`);
  writeFileSync(join(dir, 'smtp_password'), SMTP_PASSWORD);
  am.global.slack_api_url_file = join(dir, 'slack_api_url');
  am.global.smtp_smarthost = `127.0.0.1:${port.smtp}`;
  am.global.smtp_auth_password_file = join(dir, 'smtp_password');
  am.global.smtp_require_tls = false;
  am.templates = [join(ROOT, 'alertmanager', 'templates', '*.tmpl')];
  am.route.group_wait = '1s';
  am.route.group_interval = '5s';
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(am));
  procs.start(ns, 'alertmanager', [
    'prometheus-alertmanager',
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port.alertmanager}`,
    '--cluster.listen-address=',
  ]);
  return { slack, smtp };
}

export interface SlackMessage {
  url: string;
  body: string;
  payload: { channel: string; attachments: { title: string; text: string }[] };
}

export const slackMessages = (slack: Proc): SlackMessage[] =>
  slack.lines.map((l) => JSON.parse(l) as { url: string; body: string }).map((m) => ({ ...m, payload: JSON.parse(m.body) as SlackMessage['payload'] }));

export interface Mail {
  from: string;
  to: string[];
  auth: string;
  /** the message, quoted-printable decoded */
  text: string;
}

export const mails = (smtp: Proc): Mail[] =>
  smtp.lines.map((l) => JSON.parse(l) as Mail & { data: string }).map((m) => ({ ...m, text: decodeQuotedPrintable(m.data) }));

function decodeQuotedPrintable(s: string): string {
  return Buffer.from(
    s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

/** Every PromQL query of every committed dashboard, variables included. */
export function shippedDashboardQueries(): DashboardQuery[] {
  const dir = join(ROOT, 'grafana', 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => dashboardQueries(f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard));
}

/**
 * Runs every dashboard query against the Prometheus API behind `socket` and returns what
 * is wrong. `scope` maps dashboard variables that are labels (site, segment) to the two
 * values the data holds: every panel query must return series for both, the variable
 * queries of those labels must list both, and with the variables set to the first
 * values a panel query must return only series carrying them.
 */
export async function dashboardFailures(socket: string, scope: Record<string, [string, string]>): Promise<string[]> {
  const failures: string[] = [];
  const firstOnly = { ...TEST_VARIABLES, ...Object.fromEntries(Object.entries(scope).map(([k, v]) => [k, v[0]])) };
  for (const q of shippedDashboardQueries()) {
    const where = `${q.dashboard} / ${q.panel} / ${q.refId}: ${q.expr}`;
    const all = await query(socket, expandVariables(q.expr));
    if (all.length === 0) {
      failures.push(`no data: ${where}`);
      continue;
    }
    const isVariable = q.panel.startsWith('variable ');
    for (const [label, values] of Object.entries(scope)) {
      if (isVariable && q.refId !== label) continue;
      const seen = new Set(all.map((s) => s.metric[label]));
      if (!values.every((v) => seen.has(v))) failures.push(`not every ${label} of ${values.join(', ')} (${[...seen].join(', ')}): ${where}`);
    }
    if (isVariable) continue;
    const first = await query(socket, expandVariables(q.expr, firstOnly));
    const wrong = first.filter((s) => Object.entries(scope).some(([label, values]) => s.metric[label] !== values[0]));
    if (first.length === 0 || wrong.length > 0) failures.push(`variables ${JSON.stringify(firstOnly)} not applied: ${where}`);
  }
  return failures;
}
