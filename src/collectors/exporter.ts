import type { Registry } from 'prom-client';
import { registerSnapshotMetric } from '../metrics/snapshot-metric.js';
import { REVISION, VERSION } from '../version.js';
import type { ExporterState } from './state.js';

export function registerExporterCollector(registry: Registry, state: ExporterState): void {
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_build_info',
    type: 'gauge',
    help: 'Always 1: version of the running exporter.',
    collect: () => [{ labels: { version: VERSION, revision: REVISION, nodeversion: process.version }, value: 1 }],
  });
  registerSnapshotMetric(registry, { name: 'ghosthunter_config_last_reload_successful', type: 'gauge', help: '1 if the last configuration reload succeeded.', collect: () => [{ labels: {}, value: state.reload().successful ? 1 : 0 }] });
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_config_last_reload_success_timestamp_seconds',
    type: 'gauge',
    help: 'When the configuration was last loaded successfully (Unix time).',
    collect: () => [{ labels: {}, value: state.reload().lastSuccessTs / 1000 }],
  });
  registerSnapshotMetric(registry, { name: 'ghosthunter_store_writable', type: 'gauge', help: '1 if the last write to the state store succeeded.', collect: () => [{ labels: {}, value: state.store().writable ? 1 : 0 }] });
  registerSnapshotMetric(registry, { name: 'ghosthunter_store_errors_total', type: 'counter', help: 'Failed writes to the state store.', collect: () => [{ labels: {}, value: state.store().errors }] });
}
