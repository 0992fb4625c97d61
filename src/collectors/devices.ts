import type { Registry } from 'prom-client';
import { registerSnapshotMetric, type Sample } from '../metrics/snapshot-metric.js';
import type { ExporterState } from './state.js';

/** Per-interface device counts; the per-device families are in device-families.ts. */
export function registerDeviceCollector(registry: Registry, state: ExporterState): void {
  const perInterface = (fn: (w: ReturnType<ExporterState['workers']>[number]) => number) => (): Sample[] =>
    state.workers().map((w) => ({ labels: { interface: w.name }, value: fn(w) }));
  const count = (w: ReturnType<ExporterState['workers']>[number], pred: (d: import('../inventory/inventory.js').Device) => boolean) => {
    let n = 0;
    for (const d of w.inventory.devices.values()) if (pred(d)) n++;
    return n;
  };

  registerSnapshotMetric(registry, { name: 'ghosthunter_devices', type: 'gauge', help: 'Devices present on the interface (from the last sweep and passive ARP).', collect: perInterface((w) => count(w, (d) => d.present)) });
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_devices_unknown',
    type: 'gauge',
    help: 'Present devices that are not in the known-devices list.',
    collect: perInterface((w) => count(w, (d) => d.present && !state.known().has(d.mac))),
  });
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_devices_known_absent',
    type: 'gauge',
    help: 'Known devices seen on the interface before that are absent now.',
    collect: perInterface((w) => count(w, (d) => !d.present && state.known().has(d.mac))),
  });
  registerSnapshotMetric(registry, { name: 'ghosthunter_devices_tracked', type: 'gauge', help: 'Devices in the inventory, present or retained while absent.', collect: perInterface((w) => w.inventory.devices.size) });
  registerSnapshotMetric(registry, { name: 'ghosthunter_devices_overflow_total', type: 'counter', help: 'New MACs not tracked because presence.max_devices was reached.', collect: perInterface((w) => w.inventory.overflow) });
  registerSnapshotMetric(registry, { name: 'ghosthunter_ip_conflicts', type: 'gauge', help: 'IPv4 addresses answered by more than one MAC in the last sweep.', collect: perInterface((w) => w.inventory.conflictCount()) });

  registerSnapshotMetric(registry, {
    name: 'ghosthunter_gateway_info',
    type: 'gauge',
    help: 'Always 1: the default gateway of the interface and the MAC that answers for it.',
    collect: () =>
      state
        .workers()
        .filter((w) => w.inventory.gatewayIp && w.inventory.gatewayMac)
        .map((w) => ({ labels: { interface: w.name, ip: w.inventory.gatewayIp!, mac: w.inventory.gatewayMac! }, value: 1 })),
  });
}
