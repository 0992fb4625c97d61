/**
 * Stored form of an EngineSnapshot: the feature window as raw float64 bytes (compact and exact) and
 * everything else as JSON. Decoding checks the shape and says what is wrong; callers then replay the
 * sweep history instead.
 */
import type { EngineSnapshot } from './engine.js';

export interface EncodedSnapshot {
  meta: string;
  rows: Buffer;
}

export function encodeSnapshot(snap: EngineSnapshot): EncodedSnapshot {
  const { rows, ...meta } = snap;
  return { meta: JSON.stringify(meta), rows: Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength) };
}

export function decodeSnapshot(enc: EncodedSnapshot): EngineSnapshot {
  let meta: Omit<EngineSnapshot, 'rows'>;
  try {
    meta = JSON.parse(enc.meta) as Omit<EngineSnapshot, 'rows'>;
  } catch (err) {
    throw new Error(`anomaly snapshot is not valid JSON: ${(err as Error).message}`);
  }
  const arrays: (keyof typeof meta)[] = ['dues', 'rowTs'];
  if (typeof meta !== 'object' || meta === null || typeof meta.version !== 'number' || typeof meta.state !== 'object' || meta.state === null)
    throw new Error('anomaly snapshot has no version or state');
  for (const k of arrays) if (!Array.isArray(meta[k])) throw new Error(`anomaly snapshot field ${k} is not a list`);
  if (!Number.isFinite(meta.lastTs) || !Number.isInteger(meta.sweepsSeen)) throw new Error('anomaly snapshot has no sweep position');
  if (enc.rows.byteLength % 8 !== 0) throw new Error(`anomaly snapshot rows are ${enc.rows.byteLength} bytes, not a whole number of float64 values`);
  // copy: the Buffer may be a view into a pool and need not be 8-byte aligned
  const rows = new Float64Array(enc.rows.byteLength / 8);
  new Uint8Array(rows.buffer).set(enc.rows);
  return { ...meta, rows };
}
