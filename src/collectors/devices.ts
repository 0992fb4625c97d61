import type { Registry } from 'prom-client';
import { registerSnapshotMetric, type Sample } from '../metrics/snapshot-metric.js';
import type { ExporterState } from './state.js';

export function registerDeviceCollector(registry: Registry, state: ExporterState): void {
  const perInterface = (fn: (w: ReturnType<ExporterState['workers']>[number]) => number) => (): Sample[] =>
    state.workers().map((w) => ({ labels: { interface: w.name }, value: fn(w) }));
  const perDevice = (fn: (d: import('../inventory/inventory.js').Device) => number | null) => (): Sample[] => {
    const out: Sample[] = [];
    for (const w of state.workers()) {
      for (const d of w.inventory.devices.values()) {
        const value = fn(d);
        if (value !== null) out.push({ labels: { interface: w.name, mac: d.mac }, value });
      }
    }
    return out;
  };
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

  registerSnapshotMetric(registry, { name: 'ghosthunter_device_present', type: 'gauge', help: '1 if the device is present, 0 if it is absent (kept until the retention expires).', collect: perDevice((d) => (d.present ? 1 : 0)) });
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_device_info',
    type: 'gauge',
    help: 'Always 1: the current IPv4 address, vendor and configured name of each device, joined on (interface, mac).',
    collect: () => {
      const out: Sample[] = [];
      for (const w of state.workers()) {
        for (const d of w.inventory.devices.values()) {
          const k = state.known().get(d.mac);
          out.push({
            labels: {
              interface: w.name,
              mac: d.mac,
              ip: d.ips[0] ?? '',
              vendor: d.vendor,
              name: k?.name ?? '',
              class: k?.class ?? '',
              known: k ? 'true' : 'false',
              critical: k?.critical ? 'true' : 'false',
              randomized: d.randomized ? 'true' : 'false',
            },
            value: 1,
          });
        }
      }
      return out;
    },
  });
  registerSnapshotMetric(registry, { name: 'ghosthunter_device_first_seen_timestamp_seconds', type: 'gauge', help: 'When the device was first seen (Unix time).', collect: perDevice((d) => d.firstSeen / 1000) });
  registerSnapshotMetric(registry, { name: 'ghosthunter_device_last_seen_timestamp_seconds', type: 'gauge', help: 'When the device last answered or was heard (Unix time).', collect: perDevice((d) => d.lastSeen / 1000) });
  registerSnapshotMetric(registry, { name: 'ghosthunter_device_rtt_seconds', type: 'gauge', help: 'ARP round-trip time of the device\'s last reply to a sweep.', collect: perDevice((d) => (d.lastRttMs === null ? null : d.lastRttMs / 1000)) });
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
