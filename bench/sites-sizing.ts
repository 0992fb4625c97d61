// Sizing of the many-site layout (docs/many-sites.md): what one site with N devices sends
// to the central store. One lab with N devices (default 1000), the exporter with its
// default settings (every device in known_devices, as in a settled network), the edge
// Prometheus with the shipped prometheus/examples/remote-write.yml and rules at their
// shipped intervals, and VictoriaMetrics with the command line of docker-compose.sites.yml,
// all inside the lab's scanner namespace. A report, never a pass/fail test.
//
//   flock /tmp/gh-lab.lock npx tsx bench/sites-sizing.ts [--devices 1000] [--minutes 3]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { cleanupStaleLabs, Lab } from '../src/lab/lab.js';
import { Processes, ROOT, exporterCommand, get, query, scrapeJob, shippedPrometheus, startPrometheus } from '../test/helpers/stack.js';

const { values: opt } = parseArgs({
  options: { devices: { type: 'string', default: '1000' }, minutes: { type: 'string', default: '3' } },
  strict: true,
});
const N = Number(opt.devices);
const MINUTES = Number(opt.minutes);
const PORT = { exporter: 19736, prometheus: 19090, store: 18428 };
const LAB = 'ghsiz';

const value = async (sock: string, expr: string): Promise<number> => {
  const r = await query(sock, expr);
  if (r.length !== 1) throw new Error(`${expr}: ${r.length} series`);
  return Number(r[0].value[1]);
};

async function main(): Promise<void> {
  await cleanupStaleLabs(LAB);
  const prefix = 32 - Math.ceil(Math.log2(N + 3));
  const lab = await Lab.up(N, { name: LAB, cidr: `198.18.0.0/${prefix}` });
  const tmp = mkdtempSync(join(tmpdir(), 'gh-sizing-'));
  const procs = new Processes();
  try {
    const ns = lab.scannerNs;
    // the exporter with its defaults; every device known
    const exporterDir = join(tmp, 'exporter');
    mkdirSync(exporterDir);
    const known = [...lab.devices().map((d, i) => ({ mac: d.mac, name: `device-${i}` })), { mac: lab.scannerMac, name: 'ghost-hunter' }];
    writeFileSync(join(exporterDir, 'config.yml'), stringify({ interfaces: [{ name: lab.scannerIf, cidrs: [lab.cidr] }], storage: { path: exporterDir }, known_devices: known }));
    procs.start(ns, 'exporter', exporterCommand(join(exporterDir, 'config.yml'), PORT.exporter));

    // the central store, as shipped
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.sites.yml'), 'utf8')) as { services: Record<string, { command: string[] }> };
    const storeArgs = compose.services['victoria-metrics'].command.map((a) =>
      a.startsWith('-storageDataPath=') ? `-storageDataPath=${join(tmp, 'store')}` : a.startsWith('-httpListenAddr=') ? `-httpListenAddr=127.0.0.1:${PORT.store}` : a,
    );
    procs.start(ns, 'victoria-metrics', ['victoria-metrics', ...storeArgs]);
    const store = await procs.socketTo(tmp, ns, PORT.store, 'store');
    await procs.waitFor('victoria-metrics ready', async () => ((await get(store, '/health')).status === 200 ? true : undefined), 30_000);

    // the edge Prometheus, as shipped but for addresses
    const prom = shippedPrometheus('examples/remote-write.yml');
    prom.rule_files = [join(ROOT, 'prometheus', 'rules', '*.yml')];
    prom.alerting.alertmanagers = [];
    prom.remote_write![0].url = `http://127.0.0.1:${PORT.store}/api/v1/write`;
    scrapeJob(prom, 'ghost-hunter').static_configs[0].targets = [`127.0.0.1:${PORT.exporter}`];
    scrapeJob(prom, 'prometheus').static_configs[0].targets = [`127.0.0.1:${PORT.prometheus}`];
    const edge = await startPrometheus(procs, ns, 'prometheus', join(tmp, 'prometheus'), PORT.prometheus, prom);

    await procs.waitFor('every device swept and scraped', async () => ((await value(edge, 'sum(ghosthunter_devices)')) === N + 1 ? true : undefined), 180_000, 2_000);
    const start = Date.now();
    console.error(`${N} devices present; measuring for ${MINUTES} min`);
    await new Promise((r) => setTimeout(r, MINUTES * 60_000));
    const window = `${Math.round((Date.now() - start) / 1000)}s`;

    const scraped = await value(edge, 'scrape_samples_post_metric_relabeling{job="ghost-hunter"}');
    // the exporter lists its own host as a device too (without a round-trip time): counted as per-site, not per-device
    const devices = `mac!="",mac!="${lab.scannerMac}",__name__!~"ALERTS|ghosthunter_gateway_info"`;
    const perDevice = await query(edge, `count by (__name__) ({job="ghost-hunter",${devices}})`);
    const sent = await value(edge, `sum(increase(prometheus_remote_storage_samples_total[${window}]))`);
    const stored = await value(store, 'count({site="home"})');
    const storedDevice = await value(store, `count({site="home",${devices}})`);
    // the store's own counters (VictoriaMetrics does not scrape itself unless told to)
    const own = (await get(store, '/metrics')).body;
    const sum = (re: RegExp) => [...own.matchAll(re)].reduce((acc, m) => acc + Number(m[1]), 0);
    const rows = sum(/^vm_rows\{type="storage\/[^"]*"\} (\S+)$/gm);
    const bytes = sum(/^vm_data_size_bytes\{type="storage\/[^"]*"\} (\S+)$/gm);
    const report = {
      devices: N,
      window,
      scrapedSeriesPerTarget: scraped,
      scrapedSeriesPerDevice: Object.fromEntries(perDevice.map((s) => [s.metric.__name__, Number(s.value[1]) / N])),
      seriesStoredCentrally: stored,
      seriesStoredCentrallyPerDevice: storedDevice / N,
      seriesStoredCentrallyPerSite: stored - storedDevice,
      samplesSentPerSecond: sent / ((Date.now() - start) / 1000),
      samplesSentPerSecondPer1000Devices: (sent / ((Date.now() - start) / 1000)) * (1000 / N),
      storeRows: rows,
      storeBytesPerSample: bytes / rows,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await procs.stopAll();
    await lab.down();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
