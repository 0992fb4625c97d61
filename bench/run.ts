// `npm run bench`: side-by-side performance report of our one-shot sweep, arp-scan and
// `nmap -sn -PR -n` on the same network-namespace labs (src/lab/lab.ts), plus the exporter's
// /metrics cost and the live page (in headless Chromium) with 10 000 tracked devices. A report,
// never a pass/fail test.
//
//   npm run bench                  all cases (~8 min on 2 cores)
//   npm run bench -- --cases page  the live page with 10 000 devices in headless Chromium
//   npm run bench -- --cases authflood   scrapes and sweeps during a wrong-password flood (bench/auth-flood.ts)
//   npm run bench -- --cases 24,22 --reps 3
//   npm run bench -- --full        also the peers' and our defaults on the /16 (adds ~6 min)
//   npm run bench -- --no-write    print only, leave bench/RESULTS.md alone
//
// Safety: every packet is sent inside a lab's scanner namespace (198.18.0.0/16); labs are
// named gbn*, stale ones are removed first, and every lab is torn down on error and Ctrl-C.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanupStaleLabs, Lab, type LabDevice } from '../src/lab/lab.js';
import { expandTargets } from '../src/net/targets.js';
import { median as medianOf } from '../src/anomaly/quantile.js';
import { intToIpv4 } from '../src/net/ipv4.js';
import { authFloodLines, runAuthFloodCase, type AuthFloodResult } from './auth-flood.js';
import { summariseProfile, type ProfileSummary } from './cpu-profile.js';
import { measurePage, type PageResult } from './page.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'dist/cli.js');
const RUSAGE = join(REPO, 'bench/rusage.py');
const RESULTS = join(REPO, 'bench/RESULTS.md');
const LAB_PREFIX = 'gbn';

// ---------------------------------------------------------------- options

const { values: opt } = parseArgs({
  options: {
    cases: { type: 'string', default: '24,22,16,metrics,page,authflood' },
    reps: { type: 'string' },
    full: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'metrics-devices': { type: 'string', default: '10000' },
  },
  strict: true,
});
const selected = new Set(opt.cases!.split(','));

// ---------------------------------------------------------------- interruption

