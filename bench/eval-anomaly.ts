/**
 * The anomaly evaluation, across two independent history generators:
 *
 *   npm run eval:anomaly                       the report: both directions on the held-out seeds, baselines, cost -> bench/ANOMALY.md
 *   npm run eval:anomaly -- --tune             grid of the engine's tuned settings on each generator's development seeds -> bench/anomaly/tuning.json
 *   npm run eval:anomaly -- --dev a|b          the development seeds of one generator, printed (what tuning looks at)
 *   npm run eval:anomaly -- --cost-only        only the cost measurements, printed
 *   options: --jobs N (histories scored in parallel, default 2), --out FILE, --no-live, --verbose
 *
 * Generator A (bench/anomaly/simulator.ts) and generator B (bench/anomaly/generator-b/) were written
 * from different sources and assumptions. Each has development seeds (looked at while building and
 * tuning the engine) and held-out seeds (scored only for the report). A history is trained on its first
 * half through the same path as `ghost-hunter anomaly replay` and scored on its second half with the
 * model frozen; the engine's own `anomalous` flag decides the alarms. Next to it: the ancestor (an
 * isolation forest on the device count of the last 50 sweeps) and simple rules, both with a threshold
 * from the same false-alarm budget on the training half.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { replaySweeps } from '../src/anomaly/replay.js';
import { simulateScenario } from './anomaly/simulator.js';
import { generateB } from './anomaly/generator-b/index.js';
import { ANOMALY_KINDS, type SimScenario } from './anomaly/scenario.js';
import { averagePrecision, judgeHistory, rocAuc, type HistoryVerdict } from './anomaly/evaluation.js';
import { scoreRow, trainSmallForest } from '../src/anomaly/forest.js';
import { chooseThreshold } from './anomaly/budget-threshold.js';
import { AnomalyEngine } from '../src/anomaly/engine.js';
import { decodeSnapshot, encodeSnapshot } from '../src/anomaly/snapshot-codec.js';
import type { AnomalyOptions, SweepRecord, Tuning } from '../src/anomaly/types.js';
import { DEFAULT_TUNING } from '../src/anomaly/tuning.js';
import { DETECTOR_NAMES } from '../src/anomaly/detectors.js';
import { FeatureWindow } from '../src/anomaly/window.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const OUT = arg('out', 'bench/ANOMALY.md');
const JOBS = Math.max(1, Number(arg('jobs', '2')));
const LIVE = !args.includes('--no-live');
const VERBOSE = args.includes('--verbose');
const BUDGET = 1;
const MERGE = 6;

type Generator = 'a' | 'b';
type Kind = 'home' | 'office';
/** Development seeds (looked at while building and tuning) and held-out seeds (only for the report). */
export const SEEDS: Record<Generator, { dev: number[]; holdout: number[] }> = {
  a: { dev: [101, 102, 103, 104], holdout: [201, 202, 203, 204] },
  b: { dev: [1, 2, 3, 4], holdout: [201, 202, 203, 204] },
};
const GEN_NAME: Record<Generator, string> = { a: 'generator A (bench/anomaly/simulator.ts)', b: 'generator B (bench/anomaly/generator-b/)' };

interface Job {
  gen: Generator;
  kind: Kind;
  seed: number;
}

function makeHistory(j: Job): SimScenario {
  if (j.gen === 'a') return simulateScenario(j.kind === 'home' ? 'household' : 'office', { seed: j.seed, weeks: 8 });
  return generateB(j.kind, { seed: j.seed });
}

type Method = 'ghost-hunter' | 'ancestor (IF on count)' | 'ancestor with its own 10 % contamination' | 'rules';

/** What a child process sends back for one history: per method, a score and an alarm per sweep. */
interface Scored {
  testFrom: number;
  threshold: number;
  methods: Partial<Record<Method, { scores: number[]; alarms: number[] }>>;
}

async function runOurs(sim: SimScenario, seed: number, engine: Partial<AnomalyOptions>): Promise<{ scores: number[]; alarms: number[]; threshold: number }> {
  const scores = new Array<number>(sim.sweeps.length).fill(0);
  const alarms = new Array<number>(sim.sweeps.length).fill(0);
  const index = new Map(sim.sweeps.map((s, i) => [s.tsSeconds, i]));
  let threshold = NaN;
  await replaySweeps(sim.sweeps, { known: sim.known, trainUntil: sim.trainUntil, engine: { seed, tzOffsetMinutes: sim.tzOffsetMinutes, gatewayIp: sim.gatewayIp, ...engine } }, (line) => {
    const i = index.get(line.ts)!;
    scores[i] = line.score ?? 0;
    alarms[i] = line.anomalous ? 1 : 0;
    threshold = line.threshold ?? NaN;
    if (VERBOSE && line.anomalous) console.error(sim.name, seed, new Date(line.ts * 1000).toISOString(), line.score, JSON.stringify(line.top.slice(0, 3)));
  });
  return { scores, alarms, threshold };
}

