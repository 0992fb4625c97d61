import type { KnownDeviceConfig } from '../config/schema.js';
import type { InterfaceWorker } from '../exporter/worker.js';

/** What collectors read at scrape time; implemented by the exporter runtime. */
export interface ExporterState {
  workers(): readonly InterfaceWorker[];
  known(): ReadonlyMap<string, KnownDeviceConfig>;
  store(): { writable: boolean; errors: number };
  reload(): { successful: boolean; lastSuccessTs: number };
}
