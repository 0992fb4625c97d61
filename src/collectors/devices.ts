import type { Registry } from 'prom-client';
import type { Device } from '../inventory/inventory.js';
import { registerScrapeMetric } from '../metrics/scrape-metric.js';
import type { MonitorReadout, SegmentReadout } from '../monitor/readout.js';

/** Per-interface device counts; the per-device families are in device-families.ts. */
export function registerDeviceCollector(registry: Registry, monitor: MonitorReadout): void {
  const perInterface = (name: string, type: 'gauge' | 'counter', help: string, value: (s: SegmentReadout) => number) =>
    registerScrapeMetric(registry, { name, type, help, labelNames: ['interface'], samples: () => monitor.segments().map((s) => ({ labels: { interface: s.name }, value: value(s) })) });
  const count = (s: SegmentReadout, pred: (d: Readonly<Device>) => boolean) => {
    let n = 0;
    for (const d of s.inventory.devices.values()) if (pred(d)) n++;
    return n;
  };

  perInterface('ghosthunter_devices', 'gauge', 'Devices present on the interface (from the last sweep and passive ARP).', (s) => count(s, (d) => d.present));
  perInterface('ghosthunter_devices_unknown', 'gauge', 'Present devices that are not in the known-devices list.', (s) => count(s, (d) => d.present && !monitor.known().has(d.mac)));
  perInterface('ghosthunter_devices_known_absent', 'gauge', 'Known devices seen on the interface before that are absent now.', (s) => count(s, (d) => !d.present && monitor.known().has(d.mac)));
  perInterface('ghosthunter_devices_tracked', 'gauge', 'Devices in the inventory, present or retained while absent.', (s) => s.inventory.devices.size);
  perInterface('ghosthunter_devices_overflow_total', 'counter', 'New MACs not tracked because presence.max_devices was reached.', (s) => s.inventory.overflow);
  perInterface('ghosthunter_ip_conflicts', 'gauge', 'IPv4 addresses answered by more than one MAC in the last sweep.', (s) => s.inventory.conflictCount());

  registerScrapeMetric(registry, {
    name: 'ghosthunter_gateway_info',
    type: 'gauge',
    help: 'Always 1: the default gateway of the interface and the MAC that answers for it.',
    labelNames: ['interface', 'ip', 'mac'],
    samples: () =>
      monitor.segments().flatMap((s) => {
        const { gatewayIp, gatewayMac } = s.inventory;
        return gatewayIp && gatewayMac ? [{ labels: { interface: s.name, ip: gatewayIp, mac: gatewayMac }, value: 1 }] : [];
      }),
  });
}
