// The engine's few settings chosen on development histories (see Tuning and bench/ANOMALY.md).
import type { Tuning } from './types.js';

export const DEFAULT_TUNING: Tuning = { quietSteepness: 6, dropFloor: 3, alwaysOnFloor: 3 };
