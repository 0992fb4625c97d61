/**
 * What a history generator hands to the evaluation: the sweeps, the labelled events and what the
 * exporter would know (known_devices, gateway, time zone). Both generators (simulator.ts and
 * generator-b/) produce this, and the evaluation only reads this.
 */
import type { KnownDevice, SweepRecord } from '../../src/anomaly/types.js';

/** The anomaly kinds both generators inject (each in its own shapes). */
export const ANOMALY_KINDS = ['new_burst', 'night_device', 'mass_drop', 'always_on_missing', 'arp_spoof', 'mac_churn'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface SimEvent {
  /** an AnomalyKind when `anomalous`, else the generator's own name of the benign event */
  kind: string;
  anomalous: boolean;
  /** first and last sweep ts of the event (inclusive) */
  start: number;
  end: number;
  /** from this sweep on the event is observable in principle (e.g. the 2nd sweep a device is missing) */
  observableFrom: number;
  note: string;
}

export interface SimScenario {
  /** e.g. "household", "home-b" */
  name: string;
  interval: number;
  sweeps: SweepRecord[];
  events: SimEvent[];
  known: KnownDevice[];
  gatewayIp: string;
  /** minutes east of UTC of the simulated local time */
  tzOffsetMinutes: number;
  /** end of the training part: train on ts <= trainUntil */
  trainUntil: number;
}

/** Index of the sweep at `ts`, or of the first sweep after it (sweeps may have gaps). */
export function sweepIndex(s: SimScenario, ts: number): number {
  let lo = 0;
  let hi = s.sweeps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.sweeps[mid].tsSeconds < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the last sweep at or before `ts`. */
export function sweepIndexAtOrBefore(s: SimScenario, ts: number): number {
  const i = sweepIndex(s, ts);
  return i < s.sweeps.length && s.sweeps[i].tsSeconds === ts ? i : i - 1;
}

/** Per-sweep labels for evaluation: 1 anomalous, 0 normal, -1 don't care (before observable / short tail after an anomaly). */
export function labelSweeps(s: SimScenario, tailSweeps = 6): { labels: Int8Array; kinds: (AnomalyKind | null)[]; eventOf: Int32Array } {
  const n = s.sweeps.length;
  const labels = new Int8Array(n);
  const kinds: (AnomalyKind | null)[] = new Array(n).fill(null);
  const eventOf = new Int32Array(n).fill(-1);
  s.events.forEach((e, k) => {
    if (!e.anomalous) return;
    const a = sweepIndex(s, e.start);
    const o = sweepIndex(s, e.observableFrom);
    const z = sweepIndexAtOrBefore(s, e.end);
    for (let i = a; i <= Math.min(n - 1, z + tailSweeps); i++) {
      if (i >= o && i <= z) {
        labels[i] = 1;
        kinds[i] = e.kind as AnomalyKind;
      } else if (labels[i] !== 1) labels[i] = -1;
      eventOf[i] = k;
    }
  });
  return { labels, kinds, eventOf };
}

/** The history file format of `ghost-hunter anomaly replay`: one {"ts": <unix seconds>, "devices": [...]} per line. */
export function toJsonl(sweeps: SweepRecord[]): string {
  return sweeps.map((s) => JSON.stringify({ ts: s.tsSeconds, devices: s.devices })).join('\n') + '\n';
}
