/**
 * Stored form of an EngineSnapshot: the feature window as raw float64 bytes (compact and exact) and
 * everything else as JSON. Decoding checks the shape and says what is wrong; callers then replay the
 * sweep history instead.
 */
import type { FeatureStateSnapshot } from './features.js';

/** Everything needed to resume without replaying history: feature state and window, not the model. */
export interface EngineSnapshot {
  version: number;
  /** what the state was built with; a snapshot built otherwise is not used */
  features: string;
  windowSeconds: number;
  /** absent in snapshots written before it was recorded: those were taken at 300 */
  intervalSeconds?: number;
  tzOffsetMinutes: number;
  gatewayIp: string | null;
  warmupSweeps: number;
  retrainEverySweeps: number;
  /** seed, slots, trees per forest, sample size: the forests (not stored) are rebuilt identically from these */
  forest: string;
  /** the tuned settings the feature state depends on */
  tuning: string;
  sweepsSeen: number;
  lastTs: number;
  dues: [index: number, ts: number][];
  firstDueTs: number | null;
  /** the last scored sweep was at or above the threshold (the minimum-evidence rule carries over a restart) */
  above: boolean;
  state: FeatureStateSnapshot;
  rowTs: number[];
  /** feature vectors, FEATURE_NAMES.length values per row */
  rows: Float64Array;
  /** per row and slot: cached forest term and the due ts of the forest that computed it (saves re-scoring at start) */
  terms: Float64Array;
  termDue: Float64Array;
}

export interface EncodedSnapshot {
  meta: string;
  /** rows, then terms, then termDue (float64 each); their lengths are in meta.blob */
  rows: Buffer;
}

type Meta = Omit<EngineSnapshot, 'rows' | 'terms' | 'termDue'> & { blob: [number, number, number] };

export function encodeSnapshot(snap: EngineSnapshot): EncodedSnapshot {
  const { rows, terms, termDue, ...rest } = snap;
  const meta: Meta = { ...rest, blob: [rows.length, terms.length, termDue.length] };
  const all = new Float64Array(rows.length + terms.length + termDue.length);
  all.set(rows);
  all.set(terms, rows.length);
  all.set(termDue, rows.length + terms.length);
  return { meta: JSON.stringify(meta), rows: Buffer.from(all.buffer) };
}

export function decodeSnapshot(enc: EncodedSnapshot): EngineSnapshot {
  let meta: Meta;
  try {
    meta = JSON.parse(enc.meta) as Meta;
  } catch (err) {
    throw new Error(`anomaly snapshot is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof meta !== 'object' || meta === null || typeof meta.version !== 'number' || typeof meta.state !== 'object' || meta.state === null)
    throw new Error('anomaly snapshot has no version or state');
  for (const k of ['dues', 'rowTs', 'blob'] as const) if (!Array.isArray(meta[k])) throw new Error(`anomaly snapshot field ${k} is not a list`);
  if (!Number.isFinite(meta.lastTs) || !Number.isInteger(meta.sweepsSeen)) throw new Error('anomaly snapshot has no sweep position');
  if (enc.rows.byteLength % 8 !== 0) throw new Error(`anomaly snapshot rows are ${enc.rows.byteLength} bytes, not a whole number of float64 values`);
  // copy: the Buffer may be a view into a pool and need not be 8-byte aligned
  const all = new Float64Array(enc.rows.byteLength / 8);
  new Uint8Array(all.buffer).set(enc.rows);
  const [nRows, nTerms, nDue] = meta.blob;
  if (![nRows, nTerms, nDue].every((n) => Number.isInteger(n) && n >= 0) || nRows + nTerms + nDue !== all.length)
    throw new Error(`anomaly snapshot holds ${all.length} values, its layout says ${meta.blob.join(' + ')}`);
  const { blob: _layout, ...rest } = meta;
  return { ...rest, rows: all.subarray(0, nRows), terms: all.subarray(nRows, nRows + nTerms), termDue: all.subarray(nRows + nTerms) };
}
