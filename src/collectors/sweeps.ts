import type { Registry } from 'prom-client';
import { registerSnapshotMetric, type Sample } from '../metrics/snapshot-metric.js';
import type { WorkerStats } from '../exporter/worker.js';
import type { ExporterState } from './state.js';

export function registerSweepCollector(registry: Registry, state: ExporterState): void {
  const stat = (fn: (s: WorkerStats) => number | null) => (): Sample[] =>
    state.workers().flatMap((w) => {
      const value = fn(w.stats);
      return value === null ? [] : [{ labels: { interface: w.name }, value }];
    });
  const metrics: [string, 'gauge' | 'counter', string, (s: WorkerStats) => number | null][] = [
    ['ghosthunter_up', 'gauge', '1 if the last sweep of the interface succeeded; 0 if it failed or none has ended yet.', (s) => (s.up ? 1 : 0)],
    ['ghosthunter_sweeps_total', 'counter', 'Sweeps started.', (s) => s.sweeps],
    ['ghosthunter_sweep_errors_total', 'counter', 'Sweeps that failed.', (s) => s.errors],
    ['ghosthunter_sweeps_slow_total', 'counter', 'Sweeps that took longer than scan.interval.', (s) => s.slow],
    ['ghosthunter_sweep_duration_seconds', 'gauge', 'Duration of the last successful sweep, re-probes included.', (s) => s.lastDurationSeconds],
    ['ghosthunter_sweep_addresses', 'gauge', 'Addresses probed by the last successful sweep.', (s) => s.lastAddresses],
    ['ghosthunter_sweep_running', 'gauge', '1 while a sweep of the interface is running.', (s) => (s.running ? 1 : 0)],
    ['ghosthunter_last_sweep_start_timestamp_seconds', 'gauge', 'Start of the latest sweep, running or ended (Unix time).', (s) => (s.lastStartTs === null ? null : s.lastStartTs / 1000)],
    ['ghosthunter_last_sweep_success_timestamp_seconds', 'gauge', 'End of the last successful sweep (Unix time).', (s) => (s.lastSuccessTs === null ? null : s.lastSuccessTs / 1000)],
    ['ghosthunter_arp_requests_sent_total', 'counter', 'ARP requests sent by sweeps.', (s) => s.requestsSent],
    ['ghosthunter_arp_replies_received_total', 'counter', 'ARP replies matched to a sweep request.', (s) => s.replies],
  ];
  for (const [name, type, help, fn] of metrics) registerSnapshotMetric(registry, { name, type, help, collect: stat(fn) });
}
