// End to end, the bundled stack with real Debian `prometheus` and `prometheus-alertmanager`:
//
//   lab A (scanner netns)                                  lab B (scanner netns)
//   exporter A :19736  <- scrape -  prometheus :19090      exporter B :19736
//   relay :29736 ---------- unix socket ----------------->  relay -> :19736
//   alertmanager :19093 -> fake Slack :18080 (HTTP), fake SMTP :12525
//   relay unix socket -> :19090  (the test queries Prometheus through it)
//
// Every server listens on 127.0.0.1 inside a lab's scanner namespace; the namespaces are
// joined only by unix sockets in a temporary directory (test/helpers/stack.ts). The
// shipped configs are used with only addresses, receiver endpoints, secret-file paths and
// timing (scrape and evaluation every 2 s, rule-group intervals dropped, group_wait 1 s)
// overridden, and smtp_require_tls off because the SMTP stand-in offers no STARTTLS.
//
// Checks: a new unknown device joins lab A -> GhostHunterNewUnknownDevice fires in
// Prometheus with the device's MAC and IP -> Alertmanager delivers it to Slack and
// to SMTP, both naming MAC and IP. Then every PromQL query of every dashboard returns
// data, for both segments, and only for the chosen one when the site variable is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, cleanupStaleLabs } from '../../src/lab/lab.js';
import {
  Processes,
  SMTP_PASSWORD,
  alerts,
  dashboardFailures,
  exporterCommand,
  exporterConfig,
  mails,
  query,
  scrapeJob,
  shippedPrometheus,
  shippedRules,
  slackMessages,
  startAlertmanager,
  startPrometheus,
} from '../helpers/stack.js';

const PORT = { exporter: 19736, relayB: 29736, prometheus: 19090, alertmanager: 19093, slack: 18080, smtp: 12525 };
const SITES = { a: 'lab-a', b: 'lab-b' };

// ---------- the test ----------

test(
  'stack end to end: new device -> Prometheus alert -> Slack and email; every dashboard query returns data for both segments',
  { timeout: 300_000 },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'gh-stack-'));
    const procs = new Processes();
    let labA: Lab | undefined;
    let labB: Lab | undefined;
    try {
      for (const name of ['ghsta', 'ghstb']) await cleanupStaleLabs(name); // left by a crashed earlier run
      labA = await Lab.up(3, { name: 'ghsta', cidr: '198.18.10.0/24' });
      labB = await Lab.up(2, { name: 'ghstb', cidr: '198.18.20.0/24' });
      const nsA = labA.scannerNs;
      const nsB = labB.scannerNs;

      // --- the exporters: lab A knows its devices (the gateway is critical), lab B knows none
      const knownA = labA.devices().map((d, i) =>
        i === 0 ? { mac: d.mac, name: 'gateway', class: 'router', critical: true } : { mac: d.mac, name: `known-${i}` },
      );
      const exporterA = procs.start(nsA, 'exporter A', exporterCommand(exporterConfig(labA, join(tmp, 'a'), knownA), PORT.exporter));
      const exporterB = procs.start(nsB, 'exporter B', exporterCommand(exporterConfig(labB, join(tmp, 'b'), []), PORT.exporter));

      // --- Prometheus in lab A scrapes exporter B through a unix socket
      await procs.tunnel(tmp, 'exporter-b', { ns: nsA, port: PORT.relayB }, { ns: nsB, port: PORT.exporter });

      // --- Alertmanager with the shipped config and templates, and the receivers
      const { slack, smtp } = await startAlertmanager(procs, nsA, join(tmp, 'alertmanager'), PORT);

      // --- Prometheus with the shipped config and rules
      const prom = shippedPrometheus('prometheus.yml');
      prom.global.scrape_interval = '2s';
      prom.global.evaluation_interval = '2s';
      prom.rule_files = [shippedRules(join(tmp, 'rules'))];
      prom.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${PORT.alertmanager}`];
      scrapeJob(prom, 'ghost-hunter').static_configs = [
        { targets: [`127.0.0.1:${PORT.exporter}`], labels: { site: SITES.a, segment: 'seg-a' } },
        { targets: [`127.0.0.1:${PORT.relayB}`], labels: { site: SITES.b, segment: 'seg-b' } },
      ];
      scrapeJob(prom, 'prometheus').static_configs[0].targets = [`127.0.0.1:${PORT.prometheus}`];
      scrapeJob(prom, 'alertmanager').static_configs[0].targets = [`127.0.0.1:${PORT.alertmanager}`];
      const promSock = await startPrometheus(procs, nsA, 'prometheus', join(tmp, 'prometheus'), PORT.prometheus, prom);

      // --- both exporters scraped, both labs swept
      await procs.waitFor(
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
      const alert = await procs.waitFor(
        `GhostHunterNewUnknownDevice for ${dev.mac}`,
        async () => (await alerts(promSock)).find((a) => a.labels.alertname === 'GhostHunterNewUnknownDevice' && a.labels.mac === dev.mac && a.state === 'firing'),
        60_000,
      );
      assert.equal(alert.labels.ip, dev.ip);
      assert.equal(alert.labels.site, SITES.a);
      assert.equal(alert.labels.severity, 'warning');
      assert.ok(alert.annotations.description.includes(dev.mac) && alert.annotations.description.includes(dev.ip));
      // the known devices of lab A do not alert
      const known = new Set(knownA.map((k) => k.mac));
      assert.ok(!(await alerts(promSock)).some((a) => a.labels.alertname === 'GhostHunterNewUnknownDevice' && known.has(a.labels.mac)));

      // --- Alertmanager delivers it to Slack and by email, naming MAC and IP
      const slackMsg = await procs.waitFor(
        'a Slack message naming the new device',
        () => slackMessages(slack).find((m) => m.body.includes(dev.mac) && m.body.includes(dev.ip)),
        60_000,
      );
      assert.equal(slackMsg.url, '/services/T000/B000/XXXX');
      assert.equal(slackMsg.payload.channel, '#ghost-hunter');
      assert.match(slackMsg.payload.attachments[0].title, /GhostHunterNewUnknownDevice/);
      assert.ok(slackMsg.payload.attachments[0].text.includes(`MAC ${dev.mac} IP ${dev.ip}`), slackMsg.payload.attachments[0].text);

      const mail = await procs.waitFor('an email naming the new device', () => mails(smtp).find((m) => m.text.includes(dev.mac) && m.text.includes(dev.ip)), 60_000);
      assert.ok(mail.to.some((t) => t.includes('lan-admins@example.org')));
      assert.ok(mail.auth.includes(SMTP_PASSWORD), 'SMTP password read from the secret file');
      assert.match(mail.text, /Subject: \[FIRING:\d+\] New unknown device/);

      // --- every dashboard query returns data, for both segments, and for one when $site is set
      await procs.waitFor(
        'the anomaly model scoring sweeps on both segments',
        async () => ((await query(promSock, 'ghosthunter_anomaly_score and on (instance, interface) ghosthunter_anomaly_threshold')).length === 2 ? true : undefined),
        60_000,
      );
      const failures = await dashboardFailures(promSock, { site: [SITES.a, SITES.b] });
      assert.deepEqual(failures, [], failures.join('\n'));
    } finally {
      await procs.stopAll();
      await labA?.down();
      await labB?.down();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
