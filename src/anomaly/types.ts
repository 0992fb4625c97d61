// Times in the anomaly engine are unix seconds (sweep times), its durations seconds or sweeps.

/** One host that answered ARP in a sweep. `mac` is lower-case aa:bb:cc:dd:ee:ff. */
export interface SweepDevice {
  mac: string;
  ip: string;
}

/** One completed sweep on ONE interface. */
export interface SweepRecord {
  tsSeconds: number;
  devices: SweepDevice[];
}

/** An entry of `known_devices` in the configuration. */
export interface KnownDevice {
  mac: string;
  name?: string;
  class?: string;
  critical?: boolean;
  can_sleep?: boolean;
}

/**
 * The engine's few settings that were chosen on development histories (bench/ANOMALY.md): not part of
 * the configuration, overridable for the evaluation.
 */
export interface Tuning {
  /** How fast an hour stops being quiet for the night detectors as arrivals there become usual: rarity exp(-s * r). */
  quietSteepness: number;
  /** Floor (nats) of the mass-drop detector: how surprising a group of devices vanishing together must at least be. */
  dropFloor: number;
  /** Floor (nats) of the always-on detector: how surprising the longest gap must at least be. */
  alwaysOnFloor: number;
}

export interface AnomalyOptions {
  /** Seconds between sweeps (default 300): the feature windows are hours and days of sweeps at this interval. */
  intervalSeconds: number;
  /** Minimum number of sweeps before anything is scored (default one day of 5-minute sweeps = 288). */
  warmupSweeps: number;
  /** Sliding training window in seconds (default 4 weeks). */
  windowSeconds: number;
  /** Retrain every this many sweeps once warm (default 12). */
  retrainEverySweeps: number;
  /** False-alarm budget the detectors are calibrated for on the training window (default 1 per week). */
  falseAlarmsPerWeek: number;
  /** The gateway's IP; when absent it is inferred as the IP answered in most sweeps, preferring x.x.x.1. */
  gatewayIp?: string;
  /** Seed for the forest's randomness (default 1). */
  seed?: number;
  /** Offset of local time from UTC in minutes, used for hour-of-week context (default: the host's offset now). */
  tzOffsetMinutes?: number;
  /** Number of small forests (default 6) and trees per forest (default 10); each forest has its own sample. */
  forests?: number;
  treesPerForest?: number;
  /** Rows per forest sample (default 256, as in the isolation-forest paper). */
  sampleSize?: number;
  /** Settings chosen on development histories (default DEFAULT_TUNING). */
  tuning?: Partial<Tuning>;
}

export type ModelState = 'training' | 'ready';

export interface Contribution {
  feature: string;
  value: number;
  weight: number;
}

/** A device behind a detector that fires: how much it weighs there (0..1) and since when. */
export interface DeviceContribution {
  mac: string;
  detector: string;
  weight: number;
  /** first missed sweep of a missing device, first sweep of a new one, else the scored sweep */
  sinceTsSeconds: number;
}

export interface AnomalyResult {
  /** The scored sweep's time. */
  tsSeconds: number;
  state: ModelState;
  score: number | null;
  threshold: number | null;
  anomalous: boolean;
  /** Each detector 0..1; the set of names is fixed (see DETECTOR_NAMES). */
  detectors: Record<string, number>;
  /** Top explaining features (names from FEATURE_NAMES), strongest first. */
  contributions: Contribution[];
  /** The devices behind the detectors that fire, strongest first (at most MAX_DEVICES). */
  devices: DeviceContribution[];
  features: Record<string, number>;
  /** Isolation-forest part of the score, 0..1 above its own normal range (null while training). */
  forestScore?: number | null;
}

export interface EngineStatus {
  state: ModelState;
  samples: number;
  /** Time of the last sweep included in the last training. */
  lastTrainedTsSeconds: number | null;
  threshold: number | null;
}
