import { collectDefaultMetrics } from 'prom-client';
import { MetricsRegistry } from '../metrics/registry.js';
import type { MonitorReadout } from '../monitor/readout.js';
import { registerAnomalyCollector } from './anomaly.js';
import { registerCaptureCollector } from './capture.js';
import { DeviceFamiliesRenderer } from './device-families.js';
import { registerDeviceCollector } from './devices.js';
import { registerEventCollector } from './events.js';
import { registerHttpAuthCollector, type AuthReadout } from './http-auth.js';
import { registerStatusCollector } from './status.js';
import { registerSweepCollector } from './sweeps.js';

/** The one registry served at /metrics; every collector is registered here and nowhere else. */
export function buildRegistry(monitor: MonitorReadout, opts: { processMetrics: boolean; auth?: AuthReadout }): MetricsRegistry {
  const registry = new MetricsRegistry(new DeviceFamiliesRenderer(monitor));
  registerDeviceCollector(registry, monitor);
  registerEventCollector(registry, monitor);
  registerSweepCollector(registry, monitor);
  registerCaptureCollector(registry, monitor);
  registerStatusCollector(registry, monitor);
  registerHttpAuthCollector(registry, opts.auth);
  if (opts.processMetrics) {
    collectDefaultMetrics({ register: registry });
    // Gauges named *_total break the naming rules (`promtool check metrics` rejects them).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  registerAnomalyCollector(registry, monitor);
  return registry;
}