/** The ancestor: refit an isolation forest on the device counts of the last 50 sweeps; its own 10 % contamination flags. */
function runAncestor(sim: SimScenario, seed: number): { scores: number[]; flags: boolean[] } {
  const counts = sim.sweeps.map((s) => new Set(s.devices.map((d) => d.mac)).size);
  const scores = new Array<number>(counts.length).fill(0);
  const flags = new Array<boolean>(counts.length).fill(false);
  for (let i = 50; i < counts.length; i++) {
    const rows = counts.slice(i - 50, i).map((c) => [c]);
    const f = trainSmallForest(rows, 25, 50, seed * 1000003 + i)!;
    const model = { forests: [f], width: 1 };
    scores[i] = scoreRow(model, [counts[i]]);
    const train = rows.map((r) => scoreRow(model, r)).sort((a, b) => a - b);
    flags[i] = scores[i] > train[Math.floor(0.9 * train.length)];
  }
  return { scores, flags };
}

/** Simple rules: +1 per never-seen MAC, +2 per IP answered by two MACs, +1 per known non-sleeping device missing >= 1 h. */
function runRules(sim: SimScenario): number[] {
  const seen = new Set<string>();
  const lastSeen = new Map<string, number>();
  const watch = sim.known.filter((k) => !k.can_sleep).map((k) => k.mac);
  const scores: number[] = [];
  sim.sweeps.forEach((s, i) => {
    let score = 0;
    const byIp = new Map<string, Set<string>>();
    for (const d of s.devices) {
      if (i > 12 && !seen.has(d.mac)) score += 1;
      (byIp.get(d.ip) ?? byIp.set(d.ip, new Set()).get(d.ip)!).add(d.mac);
    }
    for (const m of byIp.values()) if (m.size > 1) score += 2;
    for (const d of s.devices) {
      seen.add(d.mac);
      lastSeen.set(d.mac, i);
    }
    for (const m of watch) if (i - (lastSeen.get(m) ?? i) >= 12) score += 1;
    scores.push(score);
  });
  return scores;
}

/** Alarms of a baseline: scores at or above the threshold the false-alarm budget gives on the training half. */
function budgetAlarms(sim: SimScenario, scores: number[], from: number, testFrom: number): number[] {
  const span = sim.sweeps[testFrom - 1].tsSeconds - sim.sweeps[from].tsSeconds + sim.interval;
  const thr = chooseThreshold(scores.slice(from, testFrom), span, { budgetPerWeek: BUDGET, mergeGap: MERGE, floor: -Infinity, ceiling: Infinity });
  return scores.map((s, i) => (i >= testFrom && s >= thr ? 1 : 0));
}

/** Child process: score one history and print it as JSON. */
async function scoreOne(j: Job, baselines: boolean, engine: Partial<AnomalyOptions>): Promise<Scored> {
  const sim = makeHistory(j);
  const testFrom = sim.sweeps.findIndex((s) => s.tsSeconds > sim.trainUntil);
  const ours = await runOurs(sim, j.seed, engine);
  const out: Scored = { testFrom, threshold: ours.threshold, methods: { 'ghost-hunter': { scores: ours.scores, alarms: ours.alarms } } };
  if (baselines) {
    const anc = runAncestor(sim, j.seed);
    out.methods['ancestor (IF on count)'] = { scores: anc.scores, alarms: budgetAlarms(sim, anc.scores, 50, testFrom) };
    out.methods['ancestor with its own 10 % contamination'] = { scores: anc.scores, alarms: anc.flags.map((f, i) => (f && i >= testFrom ? 1 : 0)) };
    const rules = runRules(sim);
    out.methods.rules = { scores: rules, alarms: budgetAlarms(sim, rules, 0, testFrom) };
  }
  return out;
}

interface Run {
  job: Job;
  sim: SimScenario;
  scored: Scored;
}

