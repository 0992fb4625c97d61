import type { Registry } from 'prom-client';
import { EVENT_KINDS } from '../inventory/inventory.js';
import { registerSnapshotMetric } from '../metrics/snapshot-metric.js';
import type { ExporterState } from './state.js';

export function registerEventCollector(registry: Registry, state: ExporterState): void {
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_events_total',
    type: 'counter',
    help: 'Inventory events by kind: new_device, device_gone, device_back, ip_changed, ip_conflict, gateway_mac_changed.',
    collect: () => state.workers().flatMap((w) => EVENT_KINDS.map((kind) => ({ labels: { interface: w.name, kind }, value: w.events.get(kind) ?? 0 }))),
  });
}
