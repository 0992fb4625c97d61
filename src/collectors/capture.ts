import type { Registry } from 'prom-client';
import { DECODE_ERROR_REASONS } from '../arp/codec.js';
import { registerScrapeMetric } from '../metrics/scrape-metric.js';
import type { MonitorReadout } from '../monitor/readout.js';

export function registerCaptureCollector(registry: Registry, monitor: MonitorReadout): void {
  registerScrapeMetric(registry, {
    name: 'ghosthunter_arp_frames_received_total',
    type: 'counter',
    help: 'Valid ARP frames captured (sweep replies and passive listening).',
    labelNames: ['interface'],
    samples: () => monitor.segments().map((s) => ({ labels: { interface: s.name }, value: s.capture().frames })),
  });
  registerScrapeMetric(registry, {
    name: 'ghosthunter_pcap_dropped_packets_total',
    type: 'counter',
    help: 'Packets libpcap dropped because its buffer was full.',
    labelNames: ['interface'],
    samples: () => monitor.segments().map((s) => ({ labels: { interface: s.name }, value: s.capture().dropped })),
  });
  registerScrapeMetric(registry, {
    name: 'ghosthunter_bogus_frames_total',
    type: 'counter',
    help: 'Captured frames the ARP decoder rejected, by reason.',
    labelNames: ['interface', 'reason'],
    samples: () =>
      monitor.segments().flatMap((s) => {
        const bogus = s.capture().bogus;
        return DECODE_ERROR_REASONS.map((reason) => ({ labels: { interface: s.name, reason }, value: bogus.get(reason) ?? 0 }));
      }),
  });
}
