// Grafana side of the bundled stack: the committed dashboards are exactly what
// grafana/src builds (not stale), every panel query parses as PromQL (promtool),
// only uses documented metrics and filters by the site/instance/interface variables,
// and the provisioning files point at the datasource and folder the dashboards expect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboards, renderDashboard } from '../../grafana/src/dashboards.js';
import { dashboardQueries, expandVariables } from '../../grafana/src/queries.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, 'grafana', 'dashboards');

function committed(): Record<string, Dashboard> {
  return Object.fromEntries(
    readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard]),
  );
}

test('committed dashboards are up to date with grafana/src (run `npm run dashboards`)', () => {
  const built = buildDashboards();
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(files, Object.keys(built).sort(), 'one JSON file per generated dashboard, no others');
  for (const [file, dash] of Object.entries(built)) {
    assert.equal(readFileSync(join(DIR, file), 'utf8'), renderDashboard(dash), `${file} is stale: run npm run dashboards`);
  }
});

test('the five dashboards exist with stable uids, the segment variables and the datasource variable', () => {
  const dashes = committed();
  const uids = Object.values(dashes).map((d) => d.uid).sort();
  assert.deepEqual(uids, ['ghost-hunter-exporter', 'ghost-hunter-inventory', 'ghost-hunter-overview', 'ghost-hunter-presence', 'ghost-hunter-security']);
  for (const [file, d] of Object.entries(dashes)) {
    const names = (d.templating?.list ?? []).map((v) => v.name);
    for (const v of ['datasource', 'site', 'segment', 'instance', 'interface']) assert.ok(names.includes(v), `${file} lacks variable ${v}`);
    for (const p of d.panels ?? []) {
      if (p.type === 'row') continue;
      assert.deepEqual((p as { datasource?: unknown }).datasource ?? { type: 'prometheus', uid: '${datasource}' }, { type: 'prometheus', uid: '${datasource}' });
      for (const t of (p as { targets?: { datasource?: unknown }[] }).targets ?? []) {
        assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${datasource}' }, `${file} / ${p.title}`);
      }
    }
  }
  // the alert templates link to these
  const presence = Object.values(dashes).find((d) => d.uid === 'ghost-hunter-presence')!;
  assert.ok((presence.templating?.list ?? []).some((v) => v.name === 'mac'));
});

test('panel types: stat, state timeline, time series and table are all used', () => {
  const types = new Set(Object.values(committed()).flatMap((d) => (d.panels ?? []).map((p) => p.type)));
  for (const t of ['stat', 'state-timeline', 'timeseries', 'table']) assert.ok(types.has(t), t);
});

test('every panel query filters by site, segment and instance, so one Grafana shows every segment separately', () => {
  for (const [file, d] of Object.entries(committed())) {
    for (const q of dashboardQueries(file, d)) {
      if (q.panel.startsWith('variable ')) continue;
      assert.match(q.expr, /site=~"\$site",segment=~"\$segment",instance=~"\$instance"/, `${file} / ${q.panel} / ${q.refId}`);
    }
  }
});

test('every join and aggregation in the dashboards keeps site and segment (instances and MACs repeat across sites)', () => {
  for (const [file, d] of Object.entries(committed())) {
    for (const q of dashboardQueries(file, d)) {
      if (q.panel.startsWith('variable ')) continue;
      for (const m of q.expr.matchAll(/\b(on|by) \(([^)]*)\)/g)) {
        const labels = m[2].split(',').map((l) => l.trim());
        assert.ok(labels.includes('site') && labels.includes('segment'), `${file} / ${q.panel}: ${m[0]}`);
      }
    }
  }
});

test('every dashboard query parses as PromQL (promtool check rules)', () => {
  const queries = Object.entries(committed()).flatMap(([f, d]) => dashboardQueries(f, d));
  assert.ok(queries.length > 30, `${queries.length} queries`);
  const dir = mkdtempSync(join(tmpdir(), 'gh-dash-'));
  try {
    const rules = queries.map((q, i) => ({ record: `dashboard_query_${i}`, expr: expandVariables(q.expr) }));
    const path = join(dir, 'queries.yml');
    writeFileSync(path, stringify({ groups: [{ name: 'dashboards', rules }] }));
    const r = spawnSync('promtool', ['check', 'rules', path], { encoding: 'utf8', timeout: 60_000 });
    const out = `${r.stdout}${r.stderr}`;
    // name the failing query, not only its index
    const bad = [...out.matchAll(/dashboard_query_(\d+)/g)].map((m) => queries[Number(m[1])]);
    assert.equal(r.status, 0, `${out}\n${JSON.stringify(bad, null, 2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dashboards only use metrics from the metrics reference (docs/metrics.md) or the recording rules', () => {
  const reference = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const documented = new Set([...reference.matchAll(/^\| `(ghosthunter_[a-z_]+)` \|/gm)].map((m) => m[1]));
  const recorded = new Set(
    (parse(readFileSync(join(ROOT, 'prometheus', 'rules', 'ghost-hunter.rules.yml'), 'utf8')).groups as { rules: { record: string }[] }[]).flatMap((g) =>
      g.rules.map((r) => r.record),
    ),
  );
  for (const [file, d] of Object.entries(committed())) {
    for (const q of dashboardQueries(file, d)) {
      for (const m of q.expr.matchAll(/[a-z_:]*ghosthunter_[a-z_:0-9]+/g)) {
        assert.ok(documented.has(m[0]) || recorded.has(m[0]), `${file} / ${q.panel}: ${m[0]} is neither documented nor recorded`);
      }
    }
  }
});

test('provisioning: the Prometheus datasource (uid prometheus) and the dashboards folder', () => {
  const ds = parse(readFileSync(join(ROOT, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'));
  assert.equal(ds.apiVersion, 1);
  const prom = ds.datasources[0];
  assert.equal(prom.type, 'prometheus');
  assert.equal(prom.uid, 'prometheus');
  assert.equal(prom.url, 'http://127.0.0.1:9090');
  const promCfg = parse(readFileSync(join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8'));
  assert.equal(prom.jsonData.timeInterval, promCfg.global.scrape_interval, 'timeInterval = scrape_interval');
  for (const d of Object.values(committed())) {
    const v = (d.templating?.list ?? []).find((x) => x.name === 'datasource');
    assert.equal((v?.current as { value?: string } | undefined)?.value, 'prometheus');
  }
  const dash = parse(readFileSync(join(ROOT, 'grafana', 'provisioning', 'dashboards', 'ghost-hunter.yml'), 'utf8'));
  assert.equal(dash.providers[0].type, 'file');
  assert.equal(dash.providers[0].options.path, '/var/lib/grafana/dashboards/ghost-hunter');
});
