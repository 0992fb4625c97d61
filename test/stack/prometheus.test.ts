// Prometheus side of the bundled stack: rules and configs pass promtool, every alert is
// unit-tested firing and not firing, carries severity/summary/description and a runbook
// link to its heading in docs/runbooks.md (that the heading exists: test/docs/links.test.ts), and
// only uses metrics the exporter documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { githubSlug } from '../helpers/markdown.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROM = join(ROOT, 'prometheus');
const RULE_FILES = ['ghost-hunter.rules.yml', 'ghost-hunter.alerts.yml'].map((f) => join(PROM, 'rules', f));
const TEST_FILES = readdirSync(join(PROM, 'tests'))
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => join(PROM, 'tests', f));
const RUNBOOK_BASE = 'https://github.com/ghost-hunter/ghost-hunter/blob/main/docs/runbooks.md#';

function run(cmd: string, args: string[], cwd = ROOT): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function rules(): Rule[] {
  return RULE_FILES.flatMap((f) =>
    (parse(readFileSync(f, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules),
  );
}
const alerts = () => rules().filter((r) => r.alert);

test('promtool check rules is clean', () => {
  const r = run('promtool', ['check', 'rules', ...RULE_FILES]);
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /WARNING|FAILED/, r.out);
});

test('promtool test rules passes for every test file', () => {
  assert.ok(TEST_FILES.length >= 2);
  for (const f of TEST_FILES) {
    const r = run('promtool', ['test', 'rules', f]);
    assert.equal(r.code, 0, `${f}\n${r.out}`);
    assert.match(r.out, /SUCCESS/);
  }
});

test('the shipped prometheus.yml and the multi-segment examples pass promtool check config', () => {
  const configs = [join(PROM, 'prometheus.yml'), ...readdirSync(join(PROM, 'examples')).filter((f) => f.endsWith('.yml')).map((f) => join(PROM, 'examples', f))];
  assert.ok(configs.length >= 4, 'prometheus.yml plus multi-segment, federation and remote-write examples');
  for (const c of configs) {
    const r = run('promtool', ['check', 'config', c]);
    assert.equal(r.code, 0, `${c}\n${r.out}`);
  }
});

test('prometheus.yml scrapes the exporter with site/segment labels, loads the rules and points at Alertmanager', () => {
  const cfg = parse(readFileSync(join(PROM, 'prometheus.yml'), 'utf8'));
  const job = cfg.scrape_configs.find((s: { job_name: string }) => s.job_name === 'ghost-hunter');
  assert.ok(job, 'job ghost-hunter (GhostHunterExporterDown matches up{job="ghost-hunter"})');
  for (const sc of job.static_configs) {
    assert.ok(sc.labels.site && sc.labels.segment, 'every exporter target has site and segment labels');
  }
  assert.ok(cfg.scrape_configs.some((s: { job_name: string }) => s.job_name === 'prometheus'), 'scrapes itself');
  assert.deepEqual(cfg.rule_files, ['rules/*.yml']);
  assert.equal(cfg.alerting.alertmanagers[0].static_configs[0].targets[0], '127.0.0.1:9093');
});

test('every target of the multi-segment example has a site and a segment label', () => {
  const dir = join(PROM, 'examples', 'targets');
  const groups = readdirSync(dir).flatMap((f) => parse(readFileSync(join(dir, f), 'utf8')) as { targets: string[]; labels: Record<string, string> }[]);
  assert.ok(groups.length >= 2);
  for (const g of groups) assert.ok(g.labels.site && g.labels.segment, JSON.stringify(g));
});

test('every alert is named GhostHunter*, has a severity, summary, description and a runbook anchor', () => {
  const list = alerts();
  const expected = [
    'GhostHunterNewUnknownDevice',
    'GhostHunterCriticalDeviceGone',
    'GhostHunterAnomalousSweep',
    'GhostHunterIPConflict',
    'GhostHunterGatewayMACChanged',
    'GhostHunterDeviceFlood',
    'GhostHunterSweepsFailing',
    'GhostHunterSweepsStale',
    'GhostHunterExporterDown',
  ];
  for (const name of expected) assert.ok(list.some((a) => a.alert === name), `missing alert ${name}`);
  for (const a of list) {
    assert.match(a.alert!, /^GhostHunter[A-Z][A-Za-z]+$/);
    assert.ok(['critical', 'warning', 'info'].includes(a.labels?.severity ?? ''), `${a.alert} severity`);
    assert.ok(a.annotations?.summary && a.annotations.description, `${a.alert} summary/description`);
    assert.equal(a.annotations?.runbook_url, RUNBOOK_BASE + githubSlug(a.alert!), `${a.alert} runbook_url`);
  }
  const sev = Object.fromEntries(list.map((a) => [a.alert, a.labels!.severity]));
  for (const name of ['GhostHunterIPConflict', 'GhostHunterGatewayMACChanged', 'GhostHunterCriticalDeviceGone', 'GhostHunterExporterDown']) {
    assert.equal(sev[name], 'critical', name);
  }
  assert.equal(sev.GhostHunterNewUnknownDevice, 'warning');
});

test('device alerts name the device: MAC, IP and vendor come from the ghosthunter_device_info join', () => {
  for (const name of ['GhostHunterNewUnknownDevice', 'GhostHunterCriticalDeviceGone']) {
    const a = alerts().find((r) => r.alert === name)!;
    assert.match(a.expr, /group_left \(ip, vendor, name/, name);
    assert.match(a.expr, /on \(site, segment, instance, interface, mac\)/, name);
    for (const label of ['mac', 'ip', 'vendor']) {
      assert.match(a.annotations!.description!, new RegExp(`\\$labels\\.${label}\\b`), `${name} description names ${label}`);
    }
  }
});

test('every join and aggregation in the rules keeps site and segment (instances and MACs repeat across sites)', () => {
  let clauses = 0;
  for (const r of rules()) {
    const text = [r.expr, ...Object.values(r.annotations ?? {})].join('\n');
    for (const m of text.matchAll(/\b(on|by) \(([^)]*)\)/g)) {
      clauses++;
      const labels = m[2].split(',').map((l) => l.trim());
      assert.ok(labels.includes('site') && labels.includes('segment'), `${r.alert ?? r.record}: ${m[0]}`);
    }
  }
  assert.ok(clauses >= 8, `${clauses} on/by clauses`);
});

test('every alert has a unit test where it fires and one where it stays quiet', () => {
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const f of TEST_FILES) {
    const doc = parse(readFileSync(f, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] };
    for (const t of doc.tests) {
      for (const c of t.alert_rule_test ?? []) {
        ((c.exp_alerts ?? []).length > 0 ? fires : quiet).add(c.alertname);
      }
    }
  }
  for (const a of alerts()) {
    assert.ok(fires.has(a.alert!), `${a.alert} has no test where it fires`);
    assert.ok(quiet.has(a.alert!), `${a.alert} has no test where it stays quiet`);
  }
});

test('rules only use metrics from the metrics reference (docs/metrics.md) or recording rules', () => {
  const reference = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const documented = new Set([...reference.matchAll(/^\| `(ghosthunter_[a-z_]+)` \|/gm)].map((m) => m[1]));
  assert.ok(documented.size > 20, 'metrics table found in docs/metrics.md');
  for (const r of rules()) {
    const text = [r.expr, ...Object.values(r.annotations ?? {})].join('\n');
    for (const m of text.matchAll(/(?<![:\w])(ghosthunter_[a-z_]+)/g)) {
      assert.ok(documented.has(m[1]), `${r.alert ?? r.record} uses ${m[1]}, not in the metrics table of docs/metrics.md`);
    }
  }
});
