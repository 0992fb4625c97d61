// The engine's few settings chosen on development histories (see Tuning and bench/ANOMALY.md).
import type { Tuning } from './types.js';

/** Chosen by `npm run eval:anomaly -- --tune` on both generators' development seeds (bench/anomaly/tuning.json). */
export const DEFAULT_TUNING: Tuning = { quietSteepness: 6, dropFloor: 3.5, alwaysOnFloor: 2.5 };
