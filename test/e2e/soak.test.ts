// Soak: the exporter against a lab with continuous join/leave churn, scraped every second.
// `npm test` runs a short variant; `npm run soak` (GHOSTHUNTER_SOAK=1) runs for
// GHOSTHUNTER_SOAK_SECONDS (default 600). Asserts behaviour only; prints RSS growth,
// event-loop lag and missed sweeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, cleanupStaleLabs } from '../../src/lab/lab.js';
import { scrape, startExporter, tempDir, value, waitFor, writeConfig, type RunningExporter } from '../helpers/exporter.js';

const LONG = process.env.GHOSTHUNTER_SOAK === '1';
const SECONDS = LONG ? Number(process.env.GHOSTHUNTER_SOAK_SECONDS ?? 600) : 25;
const NAME = 'grls';
const INTERVAL_S = 1;

describe(`soak: ${SECONDS} s of churn, scraped every second`, { timeout: (SECONDS + 180) * 1000 }, () => {
  let lab: Lab;
  let dir: string;
  let exporter: RunningExporter | undefined;

  before(async () => {
    assert.ok(Number.isFinite(SECONDS) && SECONDS > 0, 'GHOSTHUNTER_SOAK_SECONDS must be a positive number');
    await cleanupStaleLabs(NAME);
    lab = await Lab.up(20, { name: NAME });
    dir = tempDir('soak');
    const cfg = writeConfig(
      dir,
      `interfaces:
  - name: ${lab.scannerIf}
    cidrs: [198.18.0.0/24]
scan: {interval: ${INTERVAL_S}s, jitter: 0, timeout: 150ms, retries: 1, rate: 0}
presence: {absent_after: 2s, retention: 10s}
storage: {path: ${join(dir, 'data')}}
`,
    );
    exporter = startExporter(lab, [`--config.file=${cfg}`]);
    await waitFor('lab seen', async () => value(await scrape(lab, exporter!.port), 'ghosthunter_devices') === 21);
  });
  after(async () => {
    await exporter?.stop();
    await lab?.down();
    await cleanupStaleLabs(NAME);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('keeps sweeping, answers every scrape and tracks the lab through the churn', async () => {
    let seed = 0x50a4;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const rss: number[] = [];
    const lagP99: number[] = [];
    const lagMax: number[] = [];
    let scrapes = 0;
    let joins = 0;
    let leaves = 0;
    const first = await scrape(lab, exporter!.port);
    const sweeps0 = value(first, 'ghosthunter_sweeps_total')!;
    const errors0 = value(first, 'ghosthunter_sweep_errors_total')!;
    const t0 = performance.now();
    let durations = 0;
    for (let tick = 0; tick < SECONDS; tick++) {
      // churn: a device joins or leaves (between 10 and 30 devices; the gateway stays)
      const devs = lab.devices().filter((d) => d.ip !== lab.gatewayIp);
      if ((rand(2) === 0 && devs.length < 30) || devs.length <= 10) {
        const used = new Set(lab.devices().map((d) => d.ip));
        const free = Array.from({ length: 60 }, (_, i) => `198.18.0.${2 + i}`).filter((ip) => !used.has(ip));
        await lab.addDevice(free[rand(free.length)]);
        joins++;
      } else {
        await lab.removeDevice(devs[rand(devs.length)].ip);
        leaves++;
      }
      await new Promise((r) => setTimeout(r, 1000));
      const s = await scrape(lab, exporter!.port); // a refused scrape fails the soak
      scrapes++;
      assert.equal(exporter!.proc.exitCode, null, 'the exporter is still running');
      rss.push(value(s, 'process_resident_memory_bytes')!);
      lagP99.push(value(s, 'nodejs_eventloop_lag_p99_seconds') ?? 0);
      lagMax.push(value(s, 'nodejs_eventloop_lag_max_seconds') ?? 0);
      durations = value(s, 'ghosthunter_sweep_duration_seconds') ?? durations;
    }
    const elapsed = (performance.now() - t0) / 1000;
    // Settle: every lab device present, every removed one gone.
    const final = await waitFor('inventory matches the lab', async () => {
      const s = await scrape(lab, exporter!.port);
      const want = lab.devices();
      if (value(s, 'ghosthunter_devices') !== want.length + 1) return undefined;
      return want.every((d) => value(s, 'ghosthunter_device_present', { mac: d.mac }) === 1) ? s : undefined;
    });
    const sweeps = value(final, 'ghosthunter_sweeps_total')! - sweeps0;
    const errors = value(final, 'ghosthunter_sweep_errors_total')! - errors0;
    assert.equal(errors, 0, 'no sweep failed');
    assert.ok(sweeps >= SECONDS / 4, `sweeps went on (${sweeps} in ${elapsed.toFixed(0)} s)`);
    assert.ok(value(final, 'ghosthunter_devices_tracked')! <= 61, 'absent devices expire after the retention');
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    const half = Math.floor(rss.length / 2);
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    // Expected sweeps: one per interval plus the sweep's own duration (runs never overlap).
    const expected = Math.floor(elapsed / (INTERVAL_S + durations));
    console.log(
      `soak ${SECONDS} s: ${joins} joins, ${leaves} leaves, ${scrapes} scrapes; sweeps ${sweeps} (expected ~${expected}, missed ${Math.max(0, expected - sweeps)}), errors ${errors}; ` +
        `rss ${mib(rss[0])} -> ${mib(rss[rss.length - 1])} MiB (max ${mib(Math.max(...rss))}, 2nd-half avg - 1st-half avg ${mib(avg(rss.slice(half)) - avg(rss.slice(0, half)))} MiB); ` +
        `event-loop lag p99 avg ${(avg(lagP99) * 1000).toFixed(1)} ms, max ${(Math.max(...lagMax) * 1000).toFixed(1)} ms; ` +
        `tracked at the end ${value(final, 'ghosthunter_devices_tracked')}, present ${value(final, 'ghosthunter_devices')}`,
    );
  });
});
