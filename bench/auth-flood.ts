// Bench case "authflood": the exporter (dist/, TLS, basic auth at bcrypt cost 10) sweeping a lab
// every 2 s while a scraper with the right password scrapes every 250 ms; first quiet, then with
// 64 clients sending wrong passwords from one address, then from 64 addresses (beyond the
// per-address limit: the shared bcrypt queue). Reports scrape latency (p50/p99/max) and sweep
// durations per phase. Run through bench/run.ts (`npm run bench -- --cases authflood`).
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Lab } from '../src/lab/lab.js';

export interface FloodPhase {
  label: string;
  scrapeMs: number[];
  scrapeStatus: Record<string, number>;
  /** duration of each sweep that ended during the phase (s) */
  sweepS: number[];
  floodMs: number;
  badStatus: Record<string, number>;
  lagMaxS: number;
}

export interface AuthFloodResult {
  devices: number;
  phases: FloodPhase[];
}

interface HelperOutput {
  floodMs: number;
  badStatus: Record<string, number>;
  good: { status: number; ms: number; phase: string; watched?: Record<string, number> }[];
}

export interface BenchHooks {
  repo: string;
  cli: string;
  tmp: string;
  env: NodeJS.ProcessEnv;
  children: Set<ChildProcess>;
  log: (line: string) => void;
  checkInterrupted: () => void;
}

const FLOOD_MS = 20_000;
const PORT = 19_992;

