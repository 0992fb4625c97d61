// `ghost-hunter anomaly replay --history <file.jsonl> [--train-until <ts>] [--config.file <yaml>]
//   [--seed N] [--tz-offset <minutes>] [--window-days N] [--budget <alarms/week>]`: scores recorded
// sweeps offline and writes one JSON line per scored sweep (see src/anomaly/replay.ts).
import { readFileSync } from 'node:fs';
import { parseHistory, replaySweeps } from '../anomaly/replay.js';
import type { AnomalyOptions, KnownDevice } from '../anomaly/types.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { UsageError } from './errors.js';

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

/** known_devices of a configuration file, validated like the exporter's own (errors name the file and line). */
function knownDevices(file: string): KnownDevice[] {
  try {
    return loadConfigFile(file).known_devices;
  } catch (err) {
    throw err instanceof ConfigError ? new UsageError(err.message) : err;
  }
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
  const known = args['config.file'] ? knownDevices(args['config.file']) : [];
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
