// The many-site layout without running it (test/e2e/sites.test.ts runs it): the edge
// example's remote_write filter ships every series the dashboards read and nothing the
// centre does not need, the edge's site label is consistent, docker-compose.sites.yml
// validates with its edge and central profiles, the central datasource points at the
// store, and the configs quoted in docs/many-sites.md are the shipped files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { composeServices } from '../helpers/compose.js';
import { shippedDashboardQueries, shippedPrometheus, ROOT } from '../helpers/stack.js';

const edge = () => shippedPrometheus('examples/remote-write.yml');

const compose = () => composeServices('docker-compose.sites.yml');

/** Whether the edge's write_relabel_configs keep a series of `name` scraped by `job` ('' for none). */
function shipped(job: string, name: string): boolean {
  const relabel = edge().remote_write![0].write_relabel_configs!;
  return relabel.every((r) => {
    assert.equal(r.action, 'keep');
    assert.deepEqual(r.source_labels, ['job', '__name__']);
    return new RegExp(`^(?:${r.regex})$`).test(`${job};${name}`);
  });
}

function recordingRules(): string[] {
  const doc = parse(readFileSync(join(ROOT, 'prometheus', 'rules', 'ghost-hunter.rules.yml'), 'utf8')) as { groups: { rules: { record: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => r.record));
}

test('remote_write ships every metric a dashboard reads, the recording rules and the alert state', () => {
  const recorded = new Set(recordingRules());
  const names = new Set(shippedDashboardQueries().flatMap((q) => [...q.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1])));
  assert.ok(names.has('process_resident_memory_bytes') && names.has('process_cpu_seconds_total') && names.has('up'));
  for (const name of names) {
    // recording rules that aggregate drop the job label
    assert.ok(shipped('ghost-hunter', name) && (!recorded.has(name) || shipped('', name)), `${name} is not shipped to the centre`);
  }
  for (const name of recorded) assert.ok(shipped('', name) && shipped('ghost-hunter', name), name);
  assert.ok(shipped('', 'ALERTS') && shipped('ghost-hunter', 'ALERTS'));
});

test('remote_write leaves what no dashboard reads at the site', () => {
  for (const [job, name] of [
    ['ghost-hunter', 'nodejs_heap_size_used_bytes'],
    ['ghost-hunter', 'scrape_duration_seconds'],
    ['prometheus', 'up'],
    ['prometheus', 'process_resident_memory_bytes'],
    ['prometheus', 'prometheus_tsdb_head_series'],
    ['', 'ALERTS_FOR_STATE'],
  ]) {
    assert.ok(!shipped(job, name), `${job};${name} is shipped`);
  }
});

test('the edge: its site external label is the site of its targets, rules and Alertmanager as shipped', () => {
  const cfg = edge();
  const site = cfg.global.external_labels?.site;
  assert.ok(site);
  const job = cfg.scrape_configs.find((s) => s.job_name === 'ghost-hunter')!;
  for (const sc of job.static_configs) {
    assert.equal(sc.labels?.site, site);
    assert.ok(sc.labels?.segment);
  }
  assert.deepEqual(cfg.rule_files, ['../rules/*.yml']);
  assert.equal(cfg.remote_write!.length, 1);
  assert.match(cfg.remote_write![0].url, /\/api\/v1\/write$/);
  assert.equal(cfg.alerting.alertmanagers[0].static_configs[0].targets.length, 1);
});

test('docker-compose.sites.yml: an edge and a central profile, pinned images, mounted files that exist', () => {
  const s = compose();
  const profile = (p: string) => Object.keys(s).filter((n) => s[n].profiles?.includes(p)).sort();
  assert.deepEqual(profile('edge'), ['ghost-hunter', 'prometheus-edge']);
  assert.deepEqual(profile('central'), ['alertmanager', 'grafana', 'victoria-metrics']);
  for (const [name, svc] of Object.entries(s)) {
    if (svc.image && !svc.build) assert.match(svc.image, /:v?\d+\.\d+\.\d+$/, `${name} image is pinned`);
    for (const v of svc.volumes ?? []) {
      const source = v.split(':')[0];
      if (!source.startsWith('/') || source.endsWith('/ghost-hunter.yml')) continue; // named volume / user's own config
      assert.ok(existsSync(source), `${name}: ${source} does not exist`);
    }
  }
  // the images are those of docker-compose.yml, VictoriaMetrics the version the e2e test runs
  const single = composeServices('docker-compose.yml');
  assert.equal(s['prometheus-edge'].image, single.prometheus.image);
  assert.equal(s.alertmanager.image, single.alertmanager.image);
  assert.equal(s.grafana.image, single.grafana.image);
  const debian = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'victoria-metrics'], { encoding: 'utf8' });
  assert.equal(debian.status, 0, 'the victoria-metrics Debian package is installed');
  assert.equal(s['victoria-metrics'].image, `victoriametrics/victoria-metrics:v${/^\d+\.\d+\.\d+/.exec(debian.stdout)![0]}`);
});

test('docker-compose.sites.yml: the edge Prometheus finds the shipped rules next to its config', () => {
  const prom = compose()['prometheus-edge'];
  const target = (source: string) => prom.volumes!.map((v) => v.split(':')).find(([src]) => src === join(ROOT, source))?.[1];
  const configPath = target('prometheus/examples/remote-write.yml');
  assert.ok(configPath && prom.command!.includes(`--config.file=${configPath}`));
  const rules = posix.join(posix.dirname(configPath), edge().rule_files[0]);
  assert.equal(posix.dirname(rules), target('prometheus/rules'));
});

test('the central Grafana datasource reads the store on its port, at the edges scrape interval, with the dashboards uid', () => {
  const ds = (parse(readFileSync(join(ROOT, 'grafana', 'provisioning', 'datasources-central', 'victoria-metrics.yml'), 'utf8')) as {
    datasources: { uid: string; type: string; url: string; jsonData: { timeInterval: string } }[];
  }).datasources;
  assert.equal(ds.length, 1);
  assert.equal(ds[0].uid, 'prometheus');
  assert.equal(ds[0].type, 'prometheus');
  const listen = compose()['victoria-metrics'].command!.find((c) => c.startsWith('-httpListenAddr='))!;
  assert.equal(new URL(ds[0].url).port, listen.split(':').pop());
  assert.equal(ds[0].jsonData.timeInterval, edge().global.scrape_interval);
});

test('docs/many-sites.md quotes the shipped configs exactly', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'many-sites.md'), 'utf8');
  const quotes = [...doc.matchAll(/<!-- (file|excerpt): (\S+) -->\n```\w*\n([\s\S]*?)```/g)];
  assert.ok(quotes.length >= 3, `${quotes.length} quoted configs`);
  for (const [, kind, path, text] of quotes) {
    const file = readFileSync(join(ROOT, path), 'utf8');
    if (kind === 'file') assert.equal(text, file, `${path} quoted whole`);
    else assert.ok(file.includes(text), `${path} contains the quoted excerpt:\n${text}`);
  }
});