export async function runAuthFloodCase(lab: Lab, h: BenchHooks): Promise<AuthFloodResult> {
  const dir = mkdtempSync(join(h.tmp, 'authflood-'));
  copyFileSync(join(h.repo, 'test/fixtures/tls/cert-a.pem'), join(dir, 'cert.pem'));
  copyFileSync(join(h.repo, 'test/fixtures/tls/key-a.pem'), join(dir, 'key.pem'));
  writeFileSync(join(dir, 'web.yml'), `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: "${bcrypt.hashSync('s3cret', 10)}"\n`);
  writeFileSync(
    join(dir, 'config.yml'),
    `interfaces:\n  - name: ${lab.scannerIf}\n    cidrs: ["${lab.cidr}"]\nscan: {interval: 2s, jitter: 0, rate: 0, timeout: 150ms, retries: 1}\nstorage: {path: ${join(dir, 'data')}}\n`,
  );
  const proc = lab.spawnInScanner(
    ['node', h.cli, `--config.file=${join(dir, 'config.yml')}`, `--web.config.file=${join(dir, 'web.yml')}`, `--web.listen-address=127.0.0.1:${PORT}`, '--log.level=warn'],
    { cwd: h.repo, env: h.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  h.children.add(proc);
  let logs = '';
  proc.stdout!.on('data', (d) => (logs += d));
  proc.stderr!.on('data', (d) => (logs += d));
  const url = `https://127.0.0.1:${PORT}/metrics`;
  const helper = join(h.repo, 'test/helpers/auth-flood.mjs');
  const run = async (label: string, flood: { clients: number; badFrom: string[] }): Promise<FloodPhase> => {
    h.checkInterrupted();
    // The scraper and the flood in processes of their own: the flood's load must not show up as
    // the scraper's own event-loop delay.
    const common = { url, user: 'prometheus', password: 's3cret', quietMs: 1000, floodMs: FLOOD_MS };
    const exec = async (o: object): Promise<HelperOutput> => {
      const r = await lab.exec(['node', helper, JSON.stringify({ ...common, ...o })], { timeoutMs: FLOOD_MS + 120_000 });
      if (r.code !== 0) throw new Error(`bench: auth-flood helper failed: ${r.stderr.slice(-500)}`);
      return JSON.parse(r.stdout) as HelperOutput;
    };
    const [out, attack] = await Promise.all([
      exec({ clients: 0, scrapeEveryMs: 250, goodFrom: '127.0.0.2', watch: ['nodejs_eventloop_lag_max_seconds', 'ghosthunter_sweeps_total', 'ghosthunter_sweep_duration_seconds'] }),
      exec({ scrapeEveryMs: 0, ...flood }),
    ]);
    const during = out.good.filter((g) => g.phase === 'flood');
    const sweeps = new Map<number, number>();
    for (const g of during) if (g.watched?.ghosthunter_sweeps_total !== undefined) sweeps.set(g.watched.ghosthunter_sweeps_total, g.watched.ghosthunter_sweep_duration_seconds);
    const scrapeStatus: Record<string, number> = {};
    for (const g of during) scrapeStatus[g.status] = (scrapeStatus[g.status] ?? 0) + 1;
    const phase: FloodPhase = {
      label,
      scrapeMs: during.filter((g) => g.status === 200).map((g) => g.ms),
      scrapeStatus,
      sweepS: [...sweeps.values()],
      floodMs: attack.floodMs,
      badStatus: attack.badStatus,
      lagMaxS: Math.max(0, ...during.map((g) => g.watched?.nodejs_eventloop_lag_max_seconds ?? 0)),
    };
    h.log(`  ${label}: ${phase.scrapeMs.length} good scrapes ${JSON.stringify(scrapeStatus)}, ${phase.sweepS.length} sweeps, wrong passwords ${JSON.stringify(attack.badStatus)}`);
    return phase;
  };
  try {
    // Up: the first sweep done and the good credentials verified (then cached).
    for (let i = 0; i < 60; i++) {
      h.checkInterrupted();
      await new Promise((r) => setTimeout(r, 1000));
      if (proc.exitCode !== null) throw new Error(`bench: exporter exited (${proc.exitCode}): ${logs.slice(-500)}`);
      const r = await lab.exec(['curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '-u', 'prometheus:s3cret', 'https://127.0.0.1:' + PORT + '/-/ready']);
      if (r.stdout === '200') break;
    }
    const attackers = Array.from({ length: 64 }, (_, i) => `127.0.1.${i + 1}`);
    return {
      devices: lab.devices().length,
      phases: [
        await run('quiet (no flood)', { clients: 0, badFrom: [] }),
        await run('64 clients, one address', { clients: 64, badFrom: ['127.0.0.9'] }),
        await run('64 clients, 64 addresses', { clients: 64, badFrom: attackers }),
      ],
    };
  } finally {
    proc.kill('SIGTERM');
  }
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN;
};

export function authFloodLines(r: AuthFloodResult): string[] {
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const quiet = r.phases[0];
  const rows = r.phases.map((p) => {
    const sent = Object.values(p.badStatus).reduce((a, b) => a + b, 0);
    return (
      `| ${p.label} | ${p.scrapeMs.length} | ${f(quantile(p.scrapeMs, 0.5))} | ${f(quantile(p.scrapeMs, 0.99))} | ${f(Math.max(...p.scrapeMs))} | ` +
      `${f(p.lagMaxS * 1000)} | ${p.sweepS.length} | ${f(quantile(p.sweepS, 0.5), 3)} / ${f(Math.max(...p.sweepS), 3)} | ${sent ? `${sent}: ${Object.entries(p.badStatus).map(([s, n]) => `${n}× ${s}`).join(', ')}` : '-'} |`
    );
  });
  const ratio = (p: FloodPhase) => quantile(p.scrapeMs, 0.99) / quantile(quiet.scrapeMs, 0.99);
  return [
    `#### Wrong-password flood (issue 16): authenticated scrapes and sweeps, quiet vs 64 flooding clients (exporter from dist/, TLS, bcrypt cost 10, ${r.devices} lab devices swept every 2 s)`,
    '',
    '| phase | good scrapes | scrape p50 ms | p99 ms | max ms | event-loop lag max ms | sweeps | sweep s (median / max) | wrong passwords sent: answers |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `- target: scrape p99 during the flood within 2× of quiet: ${r.phases.slice(1).map((p) => `${p.label} ${f(quantile(p.scrapeMs, 0.99))} ÷ ${f(quantile(quiet.scrapeMs, 0.99))} ms = ${f(ratio(p), 2)}`).join('; ')}`,
    `- Each phase lasts ${FLOOD_MS / 1000} s. The scraper (keep-alive, its own address, its own process) scrapes every 250 ms, timed request to last byte inside the lab namespace; the flood runs in another process, each of its 64 clients on one keep-alive connection sending the next wrong password as soon as the last is answered (refusals are answered after a 1 s pause). The event-loop lag is the exporter's own \`nodejs_eventloop_lag_max_seconds\` seen by the scrapes; sweeps are those that ended during the phase. Both processes share the 2 cores with the exporter.`,
    '',
  ];
}
