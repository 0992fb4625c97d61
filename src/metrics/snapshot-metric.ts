import type { Registry } from 'prom-client';

export type Labels = Record<string, string>;
export interface Sample {
  labels: Labels;
  value: number;
}

/**
 * A metric whose samples are read from the exporter's state at scrape time. Unlike a
 * prom-client Gauge it keeps no label-keyed copy of its own, so 10 000 devices cost one pass
 * over the inventory per scrape and stale series (a device dropped, an IP changed) vanish
 * without bookkeeping.
 */
export function registerSnapshotMetric(
  registry: Registry,
  spec: { name: string; help: string; type: 'gauge' | 'counter'; collect: () => Sample[] },
): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type: spec.type,
    aggregator: 'sum',
    get: async () => ({ name: spec.name, help: spec.help, type: spec.type, aggregator: 'sum', values: spec.collect() }),
    reset: () => {},
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