/** Scores the jobs in child processes, JOBS at a time (each history is independent). */
async function runJobs(jobs: Job[], baselines: boolean, engine: Partial<AnomalyOptions>): Promise<Run[]> {
  const results: Run[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const k = next++;
      const j = jobs[k];
      const childArgs = ['--import', 'tsx', import.meta.filename, '--one', `${j.gen}:${j.kind}:${j.seed}`, '--engine', JSON.stringify(engine), ...(baselines ? ['--baselines'] : []), ...(VERBOSE ? ['--verbose'] : [])];
      const text = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
        let buf = '';
        child.stdout.on('data', (d: Buffer) => (buf += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(buf) : reject(new Error(`scoring ${j.gen}:${j.kind}:${j.seed} exited with ${code}`))));
      });
      results[k] = { job: j, sim: makeHistory(j), scored: JSON.parse(text) as Scored };
      if (!VERBOSE) process.stderr.write('.');
    }
  };
  await Promise.all(Array.from({ length: Math.min(JOBS, jobs.length) }, worker));
  if (!VERBOSE) process.stderr.write('\n');
  return results;
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

function verdicts(runs: Run[], method: string): HistoryVerdict[] {
  return runs
    .filter((r) => r.scored.methods[method as Method])
    .map((r) => judgeHistory({ sim: r.sim, seed: r.job.seed, testFrom: r.scored.testFrom, scores: r.scored.methods[method as Method]!.scores, alarms: r.scored.methods[method as Method]!.alarms }, MERGE));
}

interface Summary {
  pooledAuc: number;
  meanAuc: number;
  worstAuc: number;
  ap: number;
  caught: number;
  events: number;
  faPerWeek: number;
  worstFaPerWeek: number;
}

function summarize(vs: HistoryVerdict[]): Summary {
  const aucs = vs.map((v) => rocAuc(v.scores, v.labels));
  const all = { scores: vs.flatMap((v) => v.scores), labels: vs.flatMap((v) => v.labels) };
  const events = vs.flatMap((v) => v.events);
  const weeks = vs.reduce((a, v) => a + v.weeks, 0);
  return {
    pooledAuc: rocAuc(all.scores, all.labels),
    meanAuc: aucs.reduce((a, b) => a + b, 0) / aucs.length,
    worstAuc: Math.min(...aucs),
    ap: averagePrecision(all.scores, all.labels),
    caught: events.filter((e) => e.caught).length,
    events: events.length,
    faPerWeek: vs.reduce((a, v) => a + v.falseEpisodes, 0) / weeks,
    worstFaPerWeek: Math.max(...vs.map((v) => v.falseEpisodes / v.weeks)),
  };
}

const pct = (a: number, b: number) => `${a}/${b} (${fmt((100 * a) / Math.max(1, b), 0)} %)`;

/** The tables of one set of histories: overall, per kind, per history (with each kind caught). */
function setTables(vs: HistoryVerdict[]): string[] {
  const out: string[] = [];
  const s = summarize(vs);
  out.push('| ROC AUC, mean of histories (worst) | ROC AUC, pooled | avg precision, pooled | events caught by the flag | false-alarm episodes / week, all (worst history) |');
  out.push('|---|---|---|---|---|');
  out.push(`| ${fmt(s.meanAuc)} (${fmt(s.worstAuc)}) | ${fmt(s.pooledAuc)} | ${fmt(s.ap)} | ${pct(s.caught, s.events)} | ${fmt(s.faPerWeek, 2)} (${fmt(s.worstFaPerWeek, 2)}) |`);
  out.push('');
  out.push('| kind | events caught | ROC AUC (this kind against all normal sweeps) | median delay to the first alarm (sweeps) |');
  out.push('|---|---|---|---|');
  for (const k of ANOMALY_KINDS) {
    const ev = vs.flatMap((v) => v.events.filter((e) => e.kind === k));
    const scores = vs.flatMap((v) => v.scores);
    const labels = vs.flatMap((v) => v.labels.map((l, i) => (l === 1 ? (v.kinds[i] === k ? 1 : -1) : l)));
    const delays = ev.filter((e) => e.delay !== null).map((e) => e.delay!).sort((a, b) => a - b);
    out.push(`| ${k} | ${pct(ev.filter((e) => e.caught).length, ev.length)} | ${fmt(rocAuc(scores, labels))} | ${delays.length ? delays[Math.floor(delays.length / 2)] : 'n/a'} |`);
  }
  out.push('');
  out.push(`| history | seed | ROC AUC | ${ANOMALY_KINDS.join(' | ')} | caught | false-alarm episodes (per week) |`);
  out.push(`|---|---|---|${ANOMALY_KINDS.map(() => '---').join('|')}|---|---|`);
  for (const v of vs) {
    const perKind = ANOMALY_KINDS.map((k) => {
      const ev = v.events.filter((e) => e.kind === k);
      return `${ev.filter((e) => e.caught).length}/${ev.length}`;
    });
    const caught = v.events.filter((e) => e.caught).length;
    out.push(`| ${v.name} | ${v.seed} | ${fmt(rocAuc(v.scores, v.labels))} | ${perKind.join(' | ')} | ${caught}/${v.events.length} | ${v.falseEpisodes} (${fmt(v.falseEpisodes / v.weeks, 2)}) |`);
  }
  const falseBy = new Map<string, number>();
  for (const v of vs) for (const [k, n] of v.falseByBenign) falseBy.set(k, (falseBy.get(k) ?? 0) + n);
  out.push('');
  out.push('False-alarm episodes by the benign event they overlap: ' + ([...falseBy.entries()].map(([k, n]) => `${k} ${n}`).join(', ') || 'none') + '.');
  const missed = vs.flatMap((v) => v.events.filter((e) => !e.caught).map((e) => `${v.name} ${v.seed} ${e.kind} (${e.note})`));
  if (missed.length) out.push(`Missed: ${missed.join('; ')}.`);
  return out;
}

