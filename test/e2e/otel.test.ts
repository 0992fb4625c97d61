// OpenTelemetry end to end: the exporter runs in a lab's scanner namespace with OTLP pointed at a
// small OTLP/HTTP receiver that listens on 127.0.0.1:4318 (the OTLP default, so an SDK started
// by accident would reach it too) inside the same namespace and appends every request to a file.
//
// Checks: sweep spans with their attributes and subnet child spans in the same trace; a
// ghosthunter.reload span for POST /-/reload; spans held back by OTEL_BSP_SCHEDULE_DELAY=60000
// arrive only through the SIGTERM flush; log lines carry trace_id. With OTLP unset nothing is
// sent, nothing about telemetry is logged and the SDK is never loaded (a module-resolution hook
// records it). OTEL_EXPORTER_OTLP_ENDPOINT alone enables tracing, OTEL_SDK_DISABLED=true
// disables it, /v1/metrics is only used with telemetry.otlp_metrics, and
// OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf switches the encoding.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, cleanupStaleLabs } from '../../src/lab/lab.js';
import { waitUntil } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PREFIX = 'got';
const RECEIVER_PORT = 4318;
const WEB_PORT = 19736;
const DEVICES = 3;
const CIDR = '198.18.0.0/27'; // small, so a sweep stays well inside the 2 s interval
const ADDRESSES = 30;

/** OTLP/HTTP receiver: `node -e RECEIVER <port> <file>`; one JSON line per request. */
const RECEIVER = `
const http = require('http'), fs = require('fs'), zlib = require('zlib');
const [port, file] = process.argv.slice(1);
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    if ((req.headers['content-encoding'] || '') === 'gzip') body = zlib.gunzipSync(body);
    const ct = String(req.headers['content-type'] || '');
    const json = ct.includes('json');
    fs.appendFileSync(file, JSON.stringify({ method: req.method, url: req.url, contentType: ct, body: json ? body.toString('utf8') : body.toString('base64') }) + '\\n');
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
    res.end(json ? '{}' : '');
  });
}).listen(Number(port), '127.0.0.1', () => process.stderr.write('listening\\n'));`;

/** One HTTP request from inside the namespace: `node -e HTTP <method> <url>`; prints status and body. */
const HTTP = `
const [method, url] = process.argv.slice(1);
fetch(url, { method }).then(async (r) => { process.stdout.write(r.status + '\\n' + (await r.text())); }, (e) => { process.stdout.write('0\\n' + e.message); });`;

// ---------- OTLP JSON ----------

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
  events?: { name: string }[];
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attrs: Record<string, string | number | boolean>;
  statusCode: number;
  resource: Record<string, string | number | boolean>;
  scope: string;
}
interface Received {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

function flatten(kvs: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of kvs ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

function readReceived(file: string): Received[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Received);
}

function spansOf(received: Received[]): Span[] {
  const spans: Span[] = [];
  for (const r of received) {
    if (r.url !== '/v1/traces' || !r.contentType.includes('json')) continue;
    const doc = JSON.parse(r.body) as {
      resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[] }[];
    };
    for (const rs of doc.resourceSpans ?? []) {
      const resource = flatten(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            attrs: flatten(s.attributes),
            statusCode: s.status?.code ?? 0,
            resource,
            scope: ss.scope?.name ?? '',
          });
        }
      }
    }
  }
  return spans;
}

// ---------- processes ----------

interface Proc {
  name: string;
  child: ChildProcess;
  out: string;
  err: string;
}

const procs = new Set<Proc>();

/** Environment without any OTEL_* variable, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_')) env[k] = v;
  return { ...env, ...extra };
}

function startIn(lab: Lab, name: string, cmd: string[], env: NodeJS.ProcessEnv): Proc {
  const child = lab.spawnInScanner(cmd, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { name, child, out: '', err: '' };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (p.out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (p.err += s));
  procs.add(p);
  return p;
}

function exited(p: Proc): Promise<number | string> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
}

/** SIGTERM (SIGKILL after `graceMs`); resolves to the exit code or signal. */
async function stop(p: Proc, graceMs = 10_000): Promise<number | string> {
  const done = exited(p);
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  const code = await done;
  clearTimeout(timer);
  procs.delete(p);
  return code;
}

