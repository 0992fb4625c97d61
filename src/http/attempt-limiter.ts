/**
 * A token bucket per client: `burst` attempts at once, then one more every `refillMs`. Bounded:
 * beyond `maxClients` the least recently seen client is forgotten (its bucket starts full again,
 * which only ever helps that client).
 */
export class AttemptLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly opts: { burst: number; refillMs: number; maxClients: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one attempt; false (and the seconds until the next one) when the client has none left. */
  take(client: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const b = this.bucket(client);
    if (b.tokens < 1) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((1 - b.tokens) * this.opts.refillMs) / 1000)) };
    b.tokens -= 1;
    return { ok: true };
  }

  /** Gives an attempt back (it succeeded: a good client is never throttled by its own log-in). */
  refund(client: string): void {
    const b = this.bucket(client);
    b.tokens = Math.min(this.opts.burst, b.tokens + 1);
  }

  get size(): number {
    return this.buckets.size;
  }

  private bucket(client: string): { tokens: number; atMs: number } {
    const now = this.now();
    let b = this.buckets.get(client);
    if (b) {
      this.buckets.delete(client); // re-inserted below: Map order is least recently seen first
      b.tokens = Math.min(this.opts.burst, b.tokens + (now - b.atMs) / this.opts.refillMs);
      b.atMs = now;
    } else {
      b = { tokens: this.opts.burst, atMs: now };
      if (this.buckets.size >= this.opts.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(client, b);
    return b;
  }
}
