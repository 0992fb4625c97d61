// What the collectors (/metrics) and the HTTP views may read of the running monitor: exactly
// what they use, read-only. Monitor and SegmentMonitor implement these; tests fake them.
import type { AnomalyResult, EngineStatus } from '../anomaly/types.js';
import type { KnownDeviceConfig } from '../config/schema.js';
import type { Device, EventKind, InventoryVersions } from '../inventory/inventory.js';
import type { SegmentStats } from './sweep-stats.js';

/** One interface's devices, keyed by MAC. */
export interface InventoryReadout {
  readonly devices: ReadonlyMap<string, Readonly<Device>>;
  /** Bumped when a kind of device field changes, so renderers can cache (see Inventory.versions). */
  readonly versions: Readonly<InventoryVersions>;
  /** New MACs refused because presence.max_devices was reached. */
  readonly overflow: number;
  readonly gatewayIp: string | null;
  readonly gatewayMac: string | null;
  conflictCount(): number;
}

/** Frames captured on the interface since start-up, across capture sessions. */
export interface CaptureTotals {
  frames: number;
  dropped: number;
  /** Frames the decoder rejected, by reason. */
  bogus: ReadonlyMap<string, number>;
}

/** One monitored interface (network segment). */
export interface SegmentReadout {
  readonly name: string;
  readonly stats: SegmentStats;
  /** Inventory events raised so far, by kind (every kind present, zeros included). */
  readonly events: ReadonlyMap<EventKind, number>;
  /** Of those, the ones not logged or stored one by one (rate-limited per device and kind). */
  readonly eventsSuppressed: ReadonlyMap<string, number>;
  readonly inventory: InventoryReadout;
  capture(): CaptureTotals;
}

/** The latest anomaly score and model state of one interface. */
export interface AnomalyReadout {
  result: AnomalyResult | null;
  status: EngineStatus;
}

export interface MonitorReadout {
  segments(): readonly SegmentReadout[];
  /** known_devices by MAC; the same object until a reload changes the config, so renderers can cache on it. */
  known(): ReadonlyMap<string, KnownDeviceConfig>;
  /** By interface; only interfaces with anomaly detection enabled. */
  anomaly(): ReadonlyMap<string, AnomalyReadout>;
  store(): { writable: boolean; errors: number };
  reload(): { successful: boolean; lastSuccessMs: number };
}