let interrupted = false;
const children = new Set<ChildProcess>();
function onSignal(sig: NodeJS.Signals): void {
  if (interrupted) process.exit(130); // second Ctrl-C: the lab module's exit hook still deletes the namespaces
  interrupted = true;
  process.stderr.write(`\nbench: ${sig}, tearing the labs down...\n`);
  for (const c of children) c.kill('SIGKILL');
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

async function withBenchLab<T>(count: number, name: string, cidr: string, spread: boolean, fn: (lab: Lab) => Promise<T>): Promise<T> {
  checkInterrupted();
  const t0 = performance.now();
  const lab = await Lab.up(count, { name, cidr, spread });
  log(`  lab ${name}: ${count} devices in ${cidr}${spread ? ' (spread)' : ''} up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  try {
    return await fn(lab);
  } finally {
    const t1 = performance.now();
    await lab.down();
    log(`  lab ${name} down in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }
}

function log(line: string): void {
  process.stderr.write(line + '\n');
}

// ---------------------------------------------------------------- running one tool

interface Usage {
  wall_s: number;
  user_s: number;
  sys_s: number;
  maxrss_kb: number;
  tx_packets: number;
  rx_packets: number;
  code: number;
}

interface Run extends Usage {
  tool: string;
  found: number;
  falseDevices: number;
  addresses: number;
  stdout: string;
}

interface Variant {
  id: string;
  label: string;
  ours: boolean;
  /** argv run inside the scanner namespace */
  argv: (lab: Lab, c: Case) => string[];
  parse: (stdout: string) => { ip: string; mac: string }[];
  addresses: (c: Case) => number;
  /** only in this run */
  when?: (c: Case) => boolean;
  /** at most this many repetitions in this case (slow peers on the /16) */
  maxReps?: (c: Case) => number;
}

interface Case {
  id: string;
  title: string;
  count: number;
  cidr: string;
  spread: boolean;
  reps: number;
  targetsFile: string; // our exact target list, for nmap -iL
  ourAddresses: number;
}

const tmp = mkdtempSync(join(tmpdir(), 'gh-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

async function runMeasured(lab: Lab, argv: string[], timeoutMs: number): Promise<Usage & { stdout: string; stderr: string }> {
  checkInterrupted();
  const out = join(tmp, 'usage.json');
  rmSync(out, { force: true });
  const child = lab.spawnInScanner(['/usr/bin/python3', RUSAGE, out, lab.scannerIf, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: benchEnv,
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise<void>((res) => child.once('close', () => res()));
  clearTimeout(timer);
  children.delete(child);
  checkInterrupted();
  if (!existsSync(out)) throw new Error(`bench: ${argv.join(' ')}: no usage report (${stderr.trim().slice(0, 300)})`);
  const usage = JSON.parse(readFileSync(out, 'utf8')) as Usage;
  if (usage.code !== 0) throw new Error(`bench: ${argv.join(' ')} exited with ${usage.code}: ${stderr.trim().slice(0, 300)}`);
  return { ...usage, stdout, stderr };
}

// Node reads NODE_EXTRA_CA_CERTS (set on this machine) at start-up: ~0.1 s CPU that no user of a
// CLI sweep pays. The bench runs every tool with the same environment minus that variable.
const benchEnv = { ...process.env };
delete benchEnv.NODE_EXTRA_CA_CERTS;

// ---------------------------------------------------------------- parsers

const IP_MAC = /^(\d+\.\d+\.\d+\.\d+)\s+([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\b/;

function parseOurs(stdout: string): { ip: string; mac: string }[] {
  const j = JSON.parse(stdout) as { devices: { ip: string; mac: string; self: boolean }[] };
  return j.devices.filter((d) => !d.self).map((d) => ({ ip: d.ip, mac: d.mac.toLowerCase() }));
}

function parseArpScan(stdout: string): { ip: string; mac: string }[] {
  const out: { ip: string; mac: string }[] = [];
  for (const line of stdout.split('\n')) {
    const m = IP_MAC.exec(line);
    if (m) out.push({ ip: m[1], mac: m[2].toLowerCase() });
  }
  return out;
}

function parseNmap(stdout: string): { ip: string; mac: string }[] {
  const out: { ip: string; mac: string }[] = [];
  let ip: string | null = null;
  for (const line of stdout.split('\n')) {
    const r = /^Nmap scan report for (\S+)/.exec(line);
    if (r) {
      ip = r[1];
      continue;
    }
    const m = /^MAC Address: ([0-9A-Fa-f:]{17})/.exec(line);
    if (m && ip) {
      out.push({ ip, mac: m[1].toLowerCase() });
      ip = null;
    }
  }
  return out;
}

// ---------------------------------------------------------------- variants

/** Our fast path: as fast as the host sends, short timeout (arp-scan's --timeout equivalent). */
export const OURS_FAST_ARGS = ['--rate', '0', '--timeout', '50', '--retries', '1'];

const cidrSize = (c: Case): number => 2 ** (32 - Number(c.cidr.split('/')[1]));
const slow = (c: Case): boolean => c.id !== '16' || opt.full!;

const VARIANTS: Variant[] = [
  {
    id: 'ours-fast',
    label: `ours ${OURS_FAST_ARGS.join(' ')}`,
    ours: true,
    argv: (lab, c) => ['node', CLI, 'sweep', '-i', lab.scannerIf, '--cidr', c.cidr, ...OURS_FAST_ARGS, '--format', 'json'],
    parse: parseOurs,
    addresses: (c) => c.ourAddresses,
  },
  {
    id: 'ours-1try',
    label: `ours ${OURS_FAST_ARGS.slice(0, 4).join(' ')} --retries 0 (single attempt)`,
    ours: true,
    argv: (lab, c) => ['node', CLI, 'sweep', '-i', lab.scannerIf, '--cidr', c.cidr, ...OURS_FAST_ARGS.slice(0, 4), '--retries', '0', '--format', 'json'],
    parse: parseOurs,
    addresses: (c) => c.ourAddresses,
  },
  {
    id: 'ours-default',
    label: 'ours (defaults: 400 pps, 2 retries, 500 ms)',
    ours: true,
    argv: (lab, c) => ['node', CLI, 'sweep', '-i', lab.scannerIf, '--cidr', c.cidr, '--format', 'json'],
    parse: parseOurs,
    addresses: (c) => c.ourAddresses,
    when: slow,
  },
  {
    id: 'arp-scan-default',
    label: 'arp-scan (defaults: 256 kbit/s, 2 tries, 500 ms)',
    ours: false,
    argv: (lab, c) => ['arp-scan', '-I', lab.scannerIf, '-x', c.cidr],
    parse: parseArpScan,
    addresses: cidrSize,
    when: slow,
  },
  {
    id: 'arp-scan-10M',
    label: 'arp-scan --bandwidth=10M',
    ours: false,
    argv: (lab, c) => ['arp-scan', '-I', lab.scannerIf, '-x', '--bandwidth=10M', c.cidr],
    parse: parseArpScan,
    addresses: cidrSize,
  },
  {
    id: 'arp-scan-fast',
    // 1000M: arp-scan then sends as fast as its send() loop goes; at 100M it paces (0.43 s on the /16)
    label: 'arp-scan --bandwidth=1000M --timeout=50',
    ours: false,
    argv: (lab, c) => ['arp-scan', '-I', lab.scannerIf, '-x', '--bandwidth=1000M', '--timeout=50', c.cidr],
    parse: parseArpScan,
    addresses: cidrSize,
  },
  {
    id: 'arp-scan-1try',
    label: 'arp-scan --bandwidth=1000M --timeout=50 --retry=1 (single attempt; also the lab check)',
    ours: false,
    argv: (lab, c) => ['arp-scan', '-I', lab.scannerIf, '-x', '--bandwidth=1000M', '--timeout=50', '--retry=1', c.cidr],
    parse: parseArpScan,
    addresses: cidrSize,
  },
  {
    id: 'arp-scan-1try-q',
    // -q prints IP and MAC only: arp-scan then skips reading its vendor files (~0.09 s of CPU)
    label: 'arp-scan --bandwidth=1000M --timeout=50 --retry=1 -q (single attempt, no vendor names)',
    ours: false,
    argv: (lab, c) => ['arp-scan', '-I', lab.scannerIf, '-x', '-q', '--bandwidth=1000M', '--timeout=50', '--retry=1', c.cidr],
    parse: parseArpScan,
    addresses: cidrSize,
  },
  {
    id: 'nmap-T5',
    label: 'nmap -sn -PR -n -T5 <cidr>',
    ours: false,
    argv: (_lab, c) => ['nmap', '-sn', '-PR', '-n', '-T5', c.cidr],
    parse: parseNmap,
    addresses: cidrSize,
    // ~70 s per run on the /16: once, in the middle of the alternation
    maxReps: (c) => (c.id === '16' && !opt.full ? 1 : c.reps),
  },
  {
    id: 'nmap-T5-hosts',
    label: 'nmap -sn -PR -n -T5 -iL <our target list>',
    ours: false,
    // Same addresses as ours (no network/broadcast address): nmap stops as soon as all resolved.
    argv: (_lab, c) => ['nmap', '-sn', '-PR', '-n', '-T5', '-iL', c.targetsFile],
    parse: parseNmap,
    addresses: (c) => c.ourAddresses,
    when: (c) => c.id !== '16',
  },
  {
    id: 'nmap-default',
    label: 'nmap -sn -PR -n (defaults, -T3)',
    ours: false,
    argv: (_lab, c) => ['nmap', '-sn', '-PR', '-n', c.cidr],
    parse: parseNmap,
    addresses: cidrSize,
    when: slow,
  },
];

// ---------------------------------------------------------------- statistics

/** NaN (shown as such) when there is nothing to take the median of. */
function median(xs: number[]): number {
  return xs.length === 0 ? NaN : medianOf(xs);
}

interface Summary {
  variant: Variant;
  runs: Run[];
  live: number;
  foundMin: number;
  foundMax: number;
  falseMax: number;
  complete: boolean; // every rep found every live device and nothing else
  wall: number;
  cpu: number;
  user: number;
  sys: number;
  rssMb: number;
  packets: number;
  addresses: number;
}

function summarise(variant: Variant, runs: Run[], live: number): Summary {
  const foundMin = Math.min(...runs.map((r) => r.found));
  const falseMax = Math.max(...runs.map((r) => r.falseDevices));
  return {
    variant,
    runs,
    live,
    foundMin,
    foundMax: Math.max(...runs.map((r) => r.found)),
    falseMax,
    complete: foundMin === live && falseMax === 0,
    wall: median(runs.map((r) => r.wall_s)),
    cpu: median(runs.map((r) => r.user_s + r.sys_s)),
    user: median(runs.map((r) => r.user_s)),
    sys: median(runs.map((r) => r.sys_s)),
    rssMb: median(runs.map((r) => r.maxrss_kb / 1024)),
    packets: median(runs.map((r) => r.tx_packets)),
    addresses: runs[0].addresses,
  };
}

// ---------------------------------------------------------------- sweep cases

const CASES: Case[] = [
  { id: '24', title: '1. /24, 254 live devices', count: 254, cidr: '198.18.0.0/24', spread: false, reps: 5, targetsFile: '', ourAddresses: 0 },
  { id: '22', title: '2. /22, 1000 live devices', count: 1000, cidr: '198.18.0.0/22', spread: false, reps: 5, targetsFile: '', ourAddresses: 0 },
  { id: '16', title: '3. /16 sparse, 4000 live devices spread across it', count: 4000, cidr: '198.18.0.0/16', spread: true, reps: 3, targetsFile: '', ourAddresses: 0 },
];

async function runCase(c: Case): Promise<Summary[]> {
  if (opt.reps) c.reps = Number(opt.reps);
  const targets = expandTargets([c.cidr], { maxAddresses: 1 << 20 });
  c.ourAddresses = targets.length;
  c.targetsFile = join(tmp, `targets-${c.id}.txt`);
  writeFileSync(c.targetsFile, Array.from(targets, (t) => intToIpv4(t)).join('\n') + '\n');
  log(`\n${c.title}: ${c.reps} repetitions, alternating`);
  return withBenchLab(c.count, `${LAB_PREFIX}${c.id}`, c.cidr, c.spread, async (lab) => {
    const live = new Map(lab.devices().map((d: LabDevice) => [d.ip, d.mac.toLowerCase()]));
    if (Number.isNaN(startupFloor.wall)) {
      const floor: Usage[] = [];
      for (let i = 0; i < 5; i++) floor.push(await runMeasured(lab, ['node', '-e', '0'], 60_000));
      startupFloor = { wall: median(floor.map((u) => u.wall_s)), cpu: median(floor.map((u) => u.user_s + u.sys_s)) };
    }
    const variants = VARIANTS.filter((v) => v.when?.(c) ?? true);
    const runs = new Map<string, Run[]>(variants.map((v) => [v.id, []]));
    for (let rep = 0; rep < c.reps; rep++) {
      // rotate the order every repetition so no tool always runs first or after the same peer
      const order = variants.map((_, i) => variants[(i + rep) % variants.length]);
      for (const v of order) {
        const maxReps = v.maxReps?.(c) ?? c.reps;
        // a peer limited to fewer repetitions runs in the middle ones
        const skip = Math.floor((c.reps - maxReps) / 2);
        if (rep < skip || rep >= skip + maxReps) continue;
        const argv = v.argv(lab, c);
        const u = await runMeasured(lab, argv, 600_000);
        let found = 0;
        let falseDevices = 0;
        const seen = new Set<string>();
        for (const d of v.parse(u.stdout)) {
          const key = `${d.ip} ${d.mac}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (live.get(d.ip) === d.mac) found++;
          else if (d.ip !== lab.scannerIp) falseDevices++;
        }
        const run: Run = { ...u, tool: v.id, found, falseDevices, addresses: v.addresses(c), stdout: '' };
        runs.get(v.id)!.push(run);
        log(
          `  rep ${rep + 1} ${v.id.padEnd(17)} ${found}/${live.size} found${falseDevices ? ` ${falseDevices} FALSE` : ''}  ` +
            `${u.wall_s.toFixed(3)} s  cpu ${(u.user_s + u.sys_s).toFixed(3)} s  rss ${(u.maxrss_kb / 1024).toFixed(1)} MB  tx ${u.tx_packets}`,
        );
      }
    }
    if (c.id === '16') profile16 = await profileSingleAttempt(lab, c);
    return variants.map((v) => summarise(v, runs.get(v.id)!, live.size));
  });
}

// ---------------------------------------------------------------- case 6: where the /16 time goes

let profile16: { summary: ProfileSummary; usage: Usage } | null = null;

/** One extra single-attempt /16 sweep under `node --cpu-prof`; not part of the medians. */
async function profileSingleAttempt(lab: Lab, c: Case): Promise<{ summary: ProfileSummary; usage: Usage }> {
  const dir = mkdtempSync(join(tmp, 'prof-'));
  const argv = VARIANTS.find((v) => v.id === 'ours-1try')!.argv(lab, c);
  const u = await runMeasured(lab, [argv[0], '--cpu-prof', `--cpu-prof-dir=${dir}`, ...argv.slice(1)], 600_000);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('bench: node --cpu-prof wrote no profile');
  log(`  profiled ours-1try: ${u.wall_s.toFixed(3)} s, cpu ${(u.user_s + u.sys_s).toFixed(3)} s`);
  return { summary: summariseProfile(readFileSync(join(dir, file), 'utf8')), usage: u };
}

// ---------------------------------------------------------------- case 4: /metrics with 10 000 devices

interface MetricsResult {
  devices: number;
  tracked: number;
  sweepSeconds: number | null;
  renderMs: number[]; // curl time_total per scrape, plain text
  sizeBytes: number;
  gzipBytes: number;
  gzipMs: number[];
  rssMb: number;
  hwmMb: number;
  labUpS: number;
}

async function curl(lab: Lab, args: string[]): Promise<string> {
  const r = await lab.exec(['curl', '-sS', '-m', '30', ...args], { timeoutMs: 40_000 });
  if (r.code !== 0) throw new Error(`bench: curl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function metricValue(text: string, name: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ') || line.startsWith(name + '{')) total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Cases 4 and 7 share one lab and exporter with `count` devices; each runs when selected. */
async function runMetricsCase(count: number): Promise<{ metrics: MetricsResult | null; page: PageResult | null }> {
  log(`\n4./7. /metrics and the live page with ${count} tracked devices`);
  const t0 = performance.now();
  return withBenchLab(count, `${LAB_PREFIX}m`, '198.18.0.0/16', true, async (lab) => {
    const labUpS = (performance.now() - t0) / 1000;
    const dir = mkdtempSync(join(tmp, 'exporter-'));
    const port = 19_991;
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      [
        'interfaces:',
        `  - name: ${lab.scannerIf}`,
        `    cidrs: ["198.18.0.0/16"]`,
        'scan:',
        '  interval: 1h',
        '  rate: 0', // the fast path: the inventory fills in one sweep
        `presence:`,
        `  max_devices: ${count + 1000}`,
        'storage:',
        `  path: ${join(dir, 'data')}`,
        '',
      ].join('\n'),
    );
    const proc = lab.spawnInScanner(['node', CLI, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', '--web.enable-lifecycle'], {
      cwd: REPO,
      env: benchEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(proc);
    let logs = '';
    proc.stdout!.on('data', (d) => (logs += d));
    proc.stderr!.on('data', (d) => (logs += d));
    try {
      const url = `http://127.0.0.1:${port}/metrics`;
      const started = performance.now();
      let tracked = 0;
      let text = '';
      while (performance.now() - started < 240_000) {
        checkInterrupted();
        await new Promise((r) => setTimeout(r, 1000));
        if (proc.exitCode !== null) throw new Error(`bench: exporter exited (${proc.exitCode}): ${logs.slice(-500)}`);
        const r = await lab.exec(['curl', '-sS', '-m', '30', url], { timeoutMs: 40_000 });
        if (r.code !== 0) continue;
        text = r.stdout;
        tracked = metricValue(text, 'ghosthunter_devices_tracked') ?? 0;
        // devices are tracked as they answer; the first sweep's duration is known once it ends
        if (tracked >= count && metricValue(text, 'ghosthunter_last_sweep_success_timestamp_seconds') !== null) break;
      }
      log(`  exporter tracks ${tracked} devices after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const sweepSeconds = metricValue(text, 'ghosthunter_sweep_duration_seconds');
      // settle: let the first-sweep persistence and GC finish before timing scrapes
      await new Promise((r) => setTimeout(r, 3000));
      let page: PageResult | null = null;
      if (selected.has('page')) {
        log('  7. the live page in headless Chromium');
        page = await measurePage(lab, port, tracked, async () => void (await curl(lab, ['-X', 'POST', `http://127.0.0.1:${port}/-/sweep`])));
        log(`  page: table with every device after ${page.loadMs.map((x) => x.toFixed(0)).join(', ')} ms`);
      }
      if (!selected.has('metrics')) return { metrics: null, page };
      const renderMs: number[] = [];
      const gzipMs: number[] = [];
      let sizeBytes = 0;
      let gzipBytes = 0;
      for (let i = 0; i < 12; i++) {
        checkInterrupted();
        const [t, size] = (await curl(lab, ['-o', '/dev/null', '-w', '%{time_total} %{size_download}', url])).split(' ').map(Number);
        renderMs.push(t * 1000);
        sizeBytes = size;
        const [tg, sizeg] = (await curl(lab, ['-o', '/dev/null', '-H', 'Accept-Encoding: gzip', '-w', '%{time_total} %{size_download}', url]))
          .split(' ')
          .map(Number);
        gzipMs.push(tg * 1000);
        gzipBytes = sizeg;
      }
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
      const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8');
      if (!cmdline.includes('cli.js')) log(`  warning: pid ${proc.pid} is not the exporter (${cmdline})`);
      const metrics = {
        devices: count,
        tracked,
        sweepSeconds,
        renderMs: renderMs.slice(2), // the first two warm up the JIT
        sizeBytes,
        gzipBytes,
        gzipMs: gzipMs.slice(2),
        rssMb: kb('VmRSS') / 1024,
        hwmMb: kb('VmHWM') / 1024,
        labUpS,
      };
      return { metrics, page };
    } finally {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
      clearTimeout(killer);
      children.delete(proc);
    }
  });
}

// ---------------------------------------------------------------- report

function machine(): string[] {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      return ((e as { stdout?: string }).stdout ?? '').trim() || '?';
    }
  };
  const libpcap = sh('sh', ['-c', "dpkg-query -W -f='${Version}' libpcap0.8 2>/dev/null || echo ?"]);
  return [
    `- CPU: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB, kernel ${sh('uname', ['-r'])}`,
    `- Node ${process.version}, libpcap ${libpcap}, ${sh('arp-scan', ['--version']).split('\n')[0]}, ${sh('nmap', ['--version']).split('\n')[0]}`,
    ...(Number.isFinite(startupFloor.wall)
      ? [`- node start-up floor on this host (\`node -e 0\` in the lab, measured like the tools): ${f3(startupFloor.wall)} s wall, ${f3(startupFloor.cpu)} s CPU (median of 5)`]
      : []),
  ];
}

let startupFloor = { wall: NaN, cpu: NaN };

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const ratio = (a: number, b: number): string => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : '-');

function caseTable(c: Case, sums: Summary[]): string[] {
  const ours = sums.find((s) => s.variant.id === 'ours-fast')!;
  const lines = [
    `#### ${c.title} (\`${c.cidr}\`, ${c.reps} reps, medians)`,
    '',
    '| tool | found / live | false | wall s | CPU s | peak RSS MB | packets sent | ours-fast ÷ it: wall | CPU | packets | RSS |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of sums) {
    const found =
      (s.foundMin === s.foundMax ? `${s.foundMin}/${s.live}` : `${s.foundMin}–${s.foundMax}/${s.live}`) +
      (s.runs.length !== c.reps ? ` (${s.runs.length} run${s.runs.length > 1 ? 's' : ''})` : '');
    const r = s === ours ? ['', '', '', ''] : [ratio(ours.wall, s.wall), ratio(ours.cpu, s.cpu), ratio(ours.packets, s.packets), ratio(ours.rssMb, s.rssMb)];
    lines.push(`| ${s.variant.label} | ${found} | ${s.falseMax} | ${f3(s.wall)} | ${f3(s.cpu)} | ${f1(s.rssMb)} | ${s.packets} | ${r.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

function perThousandTable(all: [Case, Summary[]][]): string[] {
  const lines = [
    '#### 5. CPU and packets per 1000 addresses swept, peak RSS of a one-shot sweep (medians)',
    '',
    '| case | tool | addresses | CPU ms / 1000 addr | of which user / sys | packets / 1000 addr | peak RSS MB | ours-fast ÷ it: CPU/1000 |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [c, sums] of all) {
    const ours = sums.find((s) => s.variant.id === 'ours-fast')!;
    const per = (s: Summary): number => (s.cpu * 1e6) / s.addresses;
    for (const s of sums) {
      lines.push(
        `| /${c.cidr.split('/')[1]} | ${s.variant.label} | ${s.addresses} | ${f1(per(s))} | ${f1((s.user * 1e6) / s.addresses)} / ${f1((s.sys * 1e6) / s.addresses)} | ` +
          `${f1((s.packets * 1000) / s.addresses)} | ${f1(s.rssMb)} | ${s === ours ? '' : ratio(per(ours), per(s))} |`,
      );
    }
  }
  lines.push('');
  return lines;
}

const cpuPerAddress = (s: Summary): number => s.cpu / s.addresses;
const completeRuns = (sums: Summary[], prefix: string): Summary[] => sums.filter((s) => s.variant.id.startsWith(prefix) && s.complete);

/** The fastest run of a tool's variants that found every device in every repetition. */
const bestComplete = (sums: Summary[], prefix: string): Summary | undefined => completeRuns(sums, prefix).sort((a, b) => a.wall - b.wall)[0];

/** Of the same runs, the one with the least CPU per address: what the CPU target compares with. */
const leastCpuComplete = (sums: Summary[], prefix: string): Summary | undefined =>
  completeRuns(sums, prefix).sort((a, b) => cpuPerAddress(a) - cpuPerAddress(b))[0];

function targetLines(all: [Case, Summary[]][], m: MetricsResult | null, p: PageResult | null): string[] {
  const out = ['#### Targets of issue 7 (measured values, same run)', ''];
  const get = (id: string): Summary[] | undefined => all.find(([c]) => c.id === id)?.[1];
  const pick = (sums: Summary[], id: string): Summary | undefined => sums.find((s) => s.variant.id === id);
  for (const [c, sums] of all) {
    const ours = pick(sums, 'ours-fast')!;
    const one = pick(sums, 'ours-1try');
    if (one) out.push(`- /${c.cidr.split('/')[1]}: ours-1try found ${one.foundMin}/${one.live} in every rep: ${one.complete ? 'yes' : 'NO'}, false devices ${one.falseMax}`);
    out.push(`- /${c.cidr.split('/')[1]}: ours-fast found ${ours.foundMin}/${ours.live} in every rep: ${ours.complete ? 'yes' : 'NO'}, false devices ${ours.falseMax}`);
  }
  for (const id of ['24', '22']) {
    const sums = get(id);
    if (!sums) continue;
    const ours = pick(sums, 'ours-fast')!;
    const n = pick(sums, 'nmap-T5');
    const nh = pick(sums, 'nmap-T5-hosts');
    out.push(
      `- /${id} wall ≤ nmap -T5 (target ratio ≤ 1): ours ${f3(ours.wall)} s ÷ nmap -T5 <cidr> ${f3(n?.wall ?? NaN)} s = ${ratio(ours.wall, n?.wall ?? NaN)}` +
        `; ÷ nmap -T5 on our exact target list ${f3(nh?.wall ?? NaN)} s = ${ratio(ours.wall, nh?.wall ?? NaN)}`,
    );
  }
  const s16 = get('16');
  if (s16) {
    const a = bestComplete(s16, 'arp-scan');
    const peersPackets = s16.filter((s) => !s.variant.ours && s.complete).map((s) => `${s.variant.id} ${s.packets}`);
    const aCpu = leastCpuComplete(s16, 'arp-scan');
    for (const id of ['ours-fast', 'ours-1try']) {
      const ours = pick(s16, id);
      if (!ours) continue;
      out.push(
        `- /16 sparse ≤ 0.2× arp-scan's best complete run: ${id} ${f3(ours.wall)} s ÷ ${a ? `${a.variant.id} ${f3(a.wall)} s` : 'no complete arp-scan run'} = ${a ? ratio(ours.wall, a.wall) : '-'}`,
        `- /16 packets fewer than either peer: ${id} ${ours.packets}; complete peer runs: ${peersPackets.join(', ') || 'none'}`,
      );
      if (aCpu) out.push(`- CPU per 1000 addresses ≤ 0.5× arp-scan's (/16): ${id} ${f1(cpuPerAddress(ours) * 1e6)} ms ÷ ${aCpu.variant.id} ${f1(cpuPerAddress(aCpu) * 1e6)} ms = ${ratio(cpuPerAddress(ours), cpuPerAddress(aCpu))}`);
    }
  }
  const rss = all.flatMap(([, sums]) => sums.filter((s) => s.variant.ours).map((s) => Math.max(...s.runs.map((r) => r.maxrss_kb / 1024))));
  if (rss.length) out.push(`- one-shot peak RSS ≤ 60 MB: max over all our one-shot runs ${f1(Math.max(...rss))} MB`);
  if (m) {
    out.push(
      `- /metrics with ${m.tracked} devices: render median ${f1(median(m.renderMs))} ms (target < 50), exporter RSS ${f1(m.rssMb)} MB (target < 200)`,
    );
  }
  if (p) {
    out.push(
      `- live page with ${p.devices} devices (issue 19): table with every device after ${f1(median(p.loadMs))} ms median, ${f1(Math.max(...p.loadMs))} ms worst (target < 2000); ` +
        `search ${f1(median(p.searchMs))} ms, sort ${f1(median(p.sortMs))} ms, longest main-thread task while a sweep of every device streams in ${f1(p.sweepLongestTaskMs)} ms`,
    );
  }
  out.push('');
  return out;
}

function pageLines(p: PageResult): string[] {
  const mm = (xs: number[]) => `${f1(median(xs))} / ${f1(Math.max(...xs))}`;
  return [
    `#### 7. The live page with ${p.devices} devices (headless Chromium in the lab, ${p.loadMs.length} fresh loads, the same exporter as case 4)`,
    '',
    '| load: table with every device, ms (median / max) | longest task during load, ms | blocking time during load, ms | search, ms | sort, ms | scroll frame p95 / max, ms | live sweep of every device: shown after, ms | its longest task / blocking, ms | page JS heap MB |',
    '|---|---|---|---|---|---|---|---|---|',
    `| ${mm(p.loadMs)} | ${mm(p.loadLongestTaskMs)} | ${mm(p.loadBlockingMs)} | ${mm(p.searchMs)} | ${mm(p.sortMs)} | ${f1(p.scrollFrameP95Ms)} / ${f1(p.scrollFrameMaxMs)} | ` +
      `${f1(p.sweepShownMs)} | ${f1(p.sweepLongestTaskMs)} / ${f1(p.sweepBlockingMs)} | ${f1(p.heapMb)} |`,
    '',
    'Load = navigation start to the first render of the table after the snapshot of every device (a `performance.mark` of the page); ' +
      'search and sort = input to the first row changing; sweep shown = the sweep request (POST /-/sweep of the /16) to its new last-seen time in the table; long tasks from the browser\'s `longtask` observer (blocking time = the part of each past 50 ms).',
    '',
  ];
}

/** Where a /16 single attempt spends its time, and the floor any sender pays in this lab. */
function profileLines(sums: Summary[], prof: { summary: ProfileSummary; usage: Usage }): string[] {
  const { summary, usage } = prof;
  const pct = (ms: number): string => `${((100 * ms) / summary.totalMs).toFixed(1)} %`;
  const lines = [
    '#### 6. Where a /16 single attempt spends its time (`node --cpu-prof`, one extra run, not in the medians)',
    '',
    `Profiled run: ${f3(usage.wall_s)} s wall, ${f3(usage.user_s)} s user + ${f3(usage.sys_s)} s sys CPU; the profile covers ` +
      `${f1(summary.totalMs)} ms of the main thread (from V8's start, after Node's own bootstrap). Kernel time inside a ` +
      'system call is charged to the JS or native frame that made the call.',
    '',
    '| main-thread time by category | ms | share |',
    '|---|---|---|',
    ...summary.categories.filter((x) => x.ms >= 1).map((x) => `| ${x.name} | ${f1(x.ms)} | ${pct(x.ms)} |`),
    '',
    '| top functions by self time | ms | share |',
    '|---|---|---|',
    ...summary.functions.map((x) => `| ${x.name.replace(/\|/g, '\\|')} | ${f1(x.ms)} | ${pct(x.ms)} |`),
    '',
  ];
  const ours = sums.find((s) => s.variant.id === 'ours-1try');
  const arp = bestComplete(sums, 'arp-scan');
  const arpCpu = leastCpuComplete(sums, 'arp-scan');
  if (ours && arp && arpCpu) {
    const per = (x: number, s: Summary): string => f1((x * 1e6) / s.addresses);
    lines.push(
      `- Against arp-scan's fastest complete run (${arp.variant.label}): kernel time per 1000 addresses: ours ${per(ours.sys, ours)} ms (one sendmmsg() per 64 requests), ` +
        `arp-scan ${per(arp.sys, arp)} ms (one send() per request); user time: ours ${per(ours.user, ours)} ms, arp-scan ${per(arp.user, arp)} ms.`,
      `- Issue 7 asks for ≤ 0.5× arp-scan's CPU (${arpCpu.variant.id}), i.e. ≤ ${f1(0.5 * cpuPerAddress(arpCpu) * 1e6)} ms per 1000 addresses: ` +
        `our kernel time alone is ${ratio(ours.sys / ours.addresses, cpuPerAddress(arpCpu))} of arp-scan's CPU.`,
      `- Issue 7 asks for ≤ 0.2× arp-scan's wall, i.e. ≤ ${f3(0.2 * arp.wall)} s. Both tools wait the same --timeout (${OURS_FAST_ARGS[3]} ms) after their last ` +
        `request, ${ratio(Number(OURS_FAST_ARGS[3]) / 1000, arp.wall)} of arp-scan's wall by itself; Node's start-up (\`node -e 0\`) adds ${f3(startupFloor.wall)} s wall and ${f3(startupFloor.cpu)} s CPU.`,
      '',
    );
  }
  return lines;
}

function metricsLines(m: MetricsResult): string[] {
  return [
    `#### 4. /metrics with ${m.devices} devices (exporter from dist/, one sweep of 198.18.0.0/16 at rate 0, then ${m.renderMs.length} timed scrapes)`,
    '',
    '| tracked | first sweep s | render ms (median / max), plain | scrape size | gzip: ms median / size | exporter RSS MB (now / peak) |',
    '|---|---|---|---|---|---|',
    `| ${m.tracked} | ${m.sweepSeconds === null ? '-' : f1(m.sweepSeconds)} | ${f1(median(m.renderMs))} / ${f1(Math.max(...m.renderMs))} | ` +
      `${(m.sizeBytes / 1e6).toFixed(2)} MB | ${f1(median(m.gzipMs))} / ${(m.gzipBytes / 1e6).toFixed(2)} MB | ${f1(m.rssMb)} / ${f1(m.hwmMb)} |`,
    '',
    'Render time is curl\'s `time_total` over loopback inside the lab namespace (request to last byte).',
    '',
  ];
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const began = performance.now();
  await cleanupStaleLabs(LAB_PREFIX);
  if (!opt['no-build']) {
    log('building dist/ (npm run build)...');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const all: [Case, Summary[]][] = [];
  let metrics: MetricsResult | null = null;
  let page: PageResult | null = null;
  let authFlood: AuthFloodResult | null = null;
  try {
    for (const c of CASES) if (selected.has(c.id)) all.push([c, await runCase(c)]);
    if (selected.has('metrics') || selected.has('page')) ({ metrics, page } = await runMetricsCase(Number(opt['metrics-devices'])));
    if (selected.has('authflood')) {
      log('\nwrong-password flood against authenticated scrapes');
      authFlood = await withBenchLab(64, `${LAB_PREFIX}f`, '198.18.0.0/24', false, (lab) =>
        runAuthFloodCase(lab, { repo: REPO, cli: CLI, tmp, env: benchEnv, children, log, checkInterrupted }),
      );
    }
  } catch (e) {
    log(`bench: ${(e as Error).message}`);
    if (!all.length && !metrics && !page && !authFlood) throw e;
    log('bench: writing the partial results');
  }
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const section = [
    `### ${date}${interrupted ? ' (interrupted, partial)' : ''}`,
    '',
    ...machine(),
    ...(all.length
      ? [
          `- wall = fork to exit of the tool inside the lab namespace (process start-up included); CPU = user+sys from wait4(); ` +
            `packets = tx_packets of the scanner interface; peak RSS = ru_maxrss.`,
          `- ours-fast = \`ghost-hunter sweep ${OURS_FAST_ARGS.join(' ')}\` (rate 0 = as fast as possible; one retry, of the silent addresses only).`,
        ]
      : []),
    `- Cases: ${[...selected].join(', ')}. Total bench time ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    '',
    ...(all.length || metrics || page ? targetLines(all, metrics, page) : []),
    ...all.flatMap(([c, sums]) => caseTable(c, sums)),
    ...(metrics ? metricsLines(metrics) : []),
    ...(page ? pageLines(page) : []),
    ...(authFlood ? authFloodLines(authFlood) : []),
    ...(all.length ? perThousandTable(all) : []),
    ...(profile16 ? profileLines(all.find(([c]) => c.id === '16')?.[1] ?? [], profile16) : []),
  ].join('\n');
  process.stdout.write('\n' + section + '\n');
  if (!opt['no-write']) {
    if (!existsSync(RESULTS)) {
      writeFileSync(
        RESULTS,
        '# Benchmark results (`npm run bench`)\n\nEach run appends a dated section; earlier sections stay for comparison. ' +
          'See bench/run.ts for what is measured and how.\n\n',
      );
    }
    appendFileSync(RESULTS, section + '\n');
    writeFileSync(join(REPO, 'bench/last-run.json'), JSON.stringify({ date, cases: all.map(([c, s]) => ({ case: c.id, summaries: s.map(({ variant, runs, ...rest }) => ({ id: variant.id, ...rest, runs: runs.map(({ stdout, ...r }) => r) })) })), metrics, page, authFlood }, null, 1));
    log(`\nappended to ${RESULTS}`);
  }
}

main().then(
  () => process.exit(interrupted ? 130 : 0),
  (e: unknown) => {
    log(`bench failed: ${(e as Error).stack ?? e}`);
    process.exit(interrupted ? 130 : 1);
  },
);
