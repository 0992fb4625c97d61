/**
 * Series of the anomaly models. They read the latest result and model state at scrape time, so a
 * scrape never waits for a retrain and never computes anything heavy.
 */
import type { Registry } from 'prom-client';
import { DETECTOR_NAMES } from '../anomaly/detectors.js';
import { FEATURE_NAMES } from '../anomaly/feature-names.js';
import { MAX_DEVICES } from '../anomaly/engine.js';
import type { AnomalyResult, DeviceContribution } from '../anomaly/types.js';
import { registerScrapeMetric } from '../metrics/scrape-metric.js';
import type { AnomalyReadout, MonitorReadout } from '../monitor/readout.js';

const FEATURE_SET = new Set<string>(FEATURE_NAMES);
const DETECTOR_SET = new Set<string>(DETECTOR_NAMES);

const scoreReady = (r: AnomalyResult | null): r is AnomalyResult & { score: number } => !!r && r.state === 'ready' && r.score !== null;

export function registerAnomalyCollector(registry: Registry, monitor: Pick<MonitorReadout, 'anomaly'>): void {
  /** One series per interface, where `value` has one. */
  const perInterface = (name: string, help: string, value: (a: AnomalyReadout) => number | null) =>
    registerScrapeMetric(registry, {
      name,
      type: 'gauge',
      help,
      labelNames: ['interface'],
      samples: function* () {
        for (const [iface, a] of monitor.anomaly()) {
          const v = value(a);
          if (v !== null) yield { labels: { interface: iface }, value: v };
        }
      },
    });
  /** Per interface whose latest sweep was scored, one series per entry (a bounded set of names under `label`). */
  const perEntry = <K extends string>(name: string, help: string, label: K, entries: (r: AnomalyResult) => Iterable<[string, number]>) =>
    registerScrapeMetric<'interface' | K>(registry, {
      name,
      type: 'gauge',
      help,
      labelNames: ['interface', label],
      samples: function* () {
        for (const [iface, { result }] of monitor.anomaly()) {
          if (!scoreReady(result)) continue;
          for (const [key, value] of entries(result)) yield { labels: { interface: iface, [label]: key } as Record<'interface' | K, string>, value };
        }
      },
    });

  perInterface('ghosthunter_anomaly_score', 'Combined anomaly score of the latest sweep (0-1); absent while the model is training.', ({ result }) => (scoreReady(result) ? result.score : null));
  perInterface('ghosthunter_anomaly_threshold', 'Score at which a sweep counts as anomalous: each detector is calibrated on the training window for its share of the false-alarm budget so that it fires at 0.5.', ({ status }) => status.threshold);
  perInterface('ghosthunter_anomalous', '1 when the latest sweep and the one before scored at or above the threshold, else 0; absent while training.', ({ result }) => (scoreReady(result) ? (result.anomalous ? 1 : 0) : null));
  perEntry('ghosthunter_anomaly_detector_score', 'Score (0-1) of each explainable detector for the latest sweep.', 'detector', (r) =>
    Object.entries(r.detectors).filter(([detector]) => DETECTOR_SET.has(detector)),
  );
  perInterface('ghosthunter_anomaly_model_ready', '0 while the model is training (warm-up), 1 when sweeps are scored.', ({ status }) => (status.state === 'ready' ? 1 : 0));
  perInterface('ghosthunter_anomaly_model_samples', 'Sweeps in the sliding training window.', ({ status }) => status.samples);
  perInterface('ghosthunter_anomaly_model_last_trained_timestamp_seconds', 'Timestamp of the last sweep included in the last training.', ({ status }) => status.lastTrainedTsSeconds);
  /** The devices behind the detectors that fire (at most MAX_DEVICES per interface, names from the fixed detector list). */
  const perDevice = (name: string, help: string, value: (d: DeviceContribution) => number) =>
    registerScrapeMetric<'interface' | 'mac' | 'detector'>(registry, {
      name,
      type: 'gauge',
      help,
      labelNames: ['interface', 'mac', 'detector'],
      samples: function* () {
        for (const [iface, { result }] of monitor.anomaly()) {
          if (!scoreReady(result)) continue;
          for (const d of result.devices.slice(0, MAX_DEVICES)) if (DETECTOR_SET.has(d.detector)) yield { labels: { interface: iface, mac: d.mac, detector: d.detector }, value: value(d) };
        }
      },
    });
  perDevice('ghosthunter_anomaly_device_contribution', 'Weight (0-1) of each device behind the detectors that fire on the latest sweep; at most 5 devices per interface.', (d) => d.weight);
  perDevice('ghosthunter_anomaly_device_since_timestamp_seconds', 'Since when each device behind a firing detector is involved (missing since, first seen); at most 5 devices per interface.', (d) => d.sinceTsSeconds);
  perEntry('ghosthunter_anomaly_feature_contribution', 'Weight (0-1) of the top features explaining the latest score; bounded set of feature names.', 'feature', (r) =>
    r.contributions.filter((c) => FEATURE_SET.has(c.feature)).map((c): [string, number] => [c.feature, c.weight]),
  );
}
