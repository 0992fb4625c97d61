import { Registry, collectDefaultMetrics } from 'prom-client';
import { registerCaptureCollector } from './capture.js';
import { registerDeviceCollector } from './devices.js';
import { registerEventCollector } from './events.js';
import { registerExporterCollector } from './exporter.js';
import { registerSweepCollector } from './sweeps.js';
import type { ExporterState } from './state.js';

/** The one registry served at /metrics; every collector is registered here and nowhere else. */
export function buildRegistry(state: ExporterState, opts: { processMetrics: boolean }): Registry {
  const registry = new Registry();
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
