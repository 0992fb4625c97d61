import { Counter, Gauge, type Registry } from 'prom-client';

export interface Sample<L extends string = string> {
  labels: Record<L, string>;
  value: number;
}

export interface ScrapeMetricSpec<L extends string> {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  labelNames: readonly L[];
  /** The series as they are now: what is not returned is not exported. */
  samples: () => Iterable<Sample<L>>;
}

/**
 * A prom-client Gauge or Counter whose series are read from the monitor's state at scrape time
 * (prom-client's collect hook) and replace the previous scrape's: a device dropped or an
 * interface removed vanishes from /metrics without bookkeeping. Counter totals are kept by the
 * monitor; a prom-client counter only counts up from zero, so each scrape starts from zero and
 * adds the current total.
 */
export function registerScrapeMetric<L extends string>(registry: Registry, spec: ScrapeMetricSpec<L>): void {
  const { type, samples, ...rest } = spec;
  const config = { ...rest, labelNames: [...spec.labelNames], registers: [registry] };
  if (type === 'gauge') {
    new Gauge<L>({
      ...config,
      collect() {
        this.reset();
        for (const s of samples()) this.set(s.labels, s.value);
      },
    });
  } else {
    new Counter<L>({
      ...config,
      collect() {
        this.reset();
        for (const s of samples()) this.inc(s.labels, s.value);
      },
    });
  }
}