function jobsOf(gen: Generator, seeds: number[]): Job[] {
  return seeds.flatMap((seed) => (['home', 'office'] as const).map((kind) => ({ gen, kind, seed })));
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const maxOf = (xs: number[]) => Math.max(...xs);

/** Observe `sweeps` with retrainIfDue() after each; wall, process CPU and the engine's own slice accounting per retrain. */
/** A sweep with its devices as JSON: one string instead of ~100 objects, so the harness's own data
 * does not make V8's full collections (charged to whatever runs then) longer than the engine's would be. */
interface PackedSweep {
  tsSeconds: number;
  devices: string;
}

/**
 * An office history split at its half: the first half as sweeps (restored, then dropped), the second
 * packed. Sweeps `factor` times as frequent when factor > 1 (timestamps compressed: 5x the window rows).
 */
function officeHistory(seed: number, weeks: number, factor = 1) {
  const sim = simulateScenario('office', { seed, weeks });
  const t0 = sim.sweeps[0].tsSeconds;
  const sweeps = sim.sweeps.map((s) => ({ tsSeconds: t0 + Math.round((s.tsSeconds - t0) / factor), devices: s.devices }));
  const half = Math.floor(sweeps.length / 2);
  return {
    known: sim.known,
    gatewayIp: sim.gatewayIp,
    first: sweeps.slice(0, half),
    second: sweeps.slice(half).map((s) => ({ tsSeconds: s.tsSeconds, devices: JSON.stringify(s.devices) })),
  };
}

async function observeAll(engine: AnomalyEngine, sweeps: PackedSweep[]) {
  const wall: number[] = [];
  const cpu: number[] = [];
  const sliceCpu: number[] = [];
  let longestSlice = 0;
  let observeMax = 0;
  for (let i = 0; i < sweeps.length; i++) {
    const a = performance.now();
    engine.observe({ tsSeconds: sweeps[i].tsSeconds, devices: JSON.parse(sweeps[i].devices) as SweepRecord['devices'] });
    observeMax = Math.max(observeMax, performance.now() - a);
    if (engine.isRetrainDue()) {
      const b = performance.now();
      const c0 = process.cpuUsage();
      await engine.retrainIfDue();
      cpu.push(cpuMs(c0));
      wall.push(performance.now() - b);
      sliceCpu.push(engine.lastTrainCost!.cpuMs);
      longestSlice = Math.max(longestSlice, engine.lastTrainCost!.longestSliceMs);
    }
    if (i % 4 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  return { wall, cpu, sliceCpu, longestSlice, observeMax };
}

/** bench/anomaly-restart.ts in a fresh process, 3 times; medians. */
function coldRestart(encoded: { meta: string; rows: Buffer }, options: object): { restoreMs: number; totalMs: number; cpuMs: number } {
  const dir = mkdtempSync(join(os.tmpdir(), 'gh-restart-'));
  try {
    writeFileSync(join(dir, 'meta.json'), encoded.meta);
    writeFileSync(join(dir, 'rows.bin'), encoded.rows);
    writeFileSync(join(dir, 'options.json'), JSON.stringify(options));
    const runs = [0, 1, 2].map(() => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'anomaly-restart.ts'), ...['meta.json', 'rows.bin', 'options.json'].map((f) => join(dir, f))], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { restoreMs: number; totalMs: number; cpuMs: number; ready: boolean };
      if (!r.ready) throw new Error('restart in a fresh process did not produce a model');
      return r;
    });
    return { restoreMs: median(runs.map((r) => r.restoreMs)), totalMs: median(runs.map((r) => r.totalMs)), cpuMs: median(runs.map((r) => r.cpuMs)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function liveMeasure(seed: number): Promise<string[]> {
  const lines: string[] = [];
  const office = officeHistory(seed, 8);
  const { known, gatewayIp } = office;
  const half = office.first.length;
  const liveSweeps = office.second.length;
  const newEngine = () => new AnomalyEngine(known, { seed, tzOffsetMinutes: 0, gatewayIp });
  const engine = newEngine();
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  engine.restore(office.first);
  office.first = [];
  const replayMs = performance.now() - t0;
  const replayCpu = cpuMs(c0);
  await engine.retrainIfDue();

  // restart from the saved feature state: encode (what the exporter stores), decode, restore, first training
  t0 = performance.now();
  const encoded = encodeSnapshot(engine.snapshot());
  const saveMs = performance.now() - t0;
  const snapshotBytes = Buffer.byteLength(encoded.meta) + encoded.rows.byteLength;
  const restartHist = monitorEventLoopDelay({ resolution: 1 });
  restartHist.enable();
  c0 = process.cpuUsage();
  t0 = performance.now();
  const resumed = newEngine();
  resumed.restoreSnapshot(decodeSnapshot(encoded));
  const loadMs = performance.now() - t0;
  await resumed.retrainIfDue();
  const restartMs = performance.now() - t0;
  const restartCpu = cpuMs(c0);
  restartHist.disable();
  const sameModel = JSON.stringify(resumed.status()) === JSON.stringify(engine.status());
  const cold = coldRestart(encoded, { known, seed, tzOffsetMinutes: 0, gatewayIp });

  // live: the second half, retraining on schedule; event-loop blocking measured two ways
  const h = monitorEventLoopDelay({ resolution: 1 });
  let maxTick = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxTick = Math.max(maxTick, now - last);
    last = now;
  }, 1);
  h.enable();
  const run = await observeAll(engine, office.second);
  h.disable();
  clearInterval(ticker);
  const info = engine.modelInfo()!;

  // history size: the same office with 1-minute sweeps (timestamps compressed 5x), 4-week window = 5x the rows
  const dense = officeHistory(seed, 8 * 5, 5);
  const denseEngine = new AnomalyEngine(known, { seed, tzOffsetMinutes: 0, gatewayIp, warmupSweeps: 1440, retrainEverySweeps: 60 });
  denseEngine.restore(dense.first);
  dense.first = [];
  await denseEngine.retrainIfDue();
  const denseRun = await observeAll(denseEngine, dense.second.slice(0, 60 * 60));
  const denseInfo = denseEngine.modelInfo()!;

  const f1 = (x: number) => fmt(x, 1);
  lines.push(`Live engine on the office scenario (seed ${seed}): ${half} sweeps (${(half / 2016).toFixed(1)} weeks) of history, then ${liveSweeps} sweeps observed with retrainIfDue() every ${engine.options.retrainEverySweeps} sweeps. Host load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs. CPU = process.cpuUsage() (user + system) around the call.`);
  lines.push('');
  lines.push('| measure | value |');
  lines.push('|---|---|');
  lines.push(`| restart from the saved feature state: decode + restoreSnapshot() | ${f1(loadMs)} ms |`);
  lines.push(`| restart from the saved feature state: + first training (all ${engine.options.forests ?? 6} small forests), wall / CPU / longest event-loop delay | ${f1(restartMs)} / ${f1(restartCpu)} / ${f1(restartHist.max / 1e6)} ms |`);
  lines.push(`| the same in a fresh process (cold JIT, as after a real restart; module loading excluded), median of 3: restore / restore + first training (wall) / CPU | ${f1(cold.restoreMs)} / ${f1(cold.totalMs)} / ${f1(cold.cpuMs)} ms |`);
  lines.push(`| resumed model equals the model of the engine that kept running | ${sameModel ? 'yes' : 'NO'} |`);
  lines.push(`| saving the state: snapshot() + encode, size | ${f1(saveMs)} ms, ${(snapshotBytes / 1024).toFixed(0)} KiB |`);
  lines.push(`| fallback without a snapshot: replay ${half} sweeps (restore()), wall / CPU | ${f1(replayMs)} / ${f1(replayCpu)} ms |`);
  lines.push(`| retrains | ${run.cpu.length} |`);
  lines.push(`| retrain CPU median / max | ${f1(median(run.cpu))} / ${f1(maxOf(run.cpu))} ms |`);
  lines.push(`| retrain, sum of its synchronous slices median / max; longest slice | ${f1(median(run.sliceCpu))} / ${f1(maxOf(run.sliceCpu))} ms; ${f1(run.longestSlice)} ms |`);
  lines.push(`| retrain wall time median / max (includes yields to other work) | ${f1(median(run.wall))} / ${f1(maxOf(run.wall))} ms |`);
  lines.push(`| observe() max | ${fmt(run.observeMax, 2)} ms |`);
  lines.push(`| max event-loop block over the live run (perf_hooks delay histogram max / max gap between 1 ms timer ticks) | ${f1(h.max / 1e6)} / ${f1(maxTick)} ms |`);
  lines.push(`| model: forest (typed arrays, ${engine.options.forests ?? 6} forests × ${engine.options.treesPerForest ?? 10} trees) and the levels' ranking samples | ${(info.bytes / 1024).toFixed(0)} KiB |`);
  lines.push(`| feature window (${info.samples} rows) | ${((info.samples * FeatureWindow.featureWidth * 8) / 1024).toFixed(0)} KiB of features |`);
  lines.push(`| 1-minute sweeps (${denseInfo.samples} rows in the window): retrain CPU median / max; sum of slices median / max; longest slice; model | ${f1(median(denseRun.cpu))} / ${f1(maxOf(denseRun.cpu))} ms; ${f1(median(denseRun.sliceCpu))} / ${f1(maxOf(denseRun.sliceCpu))} ms; ${f1(denseRun.longestSlice)} ms; ${(denseInfo.bytes / 1024).toFixed(0)} KiB |`);
  return lines;
}

const TUNING_FILE = 'bench/anomaly/tuning.json';
/** The grid the tuning searches (each setting's effect is described in src/anomaly/types.ts, Tuning). */
const GRID: Record<keyof Tuning, number[]> = { quietSteepness: [4, 5, 6], dropFloor: [2.5, 3, 3.5], alwaysOnFloor: [2.5, 3, 3.5] };

interface GridRow {
  tuning: Tuning;
  /** per development history: events caught, events, false-alarm episodes, weeks, ROC AUC */
  histories: { gen: Generator; seed: number; name: string; caught: number; events: number; falseEpisodes: number; weeks: number; auc: number }[];
}

interface TuningRecord {
  grid: Record<keyof Tuning, number[]>;
  chosen: { a: Tuning; b: Tuning; both: Tuning };
  rows: GridRow[];
}

/**
 * The choice on a set of development histories: among the settings that keep every history within
 * the false-alarm budget (or, if none does, those with the fewest over it), the most events caught,
 * then the best mean ROC AUC.
 */
function choose(rows: GridRow[], gens: Generator[]): { tuning: Tuning; caught: number; events: number; over: number; auc: number } {
  const scored = rows.map((r) => {
    const hs = r.histories.filter((h) => gens.includes(h.gen));
    return {
      tuning: r.tuning,
      over: hs.filter((h) => h.falseEpisodes / h.weeks > BUDGET).length,
      caught: hs.reduce((a, h) => a + h.caught, 0),
      events: hs.reduce((a, h) => a + h.events, 0),
      auc: hs.reduce((a, h) => a + h.auc, 0) / hs.length,
    };
  });
  scored.sort((x, y) => x.over - y.over || y.caught - x.caught || y.auc - x.auc);
  return scored[0];
}

const tuningLabel = (t: Tuning) => (Object.keys(GRID) as (keyof Tuning)[]).map((k) => `${k} ${t[k]}`).join(', ');

async function tune(): Promise<void> {
  const combos: Tuning[] = [];
  for (const quietSteepness of GRID.quietSteepness) for (const dropFloor of GRID.dropFloor) for (const alwaysOnFloor of GRID.alwaysOnFloor) combos.push({ quietSteepness, dropFloor, alwaysOnFloor });
  const rows: GridRow[] = [];
  for (const tuning of combos) {
    const histories: GridRow['histories'] = [];
    for (const gen of ['a', 'b'] as Generator[]) {
      const runs = await runJobs(jobsOf(gen, SEEDS[gen].dev), false, { tuning });
      for (const v of verdicts(runs, 'ghost-hunter'))
        histories.push({ gen, seed: v.seed, name: v.name, caught: v.events.filter((e) => e.caught).length, events: v.events.length, falseEpisodes: v.falseEpisodes, weeks: v.weeks, auc: rocAuc(v.scores, v.labels) });
    }
    rows.push({ tuning, histories });
    const c = (g: Generator[]) => choose([{ tuning, histories }], g);
    console.error(`${tuningLabel(tuning)}: A ${c(['a']).caught}/${c(['a']).events} over ${c(['a']).over}, B ${c(['b']).caught}/${c(['b']).events} over ${c(['b']).over}`);
  }
  const record: TuningRecord = { grid: GRID, chosen: { a: choose(rows, ['a']).tuning, b: choose(rows, ['b']).tuning, both: choose(rows, ['a', 'b']).tuning }, rows };
  writeFileSync(TUNING_FILE, JSON.stringify(record, null, 1) + '\n');
  console.log(`tuned on A: ${tuningLabel(record.chosen.a)}\ntuned on B: ${tuningLabel(record.chosen.b)}\ntuned on both (the defaults should be these): ${tuningLabel(record.chosen.both)}`);
}

/** The tuning table of the report: each setting's totals on each generator's development seeds. */
function tuningTable(record: TuningRecord): string[] {
  const out = ['| settings | A dev: caught, histories over budget, mean AUC | B dev: caught, histories over budget, mean AUC | chosen for |', '|---|---|---|---|'];
  for (const r of record.rows) {
    const a = choose([r], ['a']);
    const b = choose([r], ['b']);
    const chosenFor = (['a', 'b', 'both'] as const).filter((k) => JSON.stringify(record.chosen[k]) === JSON.stringify(r.tuning)).map((k) => (k === 'both' ? 'defaults' : `tuned on ${k.toUpperCase()}`));
    out.push(`| ${tuningLabel(r.tuning)} | ${a.caught}/${a.events}, ${a.over}, ${fmt(a.auc)} | ${b.caught}/${b.events}, ${b.over}, ${fmt(b.auc)} | ${chosenFor.join(', ')} |`);
  }
  return out;
}

async function main(): Promise<void> {
  const engineArg = JSON.parse(arg('engine', '{}')) as Partial<AnomalyOptions>;
  const one = arg('one', '');
  if (one) {
    const [gen, kind, seed] = one.split(':');
    const scored = await scoreOne({ gen: gen as Generator, kind: kind as Kind, seed: Number(seed) }, args.includes('--baselines'), engineArg);
    process.stdout.write(JSON.stringify(scored));
    return;
  }
  if (args.includes('--cost-only')) {
    // quick look at the cost figures; bench/ANOMALY.md is left alone
    console.log((await liveMeasure(SEEDS.a.holdout[0])).join('\n'));
    return;
  }
  const started = performance.now();
  if (args.includes('--tune')) return tune();
  const dev = arg('dev', '');
  if (dev) {
    const gen = dev as Generator;
    const runs = await runJobs(jobsOf(gen, SEEDS[gen].dev), false, engineArg);
    console.log(`## ${GEN_NAME[gen]}, development seeds ${SEEDS[gen].dev.join(', ')}\n`);
    console.log(setTables(verdicts(runs, 'ghost-hunter')).join('\n'));
    console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
  const out: string[] = [];
  out.push('# Anomaly detection: evaluation');
  out.push('');
  out.push(`Generated by \`npm run eval:anomaly -- --tune\` (the tuning, bench/anomaly/tuning.json) and \`npm run eval:anomaly\` (this report; bench/eval-anomaly.ts). Two independent history generators, each with development seeds (looked at while building and tuning the engine) and held-out seeds (scored only for this report): ${GEN_NAME.a}, 8 weeks, dev seeds ${SEEDS.a.dev.join(', ')}, held-out ${SEEDS.a.holdout.join(', ')}; ${GEN_NAME.b}, 4 weeks, dev seeds ${SEEDS.b.dev.join(', ')}, held-out ${SEEDS.b.holdout.join(', ')}. Each seed gives a home and an office history; every history is trained on its first half and scored on its second half, with thresholds from the false-alarm budget (${BUDGET}/week) on the training half only. An alarm is the engine's own \`anomalous\` flag.`);
  out.push('');
  out.push(`Labels: a sweep is anomalous from the moment its event is observable (the 2nd sweep of a missing device or a mass drop, the first new MAC of a re-randomizing device, the 3rd device of a spread-out burst) to the end of the event; the sweeps before that and ${MERGE} sweeps after the end are left out of ROC/PR. An event is caught if any sweep of it alarms; alarms are merged into episodes across gaps of ≤ ${MERGE} sweeps, and an episode touching no anomaly is a false alarm.`);
  out.push('');
  const record = JSON.parse(readFileSync(TUNING_FILE, 'utf8')) as TuningRecord;
  if (JSON.stringify(record.chosen.both) !== JSON.stringify(DEFAULT_TUNING))
    throw new Error(`DEFAULT_TUNING (${tuningLabel(DEFAULT_TUNING)}) is not the tuning chosen on both generators (${tuningLabel(record.chosen.both)}): run --tune and update src/anomaly/tuning.ts`);
  out.push(`Tuning: the engine has three settings chosen on development histories (src/anomaly/tuning.ts); \`--tune\` scores a grid of them on each generator's development seeds (${TUNING_FILE}) and picks, among the settings that keep every history within the budget, the one catching most events (then the best mean ROC AUC). "Tuned on A" is that choice on A's development seeds only, and so on. The shipped defaults are the choice on both generators' development seeds.`);
  out.push('');
  const cache = new Map<string, Run[]>();
  const holdout = async (gen: Generator, tuning: Tuning, baselines: boolean): Promise<Run[]> => {
    const key = `${gen} ${JSON.stringify(tuning)}`;
    if (!cache.has(key)) cache.set(key, await runJobs(jobsOf(gen, SEEDS[gen].holdout), baselines, { tuning }));
    return cache.get(key)!;
  };
  const body: string[] = [];
  const summaryRows: string[] = [];
  const section = async (title: string, intro: string, gen: Generator, tuning: Tuning, baselines: boolean) => {
    const runs = await holdout(gen, tuning, baselines);
    const vs = verdicts(runs, 'ghost-hunter');
    const s = summarize(vs);
    const missed = [
      s.caught / s.events < 0.9 ? 'events caught' : '',
      s.worstFaPerWeek > BUDGET ? 'false alarms in every history' : '',
      s.meanAuc < 0.97 ? 'ROC AUC' : '',
    ].filter(Boolean);
    summaryRows.push(`| ${title} | ${tuningLabel(tuning)} | ${fmt(s.meanAuc)} (${fmt(s.worstAuc)}) | ${pct(s.caught, s.events)} | ${fmt(s.worstFaPerWeek, 2)} | ${missed.length ? `no: ${missed.join(', ')}` : 'yes'} |`);
    body.push(`## ${title}`);
    body.push('');
    body.push(intro);
    body.push('');
    body.push(...setTables(vs));
    body.push('');
    if (!baselines) return;
    body.push('Baselines on the same histories (threshold from the same budget on the training half):');
    body.push('');
    body.push('| method | ROC AUC, mean (worst) | events caught | false-alarm episodes / week (worst history) |');
    body.push('|---|---|---|---|');
    for (const m of ['ancestor (IF on count)', 'ancestor with its own 10 % contamination', 'rules']) {
      const b = summarize(verdicts(runs, m));
      body.push(`| ${m} | ${m.includes('contamination') ? '' : `${fmt(b.meanAuc)} (${fmt(b.worstAuc)})`} | ${pct(b.caught, b.events)} | ${fmt(b.faPerWeek, 2)} (${fmt(b.worstFaPerWeek, 2)}) |`);
    }
    body.push('');
  };
  await section("Tuned on A, scored on B's held-out seeds", `Settings chosen on the development seeds of ${GEN_NAME.a} (${tuningLabel(record.chosen.a)}); histories from ${GEN_NAME.b}, seeds ${SEEDS.b.holdout.join(', ')}.`, 'b', record.chosen.a, true);
  await section("Tuned on B, scored on A's held-out seeds", `Settings chosen on the development seeds of ${GEN_NAME.b} (${tuningLabel(record.chosen.b)}); histories from ${GEN_NAME.a}, seeds ${SEEDS.a.holdout.join(', ')}.`, 'a', record.chosen.b, true);
  for (const gen of ['b', 'a'] as Generator[]) {
    const other = gen === 'b' ? record.chosen.a : record.chosen.b;
    if (JSON.stringify(other) === JSON.stringify(DEFAULT_TUNING)) continue;
    await section(`The defaults on ${gen.toUpperCase()}'s held-out seeds`, `The shipped settings (${tuningLabel(DEFAULT_TUNING)}, chosen on both generators' development seeds) on the held-out seeds of ${GEN_NAME[gen]}.`, gen, DEFAULT_TUNING, false);
  }
  out.push('## Summary');
  out.push('');
  out.push('Targets: at least 90 % of the events caught by the flag, at most 1 false-alarm episode a week in every history, ROC AUC at least 0.97 (mean of the histories).');
  out.push('');
  out.push('| run | settings | ROC AUC, mean (worst history) | events caught | false-alarm episodes / week, worst history | targets met |');
  out.push('|---|---|---|---|---|---|');
  out.push(...summaryRows);
  out.push('');
  // what generator B assumes, kept next to its code
  out.push(readFileSync(join(import.meta.dirname, 'anomaly/generator-b/sources.md'), 'utf8').trimEnd());
  out.push('');
  out.push(...body);
  out.push('## Tuning grid (development seeds)');
  out.push('');
  out.push(...tuningTable(record));
  out.push('');
  if (LIVE) {
    out.push('## Cost');
    out.push('');
    // in a fresh process: the evaluation above leaves a large heap whose collections would be charged to the engine
    const cost = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--cost-only'], { encoding: 'utf8' });
    out.push(cost.trimEnd());
    out.push('');
  }
  out.push(`Detectors: ${DETECTOR_NAMES.join(', ')}. Evaluation took ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  const text = out.join('\n') + '\n';
  process.stdout.write(text);
  writeFileSync(OUT, text);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
