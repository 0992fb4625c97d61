/**
 * A restart as the exporter does it, in a fresh process (cold JIT): decode a saved anomaly snapshot,
 * restore the engine from it and train once. Run by bench/eval-anomaly.ts; prints one JSON line.
 *   tsx bench/anomaly-restart.ts <meta.json> <rows.bin> <options.json>
 */
import { readFileSync } from 'node:fs';
import { AnomalyEngine } from '../src/anomaly/engine.js';
import { decodeSnapshot } from '../src/anomaly/snapshot-codec.js';

const [metaFile, rowsFile, optionsFile] = process.argv.slice(2);
const opts = JSON.parse(readFileSync(optionsFile, 'utf8')) as ConstructorParameters<typeof AnomalyEngine>[1] & { known: ConstructorParameters<typeof AnomalyEngine>[0] };
const enc = { meta: readFileSync(metaFile, 'utf8'), rows: readFileSync(rowsFile) };
const c0 = process.cpuUsage();
const t0 = performance.now();
const engine = new AnomalyEngine(opts.known, opts);
engine.restoreSnapshot(decodeSnapshot(enc));
const restoreMs = performance.now() - t0;
await engine.retrainIfDue();
const totalMs = performance.now() - t0;
const cpu = process.cpuUsage(c0);
console.log(JSON.stringify({ restoreMs, totalMs, cpuMs: (cpu.user + cpu.system) / 1000, longestSliceMs: engine.lastTrainCost?.longestSliceMs ?? null, ready: engine.status().state === 'ready' }));
