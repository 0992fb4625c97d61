/**
 * Offline replay: `ghost-hunter anomaly replay --history <file.jsonl> [--train-until <ts>]
 *   [--config.file <yaml>] [--seed N] [--tz-offset <minutes>] [--window-days N] [--budget <alarms/week>]`
 *
 * Trains on the sweeps up to --train-until (default: the first half), then scores every later sweep
 * with that model frozen (the feature state keeps following the history, past sweeps only) and writes
 * one JSON line per scored sweep. The evaluation harness goes through `replaySweeps` as well.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../commands/errors.js';
import { AnomalyEngine } from './engine.js';
import { normalizeMac } from './mac.js';
import type { AnomalyOptions, AnomalyResult, Contribution, KnownDevice, SweepRecord } from './types.js';

export interface ReplayLine {
  ts: number;
  score: number | null;
  anomalous: boolean;
  threshold: number | null;
  detectors: Record<string, number>;
  top: Contribution[];
}

export interface ReplayOptions {
  known?: KnownDevice[];
  trainUntil?: number;
  engine?: Partial<AnomalyOptions>;
}

export interface ReplaySummary {
  trainSweeps: number;
  scoredSweeps: number;
  threshold: number | null;
  modelBytes: number | null;
}

/** Train on sweeps with ts <= trainUntil (default: first half), then score the rest. */
export async function replaySweeps(
  sweeps: SweepRecord[],
  opts: ReplayOptions,
  onResult: (line: ReplayLine, result: AnomalyResult) => void,
): Promise<ReplaySummary> {
  const sorted = [...sweeps].sort((a, b) => a.ts - b.ts);
  if (sorted.length < 2) throw new UsageError('replay needs at least two sweeps');
  const trainUntil = opts.trainUntil ?? sorted[Math.floor(sorted.length / 2) - 1].ts;
  const train = sorted.filter((s) => s.ts <= trainUntil);
  const rest = sorted.filter((s) => s.ts > trainUntil);
  if (train.length < 2) throw new UsageError(`--train-until ${trainUntil} leaves fewer than two sweeps to train on`);
  // warm-up = the training part, so the one retrain happens exactly at --train-until
  const engine = new AnomalyEngine(opts.known ?? [], { ...opts.engine, warmupSweeps: train.length });
  engine.restore(train);
  await engine.retrainIfDue();
  for (const s of rest) {
    const r = engine.observe(s);
    onResult({ ts: r.ts, score: r.score, anomalous: r.anomalous, threshold: r.threshold, detectors: r.detectors, top: r.contributions }, r);
  }
  const info = engine.modelInfo();
  return { trainSweeps: train.length, scoredSweeps: rest.length, threshold: info?.threshold ?? null, modelBytes: info?.bytes ?? null };
}

/** Parse JSONL sweep history; errors name the file and line. */
export function parseHistory(text: string, file: string): SweepRecord[] {
  const out: SweepRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new UsageError(`${where}: malformed JSON (${(e as Error).message})`);
    }
    const o = obj as { ts?: unknown; devices?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.ts !== 'number' || !Number.isFinite(o.ts)) throw new UsageError(`${where}: expected {"ts": <unix seconds>, "devices": [...]}`);
    if (!Array.isArray(o.devices)) throw new UsageError(`${where}: "devices" must be an array`);
    const devices = o.devices.map((d: unknown, j: number) => {
      const dd = d as { mac?: unknown; ip?: unknown };
      if (typeof dd !== 'object' || dd === null || typeof dd.mac !== 'string' || typeof dd.ip !== 'string')
        throw new UsageError(`${where}: devices[${j}] must be {"mac": "...", "ip": "..."}`);
      return { mac: normalizeMac(dd.mac), ip: dd.ip };
    });
    out.push({ ts: o.ts, devices });
  }
  return out;
}

export function parseKnownDevices(text: string, file: string): KnownDevice[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UsageError(`${file}: invalid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const list = (doc as { known_devices?: unknown } | null)?.known_devices;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new UsageError(`${file}: known_devices must be a list`);
  return list.map((k: unknown, i: number) => {
    const kk = k as Record<string, unknown>;
    if (typeof kk !== 'object' || kk === null || typeof kk.mac !== 'string') throw new UsageError(`${file}: known_devices[${i}] needs a "mac"`);
    return {
      mac: normalizeMac(kk.mac),
      name: typeof kk.name === 'string' ? kk.name : undefined,
      class: typeof kk.class === 'string' ? kk.class : undefined,
      critical: kk.critical === true,
      can_sleep: kk.can_sleep === true,
    };
  });
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const allowed = new Set(['history', 'train-until', 'config.file', 'seed', 'tz-offset', 'window-days', 'budget']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    let key = a.slice(2);
    let value: string | undefined;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else value = argv[++i];
    if (!allowed.has(key)) throw new UsageError(`unknown flag --${key} (anomaly replay takes --history, --train-until, --config.file, --seed, --tz-offset, --window-days, --budget)`);
    if (value === undefined) throw new UsageError(`--${key} needs a value`);
    out[key] = value;
  }
  return out;
}

function num(args: Record<string, string>, key: string): number | undefined {
  if (args[key] === undefined) return undefined;
  const n = Number(args[key]);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a number, got "${args[key]}"`);
  return n;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Write to stdout and resolve once the chunk is handed to the OS (the CLI may process.exit() right after). */
function writeStdout(s: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(s, (err) => (err ? reject(err) : resolve())));
}

export async function runAnomalyReplay(argv: string[], out: (s: string) => void | Promise<void> = writeStdout): Promise<number> {
  const args = parseArgs(argv);
  if (!args.history) throw new UsageError('usage: ghost-hunter anomaly replay --history <file.jsonl> [--train-until <ts>] [--config.file <yaml>] [--seed N]');
  const sweeps = parseHistory(readText(args.history, 'history'), args.history);
  const known = args['config.file'] ? parseKnownDevices(readText(args['config.file'], 'config'), args['config.file']) : [];
  const windowDays = num(args, 'window-days');
  const engine: Partial<AnomalyOptions> = {
    seed: num(args, 'seed'),
    tzOffsetMinutes: num(args, 'tz-offset'),
    windowSeconds: windowDays !== undefined ? windowDays * 86400 : undefined,
    falseAlarmsPerWeek: num(args, 'budget'),
  };
  const chunks: string[] = [];
  let buf = '';
  await replaySweeps(sweeps, { known, trainUntil: num(args, 'train-until'), engine }, (line) => {
    buf += JSON.stringify(line) + '\n';
    if (buf.length > 1 << 16) {
      chunks.push(buf);
      buf = '';
    }
  });
  if (buf) chunks.push(buf);
  for (const c of chunks) await out(c);
  return 0;
}
