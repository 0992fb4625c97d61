import { Registry } from 'prom-client';

/**
 * Metric families rendered straight to exposition text: the one way around prom-client, for the
 * per-device families only (10 000 devices are 50 000 series; through prom-client objects a scrape
 * cost ~400 ms and ~50 000 short-lived objects). render() returns complete families, each with its
 * HELP and TYPE lines, escaped as the text format requires; the source caches the buffers and
 * re-renders only what changed. Every other metric goes through prom-client's public API.
 */
export interface TextFamilies {
  render(): Buffer[];
}

/** prom-client's registry, followed on /metrics by the text families. */
export class MetricsRegistry extends Registry {
  constructor(private readonly text: TextFamilies) {
    super();
  }

  override async metrics(): Promise<string> {
    return Buffer.concat(await this.metricsParts()).toString();
  }

  /**
   * What /metrics serves, in order: prom-client's families, then the text families' buffers
   * themselves. A scrape of 10 000 devices is never copied into one 5 MB buffer: such copies,
   * two per scrape, kept ~35 MB of garbage in the exporter's RSS.
   */
  async metricsParts(): Promise<Buffer[]> {
    return [Buffer.from((await super.metrics()) + '\n'), ...this.text.render()];
  }
}
