// docker-compose.yml and Dockerfile: the compose file validates (Debian's docker-compose,
// no Docker engine needed), the exporter runs with host networking and only NET_RAW,
// images are pinned to the versions whose configs the other tests validate, every
// mounted file exists, and the image is multi-stage and non-root with a file capability.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '../helpers/compose.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const composeConfig = () => ({ services: composeServices('docker-compose.yml') });

function version(cmd: string): string {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const m = /version (\d+\.\d+)\./.exec(`${r.stdout}${r.stderr}`);
  assert.ok(m, `${cmd} --version`);
  return m[1];
}

test('docker-compose config validates the compose file', () => {
  const cfg = composeConfig();
  assert.deepEqual(Object.keys(cfg.services).sort(), ['alertmanager', 'ghost-hunter', 'grafana', 'prometheus']);
});

test('the exporter: built here, host networking, every capability dropped but NET_RAW, no no-new-privileges', () => {
  const gh = composeConfig().services['ghost-hunter'];
  assert.ok(gh.build);
  assert.equal(gh.network_mode, 'host');
  assert.deepEqual(gh.cap_drop, ['ALL']);
  assert.deepEqual(gh.cap_add, ['NET_RAW']);
  // no_new_privs would stop the node binary's file capability from taking effect
  assert.ok(!(gh.security_opt ?? []).some((o) => o.startsWith('no-new-privileges')));
  assert.ok(gh.command?.includes('--web.listen-address=127.0.0.1:9736'));
  assert.ok(gh.command?.includes('--config.file=/etc/ghost-hunter/config.yml'));
});

test('images are pinned to the Prometheus and Alertmanager versions whose promtool/amtool validate our configs', () => {
  const s = composeConfig().services;
  for (const [name, svc] of Object.entries(s)) {
    if (svc.image && !svc.build) assert.match(svc.image, /:v?\d+\.\d+\.\d+$/, `${name} image is pinned`);
  }
  assert.equal(s.prometheus.image, `prom/prometheus:v${version('promtool')}.0`);
  assert.equal(s.alertmanager.image, `prom/alertmanager:v${version('amtool')}.0`);
  // generated dashboards use schemaVersion 42: Grafana 12.2 or later
  const m = /^grafana\/grafana:(\d+)\.(\d+)\.\d+$/.exec(s.grafana.image ?? '');
  assert.ok(m && (Number(m[1]) > 12 || (Number(m[1]) === 12 && Number(m[2]) >= 2)), s.grafana.image);
});

test('services mount the shipped configs, and every mounted repository path exists', () => {
  const s = composeConfig().services;
  const mounts = Object.fromEntries(Object.entries(s).map(([n, svc]) => [n, svc.volumes ?? []]));
  const has = (svc: string, target: string) => mounts[svc].some((v) => v.split(':')[1] === target);
  assert.ok(has('prometheus', '/etc/prometheus/prometheus.yml') && has('prometheus', '/etc/prometheus/rules'));
  assert.ok(has('alertmanager', '/etc/alertmanager/alertmanager.yml') && has('alertmanager', '/etc/alertmanager/templates'));
  assert.ok(has('alertmanager', '/etc/alertmanager/secrets'));
  assert.ok(has('grafana', '/etc/grafana/provisioning/datasources') && has('grafana', '/var/lib/grafana/dashboards/ghost-hunter'));
  for (const [svc, vols] of Object.entries(mounts)) {
    for (const v of vols) {
      const source = v.split(':')[0];
      if (!source.startsWith('/') || source.endsWith('/ghost-hunter.yml')) continue; // named volume / user's own config
      assert.ok(existsSync(source), `${svc}: ${source} does not exist`);
    }
  }
  for (const name of ['prometheus', 'alertmanager']) {
    assert.ok(s[name].command?.some((c) => c.startsWith('--web.listen-address=127.0.0.1:')), `${name} listens on loopback only`);
  }
});

test('Dockerfile: multi-stage, non-root, CAP_NET_RAW as a file capability on node, runs dist/cli.js', () => {
  const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  assert.ok((df.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage');
  assert.match(df, /^USER node$/m);
  assert.match(df, /setcap cap_net_raw\+ep/);
  assert.match(df, /^ENTRYPOINT \["node", "\/app\/dist\/cli\.js"\]$/m);
  assert.match(df, /COPY --from=build/);
  // dist/capture/packet-source.js loads ../../src/capture/native/build/Release/packet_sender.node
  assert.match(df, /^COPY --from=build \S+ \/src\/src\/capture\/native\/build\/Release\/packet_sender\.node \.\/src\/capture\/native\/build\/Release\/$/m);
  assert.match(df, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m, 'Node 24 base image');
  // Dependencies (and their native builds) come before the sources, so a source edit reuses them.
  const at = (re: RegExp) => df.search(re);
  assert.ok(at(/^COPY package\.json package-lock\.json \.\/$/m) >= 0 && at(/^COPY src\/capture\/native /m) >= 0, 'package files and the native sender copied on their own');
  assert.ok(at(/^COPY src\/capture\/native /m) < at(/^RUN npm ci /m) && at(/^RUN npm ci /m) < at(/^COPY src \.\/src$/m), 'npm ci runs before src/ is copied');
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
  for (const p of ['node_modules', '.git', 'alertmanager/secrets']) assert.match(ignore, new RegExp(`^${p.replace('.', '\\.')}$`, 'm'));
});
