import type { Registry } from 'prom-client';
import { AUTH_FAILURE_REASONS, type AuthFailureReason } from '../http/basic-auth.js';
import { registerScrapeMetric } from '../metrics/scrape-metric.js';

/** What the basic-auth check counts (BasicAuth.failures); absent without --web.config.file users: zeros. */
export interface AuthReadout {
  readonly failures: ReadonlyMap<AuthFailureReason, number>;
}

export function registerHttpAuthCollector(registry: Registry, auth: AuthReadout | undefined): void {
  registerScrapeMetric(registry, {
    name: 'ghosthunter_http_auth_failures_total',
    type: 'counter',
    help: 'Requests refused by basic auth: invalid (wrong or malformed credentials), rate_limited (too many failed log-ins from one address), busy (too many password checks at once).',
    labelNames: ['reason'],
    samples: () => AUTH_FAILURE_REASONS.map((reason) => ({ labels: { reason }, value: auth?.failures.get(reason) ?? 0 })),
  });
}
