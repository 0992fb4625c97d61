import type { Registry } from 'prom-client';
import { EVENT_KINDS } from '../inventory/inventory.js';
import { registerScrapeMetric } from '../metrics/scrape-metric.js';
import { EVENT_LIMITS } from '../monitor/event-limiter.js';
import type { MonitorReadout } from '../monitor/readout.js';

export function registerEventCollector(registry: Registry, monitor: MonitorReadout): void {
  registerScrapeMetric(registry, {
    name: 'ghosthunter_events_total',
    type: 'counter',
    help: 'Inventory events by kind: new_device, device_gone, device_back, ip_changed, ip_conflict, gateway_mac_changed.',
    labelNames: ['interface', 'kind'],
    samples: () => monitor.segments().flatMap((s) => EVENT_KINDS.map((kind) => ({ labels: { interface: s.name, kind }, value: s.events.get(kind) ?? 0 }))),
  });
  registerScrapeMetric(registry, {
    name: 'ghosthunter_events_suppressed_total',
    type: 'counter',
    help: `Events counted in ghosthunter_events_total but not logged or stored one by one: more than ${EVENT_LIMITS.burst} of one device and kind in ${EVENT_LIMITS.windowMs / 60_000} minutes (the latest is stored with the count when the window ends).`,
    labelNames: ['interface', 'kind'],
    samples: () => monitor.segments().flatMap((s) => EVENT_KINDS.map((kind) => ({ labels: { interface: s.name, kind }, value: s.eventsSuppressed.get(kind) ?? 0 }))),
  });
}
