/**
 * Offline replay of recorded sweeps (`ghost-hunter anomaly replay`, src/commands/anomaly-replay.ts):
 * trains on the sweeps up to `trainUntil` (default: the first half), then scores every later sweep
 * with that model frozen (the feature state keeps following the history, past sweeps only). The
 * evaluation harness (bench/eval-anomaly.ts) goes through `replaySweeps` as well.
 */
import { UsageError } from '../commands/errors.js';
import { AnomalyEngine } from './engine.js';
import { normalizeMac } from '../net/mac.js';
import type { AnomalyOptions, AnomalyResult, Contribution, DeviceContribution, KnownDevice, SweepRecord } from './types.js';

export interface ReplayLine {
  /** The scored sweep's time (unix seconds), as in the history file. */
  ts: number;
  score: number | null;
  anomalous: boolean;
  threshold: number | null;
  detectors: Record<string, number>;
  top: Contribution[];
  /** the devices behind the detectors that fire, with since when (unix seconds) */
  devices: DeviceContribution[];
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
  const sorted = [...sweeps].sort((a, b) => a.tsSeconds - b.tsSeconds);
  if (sorted.length < 2) throw new UsageError('replay needs at least two sweeps');
  const trainUntil = opts.trainUntil ?? sorted[Math.floor(sorted.length / 2) - 1].tsSeconds;
  const train = sorted.filter((s) => s.tsSeconds <= trainUntil);
  const rest = sorted.filter((s) => s.tsSeconds > trainUntil);
  if (train.length < 2) throw new UsageError(`--train-until ${trainUntil} leaves fewer than two sweeps to train on`);
  // warm-up = the training part, so the one retrain happens exactly at --train-until
  const engine = new AnomalyEngine(opts.known ?? [], { ...opts.engine, warmupSweeps: train.length });
  engine.restore(train);
  await engine.retrainIfDue();
  for (const s of rest) {
    const r = engine.observe(s);
    onResult({ ts: r.tsSeconds, score: r.score, anomalous: r.anomalous, threshold: r.threshold, detectors: r.detectors, top: r.contributions, devices: r.devices }, r);
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
    out.push({ tsSeconds: o.ts, devices });
  }
  return out;
}
