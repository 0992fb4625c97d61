import type { Registry } from 'prom-client';
import { DECODE_ERROR_REASONS } from '../arp/codec.js';
import { registerSnapshotMetric } from '../metrics/snapshot-metric.js';
import type { ExporterState } from './state.js';

export function registerCaptureCollector(registry: Registry, state: ExporterState): void {
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_arp_frames_received_total',
    type: 'counter',
    help: 'Valid ARP frames captured (sweep replies and passive listening).',
    collect: () => state.workers().map((w) => ({ labels: { interface: w.name }, value: w.capture().frames })),
  });
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_pcap_dropped_packets_total',
    type: 'counter',
    help: 'Packets libpcap dropped because its buffer was full.',
    collect: () => state.workers().map((w) => ({ labels: { interface: w.name }, value: w.capture().dropped })),
  });
  registerSnapshotMetric(registry, {
    name: 'ghosthunter_bogus_frames_total',
    type: 'counter',
    help: 'Captured frames the ARP decoder rejected, by reason.',
    collect: () =>
      state.workers().flatMap((w) => {
        const bogus = w.capture().bogus;
        return DECODE_ERROR_REASONS.map((reason) => ({ labels: { interface: w.name, reason }, value: bogus.get(reason) ?? 0 }));
      }),
  });
}