function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, diag: () => string = () => ''): Promise<T> {
  return waitUntil(what, fn, timeoutMs, { everyMs: 200, diag });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function httpIn(lab: Lab, method: string, path: string): Promise<{ status: number; body: string }> {
  const r = await lab.exec(['node', '-e', HTTP, method, `http://127.0.0.1:${WEB_PORT}${path}`], { timeoutMs: 30_000 });
  const nl = r.stdout.indexOf('\n');
  return { status: Number(r.stdout.slice(0, nl)), body: r.stdout.slice(nl + 1) };
}

const sweepsFinished = (p: Proc) => p.err.split('\n').filter((l) => l.includes('msg="sweep finished"')).length;

// ---------- one exporter run ----------

interface RunOptions {
  /** extra YAML appended to the config (e.g. a telemetry: block) */
  telemetry?: string;
  /** the scan: block (default: 2 s interval, 200 ms timeout, one retry) */
  scan?: string;
  env?: Record<string, string>;
  args?: string[];
  /** completed sweeps to wait for before stopping */
  sweeps?: number;
  /** POST /-/reload after the sweeps */
  reload?: boolean;
  /** extra `interfaces:` entries written to the config just before the reload */
  addInterfaces?: string;
  /** called after the sweeps (and reload), before SIGTERM */
  beforeStop?: () => Promise<void>;
}

interface RunResult {
  stderr: string;
  exitCode: number | string;
  received: Received[];
  /** requests the receiver had got before SIGTERM */
  receivedBeforeStop: Received[];
  /** modules the resolution hook saw being imported whose name contains "@opentelemetry/sdk-" */
  sdkImports: string[];
}

let lab: Lab;
let dir: string;
let receiverFile: string;
let hookFile: string;
let hookLog: string;
let runNo = 0;

async function runExporter(opts: RunOptions): Promise<RunResult> {
  const n = ++runNo;
  const dataDir = join(dir, `data${n}`);
  const configFile = join(dir, `config${n}.yaml`);
  const config = (extraInterfaces = '') => `interfaces:
  - name: ${lab.scannerIf}
    cidrs: [${CIDR}]
${extraInterfaces}
${opts.scan ?? 'scan: {interval: 2s, timeout: 200ms, retries: 1}'}
anomaly: {warmup: 2s, retrain_every: 2s}
storage: {path: ${dataDir}}
${opts.telemetry ?? ''}
`;
  writeFileSync(configFile, config());
  writeFileSync(receiverFile, '');
  writeFileSync(hookLog, '');
  const exporter = startIn(
    lab,
    `exporter#${n}`,
    [process.execPath, '--import', 'tsx', '--import', hookFile, 'src/cli.ts', `--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${WEB_PORT}`, '--web.enable-lifecycle', '--log.level=debug', ...(opts.args ?? [])],
    cleanEnv(opts.env),
  );
  const diag = () => `--- exporter stderr (exit ${exporter.child.exitCode ?? exporter.child.signalCode ?? 'running'})\n${exporter.err.slice(-4000)}`;
  let receivedBeforeStop: Received[] = [];
  let exitCode: number | string = 'running';
  try {
    await waitFor(`${opts.sweeps ?? 2} sweeps`, () => exporter.child.exitCode === null && sweepsFinished(exporter) >= (opts.sweeps ?? 2), 60_000, diag);
    if (opts.reload) {
      if (opts.addInterfaces) writeFileSync(configFile, config(opts.addInterfaces));
      const r = await httpIn(lab, 'POST', '/-/reload');
      assert.equal(r.status, 200, `reload: ${r.body}\n${diag()}`);
    }
    await opts.beforeStop?.();
    receivedBeforeStop = readReceived(receiverFile);
  } finally {
    exitCode = await stop(exporter);
  }
  // The receiver appends synchronously before answering, and the exporter waits for the
  // answer before exiting: everything flushed is in the file now.
  return {
    stderr: exporter.err,
    exitCode,
    received: readReceived(receiverFile),
    receivedBeforeStop,
    sdkImports: readFileSync(hookLog, 'utf8').split('\n').filter(Boolean),
  };
}

function logLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('ts='));
}

