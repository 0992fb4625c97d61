/**
 * npm run eval:anomaly [-- --seeds 1,2,3 --weeks 8 --no-live --out bench/ANOMALY.md]
 * npm run eval:anomaly -- --cost-only      (only the cost measurements, printed)
 *
 * Simulates a household and a small office (seeded), trains on the first half through the same path as
 * `ghost-hunter anomaly replay`, scores the second half and reports ROC AUC / average precision overall
 * and per anomaly kind, event catch rate and false-alarm episodes per week at the engine's own threshold
 * (chosen from the false-alarm budget on the training half, never from the test half), next to two
 * baselines: the ancestor (isolation forest on the device count of the last 50 sweeps, 10 % contamination)
 * and a simple rule baseline. Then measures retrain time, model size and the longest event-loop block
 * of a live engine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { replaySweeps } from '../src/anomaly/replay.js';
import { ANOMALY_KINDS, labelSweeps, simulateScenario, type SimScenario } from './anomaly/simulator.js';
import { averagePrecision, episodes, rocAuc } from './anomaly/evaluation.js';
import { scoreRow, trainSmallForest } from '../src/anomaly/forest.js';
import { chooseThreshold } from '../src/anomaly/threshold.js';
import { AnomalyEngine } from '../src/anomaly/engine.js';
import { decodeSnapshot, encodeSnapshot } from '../src/anomaly/snapshot-codec.js';
import type { SweepRecord } from '../src/anomaly/types.js';
import { DETECTOR_NAMES } from '../src/anomaly/detectors.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const SEEDS = arg('seeds', '1,2,3').split(',').map(Number);
const WEEKS = Number(arg('weeks', '8'));
const OUT = arg('out', 'bench/ANOMALY.md');
const LIVE = !args.includes('--no-live');
const VERBOSE = args.includes('--verbose');
const BUDGET = 1;
const MERGE = 6;

interface MethodRun {
  scores: number[]; // all sweeps (train + test)
  threshold: number;
}

interface ScenarioRun {
  sim: SimScenario;
  testFrom: number; // first test sweep index
  methods: Record<string, MethodRun>;
}

const METHODS = ['ghost-hunter', 'ancestor (IF on count)', 'rules'] as const;

async function runOurs(sim: SimScenario, seed: number): Promise<MethodRun> {
  const scores: number[] = new Array(sim.sweeps.length).fill(0);
  const index = new Map(sim.sweeps.map((s, i) => [s.tsSeconds, i]));
  let threshold = NaN;
  const summary = await replaySweeps(
    sim.sweeps,
    { known: sim.known, trainUntil: sim.trainUntil, engine: { seed, tzOffsetMinutes: 0, gatewayIp: sim.gatewayIp } },
    (line, r) => {
      scores[index.get(line.ts)!] = line.score ?? 0;
      threshold = line.threshold ?? NaN;
      if (VERBOSE && line.anomalous) console.error(sim.name, new Date(line.ts * 1000).toISOString(), line.score, JSON.stringify(line.top.slice(0, 3)));
      void r;
    },
  );
  void summary;
  return { scores, threshold };
}

/** The ancestor: refit an isolation forest on the device counts of the last 50 sweeps, 10 % contamination. */
function runAncestor(sim: SimScenario, seed: number): MethodRun {
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
  return { scores, threshold: NaN, ...{ flags } } as MethodRun & { flags: boolean[] };
}

/** Simple rules: +1 per never-seen MAC, +2 per IP answered by two MACs, +1 per known non-sleeping device missing >= 1 h. */
function runRules(sim: SimScenario): MethodRun {
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
  return { scores, threshold: NaN };
}

function budgetThreshold(scores: number[], from: number, to: number, spanSeconds: number): number {
  const s = scores.slice(from, to);
  return chooseThreshold(s, spanSeconds, { budgetPerWeek: BUDGET, mergeGap: MERGE, floor: -Infinity, ceiling: Infinity });
}

interface Agg {
  scores: number[];
  labels: number[];
  kinds: (string | null)[];
  events: { kind: string; caught: boolean; scenario: string; note: string }[];
  falseEpisodes: number;
  weeks: number;
  falseByBenign: Map<string, number>;
}

function newAgg(): Agg {
  return { scores: [], labels: [], kinds: [], events: [], falseEpisodes: 0, weeks: 0, falseByBenign: new Map() };
}

