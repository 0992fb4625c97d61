// Alertmanager side of the bundled stack: amtool check-config is clean, routes send
// critical and warning alerts to Slack and everything to email, secrets come from files,
// inhibitions name real alerts, and the templates show the device (name, MAC, IP,
// vendor) with runbook and dashboard links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AM = join(ROOT, 'alertmanager');
const TEMPLATES = join(AM, 'templates', '*.tmpl');

function run(cmd: string, args: string[]): { code: number | null; out: string; stdout: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** The shipped config with the templates glob pointed at the repository, so amtool parses them. */
function withTemplates<T>(fn: (configPath: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'gh-am-'));
  try {
    const text = readFileSync(join(AM, 'alertmanager.yml'), 'utf8').replace('/etc/alertmanager/templates/*.tmpl', TEMPLATES);
    const path = join(dir, 'alertmanager.yml');
    writeFileSync(path, text);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const config = () => parse(readFileSync(join(AM, 'alertmanager.yml'), 'utf8'));

function alertNames(): string[] {
  const doc = parse(readFileSync(join(ROOT, 'prometheus', 'rules', 'ghost-hunter.alerts.yml'), 'utf8'));
  return doc.groups.flatMap((g: { rules: { alert?: string }[] }) => g.rules.map((r) => r.alert).filter(Boolean));
}

test('amtool check-config is clean (templates included)', () => {
  withTemplates((path) => {
    const r = run('amtool', ['check-config', path]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
    assert.match(r.out, /1 templates/);
  });
});

test('routes: critical and warning to Slack and email, info and unlabelled to email', () => {
  const cases: [string[], string][] = [
    [['severity=critical', 'alertname=GhostHunterGatewayMACChanged'], 'slack,email'],
    [['severity=critical', 'alertname=GhostHunterExporterDown'], 'slack,email'],
    [['severity=warning', 'alertname=GhostHunterNewUnknownDevice', 'site=home'], 'slack,email'],
    [['severity=info', 'alertname=GhostHunterPacketsDropped'], 'email'],
    [['alertname=Watchdog'], 'email'],
  ];
  withTemplates((path) => {
    for (const [labels, receivers] of cases) {
      const r = run('amtool', ['config', 'routes', 'test', `--config.file=${path}`, `--verify.receivers=${receivers}`, ...labels]);
      assert.equal(r.code, 0, `${labels.join(' ')} -> expected ${receivers}\n${r.out}`);
    }
    // and a wrong expectation really fails
    const wrong = run('amtool', ['config', 'routes', 'test', `--config.file=${path}`, '--verify.receivers=email', 'severity=critical']);
    assert.notEqual(wrong.code, 0);
  });
});

test('notifications: grouped per alert and segment, resolved messages sent, secrets read from files', () => {
  const cfg = config();
  assert.deepEqual(cfg.route.group_by, ['alertname', 'site', 'segment', 'instance', 'interface']);
  assert.ok(cfg.global.slack_api_url_file && cfg.global.smtp_auth_password_file);
  const text = readFileSync(join(AM, 'alertmanager.yml'), 'utf8');
  assert.doesNotMatch(text, /^\s*(slack_api_url|api_url|smtp_auth_password|auth_password):/m, 'no inline secret');
  for (const r of cfg.receivers) {
    for (const c of [...(r.slack_configs ?? []), ...(r.email_configs ?? [])]) {
      assert.equal(c.send_resolved, true, `${r.name} send_resolved`);
    }
  }
});

test('inhibitions: exporter down silences device-gone and sweep alerts of that exporter at that site; every name exists', () => {
  const cfg = config();
  const known = new Set(alertNames());
  const down = cfg.inhibit_rules.find((r: { source_matchers: string[] }) => r.source_matchers.includes('alertname="GhostHunterExporterDown"'));
  assert.ok(down);
  assert.deepEqual(down.equal, ['site', 'segment', 'instance']);
  assert.match(down.target_matchers.join(), /GhostHunterCriticalDeviceGone/);
  for (const rule of cfg.inhibit_rules) {
    // one Alertmanager serves many sites, and 127.0.0.1:9736 is an instance at every one
    assert.deepEqual(rule.equal.slice(0, 2), ['site', 'segment'], `inhibit rule ${rule.source_matchers} is confined to its site and segment`);
    for (const m of [...rule.source_matchers, ...rule.target_matchers].join('|').matchAll(/GhostHunter[A-Za-z]+/g)) {
      assert.ok(known.has(m[0]), `inhibit rule names unknown alert ${m[0]}`);
    }
  }
});

function render(template: string, data: object, type: 'text' | 'html' = 'text'): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-tmpl-'));
  try {
    const dataPath = join(dir, 'data.json');
    writeFileSync(dataPath, JSON.stringify(data));
    const r = run('amtool', [
      'template',
      'render',
      `--template.glob=${TEMPLATES}`,
      `--template.type=${type}`,
      `--template.data=${dataPath}`,
      `--template.text={{ template "${template}" . }}`,
    ]);
    assert.equal(r.code, 0, r.out);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function notification(status: 'firing' | 'resolved', labels: Record<string, string>, annotations: Record<string, string>) {
  const common = { alertname: labels.alertname, severity: labels.severity, site: 'home', segment: 'lan', instance: 'gh:9736', interface: 'eth0' };
  return {
    receiver: 'slack',
    status,
    externalURL: 'http://127.0.0.1:9093',
    groupLabels: { alertname: labels.alertname },
    commonLabels: common,
    commonAnnotations: {},
    alerts: [
      {
        status,
        labels: { ...common, ...labels },
        annotations,
        startsAt: '2024-05-01T10:00:00Z',
        endsAt: status === 'resolved' ? '2024-05-01T11:00:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://127.0.0.1:9090/graph',
        fingerprint: '0123456789abcdef',
      },
    ],
  };
}

const newDevice = (status: 'firing' | 'resolved') =>
  notification(
    status,
    { alertname: 'GhostHunterNewUnknownDevice', severity: 'warning', mac: 'dc:a6:32:00:00:01', ip: '198.18.0.23', vendor: 'Raspberry Pi Trading Ltd', name: 'pi-kitchen' },
    {
      summary: 'New unknown device dc:a6:32:00:00:01 (198.18.0.23) on eth0',
      description: 'MAC dc:a6:32:00:00:01 joined eth0.',
      runbook_url: 'https://github.com/ghost-hunter/ghost-hunter/blob/main/docs/runbooks.md#ghosthunternewunknowndevice',
    },
  );

test('Slack and email templates show the device name, MAC, IP and vendor, the runbook and the dashboard', () => {
  const data = newDevice('firing');
  const dashboard = 'http://localhost:3000/d/ghost-hunter-presence?var-site=home&var-segment=lan&var-instance=gh%3A9736&var-interface=eth0&var-mac=dc%3Aa6%3A32%3A00%3A00%3A01';
  const outputs = {
    slack: render('ghosthunter.slack.text', data),
    emailText: render('ghosthunter.email.text', data),
    emailHtml: render('ghosthunter.email.html', data, 'html'),
  };
  for (const [name, out] of Object.entries(outputs)) {
    for (const part of ['Site: home, segment lan', 'pi-kitchen', 'dc:a6:32:00:00:01', '198.18.0.23', 'Raspberry Pi Trading Ltd', 'docs/runbooks.md#ghosthunternewunknowndevice', dashboard]) {
      assert.ok(out.includes(part), `${name} lacks ${part}:\n${out}`);
    }
  }
  assert.equal(render('ghosthunter.slack.title', data), '[FIRING:1] GhostHunterNewUnknownDevice home/lan eth0 (gh:9736)');
  assert.equal(render('ghosthunter.email.subject', data), '[FIRING:1] New unknown device dc:a6:32:00:00:01 (198.18.0.23) on eth0 at home/lan');
  assert.ok(!outputs.slack.includes('<!channel>'), 'a warning does not page');
});

test('critical alerts page the Slack channel while firing, not when resolved', () => {
  const gone = (status: 'firing' | 'resolved') =>
    notification(
      status,
      { alertname: 'GhostHunterCriticalDeviceGone', severity: 'critical', mac: '00:16:3e:00:00:10', ip: '198.18.0.1', vendor: 'Xensource, Inc.', name: 'gateway' },
      { summary: 'Critical device gateway (00:16:3e:00:00:10) is gone from eth0', description: 'gone', runbook_url: 'https://example.org/#x' },
    );
  assert.match(render('ghosthunter.slack.text', gone('firing')), /^<!channel>\n\*Critical device gateway/);
  const resolved = render('ghosthunter.slack.text', gone('resolved'));
  assert.ok(!resolved.includes('<!channel>'));
  assert.match(resolved, /:white_check_mark:/);
  assert.equal(render('ghosthunter.slack.color', gone('firing')), 'danger');
  assert.equal(render('ghosthunter.slack.color', gone('resolved')), 'good');
  assert.match(render('ghosthunter.email.subject', gone('resolved')), /^\[RESOLVED\] /);
});

test('alerts without a device link to the overview dashboard', () => {
  const data = notification(
    'firing',
    { alertname: 'GhostHunterExporterDown', severity: 'critical' },
    { summary: 'Ghost Hunter exporter gh:9736 is down', description: 'down', runbook_url: 'https://example.org/#x' },
  );
  const text = render('ghosthunter.email.text', data);
  assert.match(text, /Dashboard: http:\/\/localhost:3000\/d\/ghost-hunter-overview\?var-site=home&var-segment=lan&var-instance=gh%3A9736&var-interface=eth0\n/);
  assert.doesNotMatch(text, /Device:/);
});
