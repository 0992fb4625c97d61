import type { Registry } from 'prom-client';
import { registerScrapeMetric } from '../metrics/scrape-metric.js';
import type { MonitorReadout } from '../monitor/readout.js';
import { REVISION, VERSION } from '../version.js';

/** The exporter's own state: build, configuration reloads, state store. */
export function registerStatusCollector(registry: Registry, monitor: MonitorReadout): void {
  const single = (name: string, type: 'gauge' | 'counter', help: string, value: () => number) =>
    registerScrapeMetric(registry, { name, type, help, labelNames: [], samples: () => [{ labels: {}, value: value() }] });
  registerScrapeMetric(registry, {
    name: 'ghosthunter_build_info',
    type: 'gauge',
    help: 'Always 1: version of the running exporter.',
    labelNames: ['version', 'revision', 'nodeversion'],
    samples: () => [{ labels: { version: VERSION, revision: REVISION, nodeversion: process.version }, value: 1 }],
  });
  single('ghosthunter_config_last_reload_successful', 'gauge', '1 if the last configuration reload succeeded.', () => (monitor.reload().successful ? 1 : 0));
  single('ghosthunter_config_last_reload_success_timestamp_seconds', 'gauge', 'When the configuration was last loaded successfully (Unix time).', () => monitor.reload().lastSuccessMs / 1000);
  single('ghosthunter_store_writable', 'gauge', '1 if the last write to the state store succeeded.', () => (monitor.store().writable ? 1 : 0));
  single('ghosthunter_store_errors_total', 'counter', 'Failed writes to the state store.', () => monitor.store().errors);
}
