/** Address, request and reply counts of one sweep (all its subnets and re-probes). */
export interface SweepTotals {
  addresses: number;
  requests: number;
  replies: number;
}

/** What the sweeps of one interface have done so far; read by the collectors at scrape time. */
export interface SegmentStats {
  readonly sweeps: number;
  readonly errors: number;
  readonly slow: number;
  readonly up: boolean;
  /** A sweep of the interface is in progress. */
  readonly running: boolean;
  /** Start of the latest sweep, running or ended (epoch ms). */
  readonly lastStartMs: number | null;
  readonly lastDurationSeconds: number;
  readonly lastAddresses: number;
  /** End of the last successful sweep (epoch ms). */
  readonly lastSuccessMs: number | null;
  readonly requestsSent: number;
  readonly replies: number;
  readonly lastError: string | null;
}

/** The counters of SegmentStats and the transitions of a sweep that move them. */
export class SweepStats implements SegmentStats {
  sweeps = 0;
  errors = 0;
  slow = 0;
  up = false;
  running = false;
  lastStartMs: number | null = null;
  lastDurationSeconds = 0;
  lastAddresses = 0;
  lastSuccessMs: number | null = null;
  requestsSent = 0;
  replies = 0;
  lastError: string | null = null;

  started(nowMs: number): void {
    this.sweeps++;
    this.running = true;
    this.lastStartMs = nowMs;
  }

  /** Returns true when the sweep took longer than the interval (a slow sweep, counted). */
  succeeded(totals: SweepTotals, durationMs: number, nowMs: number, intervalMs: number): boolean {
    this.requestsSent += totals.requests;
    this.replies += totals.replies;
    this.lastAddresses = totals.addresses;
    this.lastDurationSeconds = durationMs / 1000;
    this.lastSuccessMs = nowMs;
    this.up = true;
    this.lastError = null;
    const slow = durationMs > intervalMs;
    if (slow) this.slow++;
    return slow;
  }

  failed(message: string): void {
    this.errors++;
    this.up = false;
    this.lastError = message;
  }

  ended(): void {
    this.running = false;
  }
}
