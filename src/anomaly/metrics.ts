/**
 * Prometheus series of the anomaly engine. Gauges read the latest state in collect(), so a scrape never
 * waits for a retrain and never computes anything heavy.
 */
import { Gauge, type Registry } from 'prom-client';
import type { AnomalyResult, EngineStatus } from './types.js';
import { DETECTOR_NAMES } from './detectors.js';
import { FEATURE_NAMES } from './features.js';

export type AnomalyResultsGetter = () => Map<string, { result: AnomalyResult | null; status: EngineStatus }>;

const FEATURE_SET = new Set<string>(FEATURE_NAMES);
const DETECTOR_SET = new Set<string>(DETECTOR_NAMES);

export function registerAnomalyMetrics(registry: Registry, getResults: AnomalyResultsGetter): void {
  const registers = [registry];
  const scoreReady = (r: AnomalyResult | null): r is AnomalyResult & { score: number } => !!r && r.state === 'ready' && r.score !== null;

  new Gauge({
    name: 'ghosthunter_anomaly_score',
    help: 'Combined anomaly score of the latest sweep (0-1); absent while the model is training.',
    labelNames: ['interface'],
    registers,
    collect() {
      this.reset();
      for (const [iface, { result }] of getResults()) if (scoreReady(result)) this.set({ interface: iface }, result.score);
    },
  });
  new Gauge({
    name: 'ghosthunter_anomaly_threshold',
    help: 'Score threshold chosen from the false-alarm budget on the training window.',
    labelNames: ['interface'],
    registers,
    collect() {
      this.reset();
      for (const [iface, { status }] of getResults()) if (status.threshold !== null) this.set({ interface: iface }, status.threshold);
    },
  });
  new Gauge({
    name: 'ghosthunter_anomalous',
    help: '1 when the latest sweep scored at or above the threshold, else 0; absent while training.',
    labelNames: ['interface'],
    registers,
    collect() {
      this.reset();
      for (const [iface, { result }] of getResults()) if (scoreReady(result)) this.set({ interface: iface }, result.anomalous ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ghosthunter_anomaly_detector_score',
    help: 'Score (0-1) of each explainable detector for the latest sweep.',
    labelNames: ['interface', 'detector'],
    registers,
    collect() {
      this.reset();
      for (const [iface, { result }] of getResults()) {
        if (!scoreReady(result)) continue;
        for (const [detector, v] of Object.entries(result.detectors)) if (DETECTOR_SET.has(detector)) this.set({ interface: iface, detector }, v);
      }
    },
  });
  new Gauge({
    name: 'ghosthunter_anomaly_model_ready',
    help: '0 while the model is training (warm-up), 1 when sweeps are scored.',
    labelNames: ['interface'],
    registers,
    collect() {
      this.reset();
      for (const [iface, { status }] of getResults()) this.set({ interface: iface }, status.state === 'ready' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ghosthunter_anomaly_model_samples',
    help: 'Sweeps in the sliding training window.',
    labelNames: ['interface'],
    registers,
    collect() {
      this.reset();
      for (const [iface, { status }] of getResults()) this.set({ interface: iface }, status.samples);
    },
  });
  new Gauge({
    name: 'ghosthunter_anomaly_model_last_trained_timestamp_seconds',
    help: 'Timestamp of the last sweep included in the last training.',
    labelNames: ['interface'],
    registers,
    collect() {
      this.reset();
      for (const [iface, { status }] of getResults()) if (status.lastTrainedTs !== null) this.set({ interface: iface }, status.lastTrainedTs);
    },
  });
  new Gauge({
    name: 'ghosthunter_anomaly_feature_contribution',
    help: 'Weight (0-1) of the top features explaining the latest score; bounded set of feature names.',
    labelNames: ['interface', 'feature'],
    registers,
    collect() {
      this.reset();
      for (const [iface, { result }] of getResults()) {
        if (!scoreReady(result)) continue;
        for (const c of result.contributions) if (FEATURE_SET.has(c.feature)) this.set({ interface: iface, feature: c.feature }, c.weight);
      }
    },
  });
}
