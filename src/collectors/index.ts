import { Registry, collectDefaultMetrics } from 'prom-client';
import { registerCaptureCollector } from './capture.js';
import { registerDeviceCollector } from './devices.js';
import { registerEventCollector } from './events.js';
import { registerExporterCollector } from './exporter.js';
import { registerSweepCollector } from './sweeps.js';
import { DeviceFamiliesRenderer } from './device-families.js';
import type { ExporterState } from './state.js';

/** prom-client's registry plus the per-device families, which are rendered as cached text. */
export class ExporterRegistry extends Registry {
  constructor(private readonly deviceFamilies: DeviceFamiliesRenderer) {
    super();
  }

  override async metrics(): Promise<string> {
    return Buffer.concat(await this.metricsParts()).toString();
  }

  /**
   * What /metrics serves, in order: prom-client's families, then the cached per-device buffers
   * themselves. A scrape of 10 000 devices is never copied into one 5 MB buffer: such copies,
   * two per scrape, kept ~35 MB of garbage in the exporter's RSS.
   */
  async metricsParts(): Promise<Buffer[]> {
    return [Buffer.from((await super.metrics()) + '\n'), ...this.deviceFamilies.render()];
  }
}

/** The one registry served at /metrics; every collector is registered here and nowhere else. */
export function buildRegistry(state: ExporterState, opts: { processMetrics: boolean }): ExporterRegistry {
  const registry = new ExporterRegistry(new DeviceFamiliesRenderer(state));
  registerDeviceCollector(registry, state);
  registerEventCollector(registry, state);
  registerSweepCollector(registry, state);
  registerCaptureCollector(registry, state);
  registerExporterCollector(registry, state);
  if (opts.processMetrics) {
    collectDefaultMetrics({ register: registry });
    // Gauges named *_total break the naming rules (`promtool check metrics` rejects them).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  return registry;
}