function telemetryComplaints(stderr: string): string[] {
  // The message and error fields only: every line inside a span has trace_id/span_id.
  return logLines(stderr).filter((l) => /level=(warn|error)/.test(l) && /otel|opentelemetry|otlp|telemetry|trac|span|export/i.test(l.replace(/ (trace_id|span_id)=\S+/g, '')));
}

// ---------- tests ----------

describe('OpenTelemetry tracing over OTLP (lab namespace, local receiver)', { timeout: 600_000 }, () => {
  let receiver: Proc;

  before(async () => {
    await cleanupStaleLabs(PREFIX);
    dir = mkdtempSync(join(tmpdir(), 'ghosthunter-otel-'));
    receiverFile = join(dir, 'received.jsonl');
    hookLog = join(dir, 'imports.log');
    // Records every import of an OpenTelemetry SDK package (not the API) into hookLog.
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier.includes('@opentelemetry/sdk-')) appendFileSync(${JSON.stringify(hookLog)}, specifier + '\\n');
  return next(specifier, context);
}`,
    );
    hookFile = join(dir, 'register-hooks.mjs');
    writeFileSync(hookFile, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);
    lab = await Lab.up(DEVICES, { name: `${PREFIX}${Math.random().toString(36).slice(2, 6).replace(/[^a-z0-9]/g, 'x')}` });
    receiver = startIn(lab, 'receiver', [process.execPath, '-e', RECEIVER, String(RECEIVER_PORT), receiverFile], cleanEnv());
    await waitFor('the OTLP receiver to listen', () => receiver.err.includes('listening'), 10_000, () => receiver.err);
  });

  after(async () => {
    for (const p of [...procs]) await stop(p, 3_000);
    await lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('config switch: sweep, subnet and reload spans arrive through the shutdown flush; logs carry trace_id', async () => {
    const r = await runExporter({
      telemetry: `telemetry: {otlp: true, otlp_endpoint: "http://127.0.0.1:${RECEIVER_PORT}"}`,
      env: { OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_METRIC_EXPORT_INTERVAL: '1000' },
      sweeps: 2,
      reload: true,
      beforeStop: () => sleep(1500), // more than a metric interval: a stray metric reader would have sent by now
    });
    assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
    assert.match(r.stderr, /msg="OpenTelemetry tracing enabled"/);
    assert.ok(r.sdkImports.some((s) => s.includes('@opentelemetry/sdk-node')), 'the SDK was loaded');
    assert.deepEqual(r.receivedBeforeStop.filter((x) => x.url === '/v1/traces'), [], 'with a 60 s batch delay nothing is exported before the shutdown flush');
    assert.ok(r.received.length > 0, 'the shutdown flush delivered spans');
    assert.deepEqual(r.received.filter((x) => x.url !== '/v1/traces').map((x) => x.url), [], 'only traces are sent (no /v1/metrics, no /v1/logs)');
    for (const x of r.received) assert.match(x.contentType, /^application\/json/);
    assert.deepEqual(telemetryComplaints(r.stderr), []);

    const spans = spansOf(r.received);
    const allSweeps = spans.filter((s) => s.name === 'ghosthunter.sweep');
    const subnets = spans.filter((s) => s.name === 'ghosthunter.sweep.subnet');
    // A sweep that the stop cut short is marked, not counted, and not an error.
    const interrupted = allSweeps.filter((s) => s.attrs['ghosthunter.interrupted'] === true);
    assert.ok(interrupted.length <= 1, 'only the sweep running at the stop can be interrupted');
    for (const s of interrupted) {
      assert.equal(s.statusCode, 0, 'an interrupted sweep is not an error');
      assert.equal(s.attrs['ghosthunter.addresses_probed'], undefined);
      for (const c of subnets.filter((c) => c.parentSpanId === s.spanId)) {
        assert.equal(c.attrs['ghosthunter.interrupted'], true);
        assert.equal(c.statusCode, 0);
      }
    }
    const sweeps = allSweeps.filter((s) => !interrupted.includes(s));
    assert.ok(sweeps.length >= 2, `at least 2 completed sweep spans, got ${sweeps.length}: ${spans.map((s) => s.name).join(', ')}`);
    for (const s of spans) {
      assert.equal(s.resource['service.name'], 'ghost-hunter');
      assert.equal(typeof s.resource['service.version'], 'string');
      assert.equal(s.scope, 'ghost-hunter');
    }
    for (const s of sweeps) {
      assert.equal(s.parentSpanId, '', 'a scheduled sweep is the root of its trace');
      assert.equal(s.statusCode, 0, 'unset status (no error)');
      assert.equal(s.attrs['ghosthunter.interface'], lab.scannerIf);
      assert.equal(s.attrs['ghosthunter.addresses_probed'], ADDRESSES);
      assert.ok(Number(s.attrs['ghosthunter.requests_sent']) >= ADDRESSES, JSON.stringify(s.attrs));
      assert.ok(Number(s.attrs['ghosthunter.replies']) >= DEVICES, JSON.stringify(s.attrs));
      assert.equal(typeof s.attrs['ghosthunter.new_devices'], 'number');
      assert.equal(typeof s.attrs['ghosthunter.gone_devices'], 'number');
      const children = subnets.filter((c) => c.parentSpanId === s.spanId);
      assert.equal(children.length, 1, 'one subnet span per configured cidr');
      const [c] = children;
      assert.equal(c.traceId, s.traceId);
      assert.equal(c.attrs['ghosthunter.subnet'], CIDR);
      assert.equal(c.attrs['ghosthunter.interface'], lab.scannerIf);
      assert.equal(c.attrs['ghosthunter.addresses_probed'], ADDRESSES);
      assert.ok(Number(c.attrs['ghosthunter.replies']) >= DEVICES);
    }
    assert.equal(new Set(sweeps.map((s) => s.traceId)).size, sweeps.length, 'every sweep has its own trace');
    for (const c of subnets) assert.ok(allSweeps.some((s) => s.spanId === c.parentSpanId), 'every subnet span has a delivered sweep parent');
    const first = sweeps.reduce((a, b) => (Number(a.attrs['ghosthunter.new_devices']) >= Number(b.attrs['ghosthunter.new_devices']) ? a : b));
    assert.ok(Number(first.attrs['ghosthunter.new_devices']) >= DEVICES, `the first sweep reports the lab's ${DEVICES} devices as new: ${JSON.stringify(first.attrs)}`);

    // Anomaly model (warm-up of one sweep here): restored at start-up, retrained after sweeps.
    const restores = spans.filter((s) => s.name === 'ghosthunter.anomaly.restore');
    assert.equal(restores.length, 1, 'one restore span at start-up');
    assert.equal(restores[0].attrs['ghosthunter.interface'], lab.scannerIf);
    assert.equal(restores[0].attrs['ghosthunter.sweeps'], 0, 'fresh storage: no history');
    const trains = spans.filter((s) => s.name === 'ghosthunter.anomaly.train');
    assert.ok(trains.length >= 1, 'train spans');
    for (const t of trains) {
      const parent = sweeps.find((s) => s.spanId === t.parentSpanId);
      assert.ok(parent, 'a train span is a child of the sweep that triggered it');
      assert.equal(t.traceId, parent.traceId);
      assert.equal(typeof t.attrs['ghosthunter.retrained'], 'boolean');
    }

    const reloads = spans.filter((s) => s.name === 'ghosthunter.reload');
    assert.equal(reloads.length, 1, 'one reload span');
    assert.equal(reloads[0].statusCode, 0);

    // Log lines written inside a span carry its ids.
    const lines = logLines(r.stderr);
    const reloaded = lines.find((l) => l.includes('msg="configuration reloaded"'));
    assert.ok(reloaded, 'reload logged');
    assert.match(reloaded, new RegExp(`trace_id=${reloads[0].traceId}( |$)`));
    assert.match(reloaded, new RegExp(`span_id=${reloads[0].spanId}( |$)`));
    const events = lines.filter((l) => l.includes('msg=event') && l.includes('event=new_device'));
    assert.ok(events.length >= DEVICES, 'new devices logged');
    const sweepTraces = new Set(sweeps.map((s) => s.traceId));
    for (const l of events) {
      const id = /trace_id=([0-9a-f]{32})/.exec(l)?.[1];
      assert.ok(id && sweepTraces.has(id), `event line carries its sweep's trace_id: ${l}`);
    }
    const finished = lines.filter((l) => l.includes('msg="sweep finished"'));
    for (const l of finished) assert.match(l, /trace_id=[0-9a-f]{32} span_id=[0-9a-f]{16}/);
    // Outside any span there is no trace_id.
    const listening = lines.find((l) => l.includes('msg=listening'));
    assert.ok(listening && !listening.includes('trace_id='), String(listening));
  });

  test('a sweep cut short by the stop ends its spans marked interrupted, not as errors', async () => {
    // 30 addresses at 10/s: a sweep takes about 3 s and the next starts 1 s after the first
    // ends, so a stop 2 s after the first sweep lands inside the second.
    const r = await runExporter({
      telemetry: `telemetry: {otlp: true, otlp_endpoint: "http://127.0.0.1:${RECEIVER_PORT}"}`,
      scan: 'scan: {interval: 1s, jitter: 0, rate: 10, timeout: 200ms, retries: 0}',
      sweeps: 1,
      beforeStop: () => sleep(2000),
    });
    assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
    assert.match(r.stderr, /msg="sweep interrupted by shutdown"/);
    assert.doesNotMatch(r.stderr, /msg="sweep failed"/);
    const spans = spansOf(r.received);
    const cut = spans.filter((s) => s.name === 'ghosthunter.sweep' && s.attrs['ghosthunter.interrupted'] === true);
    assert.equal(cut.length, 1, spans.map((s) => `${s.name} ${JSON.stringify(s.attrs)}`).join('\n'));
    assert.equal(cut[0].statusCode, 0);
    assert.equal(cut[0].attrs['ghosthunter.addresses_probed'], undefined);
    const child = spans.filter((s) => s.name === 'ghosthunter.sweep.subnet' && s.parentSpanId === cut[0].spanId);
    assert.equal(child.length, 1);
    assert.equal(child[0].attrs['ghosthunter.interrupted'], true);
    assert.equal(child[0].statusCode, 0);
    assert.deepEqual(telemetryComplaints(r.stderr), []);
  });

  test('OTLP unset: nothing sent, nothing logged about telemetry, SDK never loaded', async () => {
    const r = await runExporter({ env: { OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_BSP_SCHEDULE_DELAY: '200' }, sweeps: 2, reload: true, beforeStop: () => sleep(1500) });
    assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
    assert.deepEqual(r.received, [], 'the receiver on the default OTLP port got nothing');
    assert.doesNotMatch(r.stderr, /OpenTelemetry tracing enabled/);
    assert.deepEqual(r.sdkImports, [], 'no @opentelemetry/sdk-* module was imported');
    assert.deepEqual(telemetryComplaints(r.stderr), []);
    assert.doesNotMatch(r.stderr, /trace_id=/);
  });

  test('OTEL_EXPORTER_OTLP_ENDPOINT alone enables tracing (traces only, no metrics)', async () => {
    const r = await runExporter({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${RECEIVER_PORT}`, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_METRIC_EXPORT_INTERVAL: '1000' },
      sweeps: 2,
      beforeStop: () => sleep(1500),
    });
    assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
    assert.match(r.stderr, /msg="OpenTelemetry tracing enabled"/);
    const before = spansOf(r.receivedBeforeStop);
    assert.ok(before.some((s) => s.name === 'ghosthunter.sweep'), 'with a short batch delay, sweep spans arrive while running');
    assert.deepEqual(r.received.filter((x) => x.url !== '/v1/traces').map((x) => x.url), [], 'no /v1/metrics without telemetry.otlp_metrics');
    assert.deepEqual(telemetryComplaints(r.stderr), []);
  });

  test('OTEL_SDK_DISABLED=true wins over the config switch and the endpoint variable', async () => {
    const r = await runExporter({
      telemetry: `telemetry: {otlp: true, otlp_endpoint: "http://127.0.0.1:${RECEIVER_PORT}"}`,
      env: { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${RECEIVER_PORT}`, OTEL_BSP_SCHEDULE_DELAY: '200' },
      args: ['--otel'],
      sweeps: 2,
      reload: true,
      beforeStop: () => sleep(500),
    });
    assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
    assert.deepEqual(r.received, []);
    assert.doesNotMatch(r.stderr, /OpenTelemetry tracing enabled/);
    assert.deepEqual(r.sdkImports, []);
    assert.deepEqual(telemetryComplaints(r.stderr), []);
  });

  test('--otel flag with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf sends protobuf', async () => {
    const r = await runExporter({
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_BSP_SCHEDULE_DELAY: '200' },
      args: ['--otel'], // no endpoint anywhere: the OTLP default http://localhost:4318
      sweeps: 2,
      beforeStop: () => sleep(500),
    });
    assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
    const traces = r.received.filter((x) => x.url === '/v1/traces');
    assert.ok(traces.length > 0, r.stderr.slice(-3000));
    for (const x of traces) assert.match(x.contentType, /^application\/x-protobuf/);
    // Strings are stored verbatim in protobuf: span names and attribute keys are visible.
    const raw = Buffer.concat(traces.map((x) => Buffer.from(x.body, 'base64'))).toString('latin1');
    assert.ok(raw.includes('ghosthunter.sweep.subnet') && raw.includes('ghosthunter.addresses_probed'), 'sweep spans in the protobuf payload');
    assert.deepEqual(telemetryComplaints(r.stderr), []);
  });

  test(
    'an interface added by a reload sweeps in traces of its own, not under the reload span',
    async () => {
      const dummy = `${lab.name}x0`;
      // A veth pair that lives entirely inside the scanner namespace: ARP goes nowhere.
      for (const cmd of [
        ['ip', 'link', 'add', dummy, 'type', 'veth', 'peer', 'name', `${lab.name}x1`],
        ['ip', 'addr', 'add', '198.18.100.1/29', 'dev', dummy],
        ['ip', 'link', 'set', dummy, 'up'],
        ['ip', 'link', 'set', `${lab.name}x1`, 'up'],
      ]) {
        const r = await lab.exec(cmd);
        assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stderr}`);
      }
      try {
        const r = await runExporter({
          telemetry: `telemetry: {otlp: true, otlp_endpoint: "http://127.0.0.1:${RECEIVER_PORT}"}`,
          env: { OTEL_BSP_SCHEDULE_DELAY: '200' },
          sweeps: 1,
          reload: true,
          addInterfaces: `  - name: ${dummy}\n    cidrs: [198.18.100.0/29]`,
          beforeStop: () => sleep(4500), // two more sweeps of the new interface
        });
        assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
        const spans = spansOf(r.received);
        const reload = spans.find((s) => s.name === 'ghosthunter.reload');
        assert.ok(reload);
        const added = spans.filter((s) => s.name === 'ghosthunter.sweep' && s.attrs['ghosthunter.interface'] === dummy);
        assert.ok(added.length >= 2, `sweeps of ${dummy}: ${added.length}`);
        for (const s of added) assert.equal(s.parentSpanId, '', `sweep of ${dummy} is a root span (trace ${s.traceId}, reload trace ${reload.traceId})`);
      } finally {
        await lab.exec(['ip', 'link', 'del', dummy]);
      }
    },
  );

  test('telemetry.otlp_metrics: true is the only way to /v1/metrics', async () => {
    const r = await runExporter({
      telemetry: `telemetry: {otlp: true, otlp_metrics: true, otlp_endpoint: "http://127.0.0.1:${RECEIVER_PORT}"}`,
      env: { OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_METRIC_EXPORT_INTERVAL: '1000' },
      sweeps: 2,
      beforeStop: () => sleep(2500),
    });
    assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
    const m = r.received.filter((x) => x.url === '/v1/metrics');
    assert.ok(m.length > 0, 'metrics exported');
    assert.ok(m.some((x) => x.body.includes('ghosthunter_')), 'the prom-client metrics are exported');
  });
});
