import type { Registry } from 'prom-client';
import { registerScrapeMetric } from '../metrics/scrape-metric.js';
import type { MonitorReadout } from '../monitor/readout.js';
import type { SegmentStats } from '../monitor/sweep-stats.js';

export function registerSweepCollector(registry: Registry, monitor: MonitorReadout): void {
  const metrics: [string, 'gauge' | 'counter', string, (s: SegmentStats) => number | null][] = [
    ['ghosthunter_up', 'gauge', '1 if the last sweep of the interface succeeded; 0 if it failed or none has ended yet.', (s) => (s.up ? 1 : 0)],
    ['ghosthunter_sweeps_total', 'counter', 'Sweeps started.', (s) => s.sweeps],
    ['ghosthunter_sweep_errors_total', 'counter', 'Sweeps that failed.', (s) => s.errors],
    ['ghosthunter_sweeps_slow_total', 'counter', 'Sweeps that took longer than scan.interval.', (s) => s.slow],
    ['ghosthunter_sweep_duration_seconds', 'gauge', 'Duration of the last successful sweep, re-probes included.', (s) => s.lastDurationSeconds],
    ['ghosthunter_sweep_addresses', 'gauge', 'Addresses probed by the last successful sweep.', (s) => s.lastAddresses],
    ['ghosthunter_sweep_running', 'gauge', '1 while a sweep of the interface is running.', (s) => (s.running ? 1 : 0)],
    ['ghosthunter_last_sweep_start_timestamp_seconds', 'gauge', 'Start of the latest sweep, running or ended (Unix time).', (s) => (s.lastStartMs === null ? null : s.lastStartMs / 1000)],
    ['ghosthunter_last_sweep_success_timestamp_seconds', 'gauge', 'End of the last successful sweep (Unix time).', (s) => (s.lastSuccessMs === null ? null : s.lastSuccessMs / 1000)],
    ['ghosthunter_arp_requests_sent_total', 'counter', 'ARP requests sent by sweeps.', (s) => s.requestsSent],
    ['ghosthunter_arp_replies_received_total', 'counter', 'ARP replies matched to a sweep request.', (s) => s.replies],
  ];
  for (const [name, type, help, stat] of metrics) {
    registerScrapeMetric(registry, {
      name,
      type,
      help,
      labelNames: ['interface'],
      samples: () =>
        monitor.segments().flatMap((s) => {
          const value = stat(s.stats);
          return value === null ? [] : [{ labels: { interface: s.name }, value }];
        }),
    });
  }
}