function accumulate(agg: Agg, run: ScenarioRun, method: string, alarmsOverride?: boolean[]): void {
  const { sim, testFrom } = run;
  const m = run.methods[method];
  const { labels, kinds } = labelSweeps(sim, MERGE);
  const n = sim.sweeps.length;
  for (let i = testFrom; i < n; i++) {
    agg.scores.push(m.scores[i]);
    agg.labels.push(labels[i]);
    agg.kinds.push(kinds[i]);
  }
  const alarms = new Array<boolean>(n).fill(false);
  for (let i = testFrom; i < n; i++) alarms[i] = alarmsOverride ? alarmsOverride[i] : m.scores[i] >= m.threshold;
  const t0 = sim.sweeps[0].tsSeconds;
  const at = (ts: number) => Math.round((ts - t0) / sim.interval);
  const anomalies = sim.events.filter((e) => e.anomalous && at(e.start) >= testFrom);
  for (const e of anomalies) {
    let caught = false;
    for (let i = at(e.start); i <= at(e.end); i++) if (alarms[i]) caught = true;
    agg.events.push({ kind: e.kind, caught, scenario: sim.name, note: e.note });
  }
  for (const ep of episodes(alarms, MERGE)) {
    const hit = sim.events.some((e) => e.anomalous && at(e.start) <= ep.to && at(e.end) + MERGE >= ep.from);
    if (hit) continue;
    agg.falseEpisodes++;
    const benign = sim.events.filter((e) => !e.anomalous && e.kind !== 'extender_nat' && at(e.start) - 6 <= ep.to && at(e.end) + 36 >= ep.from).map((e) => e.kind);
    const key = benign.length ? [...new Set(benign)].join('+') : 'unexplained';
    agg.falseByBenign.set(key, (agg.falseByBenign.get(key) ?? 0) + 1);
  }
  agg.weeks += ((n - testFrom) * sim.interval) / (7 * 86400);
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Best catch rate at <= 1 false-alarm episode/week if the threshold were picked on the test half (descriptive only). */
function oracleCatch(runs: ScenarioRun[], method: string): number {
  const all = runs.flatMap((r) => r.methods[method].scores.slice(r.testFrom));
  const cands = [...new Set(all)].sort((a, b) => b - a);
  const step = Math.max(1, Math.floor(cands.length / 400));
  let best = 0;
  for (let c = 0; c < cands.length; c += step) {
    const thr = cands[c];
    const agg = newAgg();
    for (const r of runs) {
      const n = r.sim.sweeps.length;
      const alarms = r.methods[method].scores.map((s, i) => i >= r.testFrom && s >= thr);
      void n;
      accumulate(agg, r, method, alarms);
    }
    if (agg.falseEpisodes / agg.weeks <= BUDGET) best = Math.max(best, agg.events.filter((e) => e.caught).length / agg.events.length);
    else break;
  }
  return best;
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
  const office = officeHistory(seed, WEEKS);
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
  const dense = officeHistory(seed, WEEKS * 5, 5);
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
  lines.push(`| model: forest (typed arrays, ${engine.options.forests ?? 6} forests × ${engine.options.treesPerForest ?? 10} trees) | ${(info.bytes / 1024).toFixed(0)} KiB |`);
  lines.push(`| feature window (${info.samples} rows) | ${((info.samples * 24 * 8) / 1024).toFixed(0)} KiB of features |`);
  lines.push(`| 1-minute sweeps (${denseInfo.samples} rows in the window): retrain CPU median / max; sum of slices median / max; longest slice; model | ${f1(median(denseRun.cpu))} / ${f1(maxOf(denseRun.cpu))} ms; ${f1(median(denseRun.sliceCpu))} / ${f1(maxOf(denseRun.sliceCpu))} ms; ${f1(denseRun.longestSlice)} ms; ${(denseInfo.bytes / 1024).toFixed(0)} KiB |`);
  return lines;
}

async function main(): Promise<void> {
  if (args.includes('--cost-only')) {
    // quick look at the cost figures; bench/ANOMALY.md is left alone
    console.log((await liveMeasure(SEEDS[0])).join('\n'));
    return;
  }
  const runs: ScenarioRun[] = [];
  const started = performance.now();
  for (const seed of SEEDS) {
    for (const kind of ['household', 'office'] as const) {
      const sim = simulateScenario(kind, { seed, weeks: WEEKS });
      const testFrom = sim.sweeps.findIndex((s) => s.tsSeconds > sim.trainUntil);
      const trainSpan = sim.trainUntil - sim.sweeps[0].tsSeconds + sim.interval;
      const ours = await runOurs(sim, seed);
      const anc = runAncestor(sim, seed) as MethodRun & { flags: boolean[] };
      const rules = runRules(sim);
      rules.threshold = budgetThreshold(rules.scores, 0, testFrom, trainSpan);
      anc.threshold = budgetThreshold(anc.scores, 50, testFrom, trainSpan - 50 * sim.interval);
      runs.push({ sim, testFrom, methods: { 'ghost-hunter': ours, 'ancestor (IF on count)': anc, rules } });
    }
  }
  const out: string[] = [];
  out.push('# Anomaly detection: evaluation');
  out.push('');
  out.push(`Generated by \`npm run eval:anomaly\` (bench/eval-anomaly.ts). Seeds ${SEEDS.join(', ')}; household and small office; ${WEEKS} weeks of 5-minute sweeps each; trained on the first half, scored on the second. Thresholds come from the false-alarm budget (${BUDGET}/week) on the training half only.`);
  out.push('');
  out.push('Labels: a sweep is anomalous from the moment its event is observable (the 2nd sweep of a missing device / segment, the first new MAC of a re-randomizing device) to the end of the event; the sweeps before that and 6 sweeps after the end are left out of ROC/PR. An event is caught if any sweep of it alarms; alarms are merged into episodes across gaps of ≤ 6 sweeps, and an episode touching no anomaly is a false alarm.');
  out.push('');
  out.push('## Overall (test halves, all scenarios)');
  out.push('');
  out.push('| method | ROC AUC | avg precision | events caught | false-alarm episodes / week | best catch at ≤ 1 FA/week (threshold picked on test, descriptive) |');
  out.push('|---|---|---|---|---|---|');
  const perKind: Record<string, Record<string, { auc: number; ap: number; caught: string }>> = {};
  const falseBy: Record<string, Map<string, number>> = {};
  for (const method of METHODS) {
    const agg = newAgg();
    for (const r of runs) accumulate(agg, r, method);
    const auc = rocAuc(agg.scores, agg.labels);
    const ap = averagePrecision(agg.scores, agg.labels);
    const caught = agg.events.filter((e) => e.caught).length;
    const oracle = oracleCatch(runs, method);
    out.push(`| ${method} | ${fmt(auc)} | ${fmt(ap)} | ${caught}/${agg.events.length} (${fmt((100 * caught) / agg.events.length, 0)} %) | ${fmt(agg.falseEpisodes / agg.weeks, 2)} | ${fmt(100 * oracle, 0)} % |`);
    perKind[method] = {};
    falseBy[method] = agg.falseByBenign;
    for (const k of ANOMALY_KINDS) {
      const labels = agg.labels.map((l, i) => (l === 1 ? (agg.kinds[i] === k ? 1 : -1) : l));
      const ev = agg.events.filter((e) => e.kind === k);
      perKind[method][k] = { auc: rocAuc(agg.scores, labels), ap: averagePrecision(agg.scores, labels), caught: `${ev.filter((e) => e.caught).length}/${ev.length}` };
    }
    if (method === 'ghost-hunter') {
      const missed = agg.events.filter((e) => !e.caught);
      if (missed.length) console.error('missed:', missed.map((e) => `${e.scenario}/${e.kind} ${e.note}`).join('; '));
    }
  }
  // the ancestor's own 10 % contamination rule
  {
    const agg = newAgg();
    for (const r of runs) accumulate(agg, r, 'ancestor (IF on count)', (r.methods['ancestor (IF on count)'] as MethodRun & { flags: boolean[] }).flags);
    const caught = agg.events.filter((e) => e.caught).length;
    out.push(`| ancestor with its own 10 % contamination | | | ${caught}/${agg.events.length} (${fmt((100 * caught) / agg.events.length, 0)} %) | ${fmt(agg.falseEpisodes / agg.weeks, 2)} | |`);
  }
  out.push('');
  out.push('## Per anomaly kind (ROC AUC / average precision / events caught at the budget threshold)');
  out.push('');
  out.push(`| kind | ${METHODS.join(' | ')} |`);
  out.push(`|---|${METHODS.map(() => '---').join('|')}|`);
  for (const k of ANOMALY_KINDS) out.push(`| ${k} | ${METHODS.map((m) => `${fmt(perKind[m][k].auc)} / ${fmt(perKind[m][k].ap)} / ${perKind[m][k].caught}`).join(' | ')} |`);
  out.push('');
  out.push('## Per scenario (ghost-hunter)');
  out.push('');
  out.push('| scenario | seed | ROC AUC | avg precision | caught | false alarms / week | threshold |');
  out.push('|---|---|---|---|---|---|---|');
  runs.forEach((r, i) => {
    const agg = newAgg();
    accumulate(agg, r, 'ghost-hunter');
    const caught = agg.events.filter((e) => e.caught).length;
    out.push(`| ${r.sim.name} | ${SEEDS[Math.floor(i / 2)]} | ${fmt(rocAuc(agg.scores, agg.labels))} | ${fmt(averagePrecision(agg.scores, agg.labels))} | ${caught}/${agg.events.length} | ${fmt(agg.falseEpisodes / agg.weeks, 2)} | ${fmt(r.methods['ghost-hunter'].threshold)} |`);
  });
  out.push('');
  out.push('False-alarm episodes of ghost-hunter by the benign event they overlap: ' + ([...falseBy['ghost-hunter'].entries()].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'));
  out.push('');
  if (LIVE) {
    out.push('## Cost');
    out.push('');
    // in a fresh process: the evaluation above leaves a large heap whose collections would be charged to the engine
    const cost = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--cost-only', '--seeds', String(SEEDS[0]), '--weeks', String(WEEKS)], { encoding: 'utf8' });
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
