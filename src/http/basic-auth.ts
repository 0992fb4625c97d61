import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { AttemptLimiter } from './attempt-limiter.js';
import { BcryptWorkers, VerifierBusyError, type PasswordVerifier } from './bcrypt-workers.js';

/** Why a request was refused; counted in ghosthunter_http_auth_failures_total. */
export const AUTH_FAILURE_REASONS = ['invalid', 'rate_limited', 'busy'] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export type AuthDecision = { ok: true } | { ok: false; reason: AuthFailureReason | 'missing'; retryAfterSeconds?: number };

/** Verified credentials kept (by keyed hash, never the password): a scrape every few seconds pays bcrypt once. */
const CACHE_SIZE = 256;
/** Uncached checks per client address: 10 at once, then one every 6 s. */
const ATTEMPTS = { burst: 10, refillMs: 6_000, maxClients: 4_096 };

/** The user and password of an `Authorization: Basic` header (scheme in any case, RFC 9110 §11.1), or null. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string; raw: string } | null {
  const m = header ? /^basic[ \t]+([A-Za-z0-9+/]+=*)[ \t]*$/i.exec(header) : null;
  if (!m) return null;
  const raw = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  if (colon < 0) return null;
  return { user: raw.slice(0, colon), password: raw.slice(colon + 1), raw };
}

/**
 * HTTP basic auth against bcrypt hashes, built to survive a flood of wrong passwords:
 * - verified credentials are cached (a bounded LRU keyed by an HMAC of the header, with a
 *   per-process key), so a good client pays one bcrypt compare, not one per scrape;
 * - compares run on a worker thread, at most one at a time with a bounded queue, so the event
 *   loop (scrapes, sweeps) never waits for bcrypt;
 * - uncached attempts are rate-limited per client address.
 * Unknown users are compared against the costliest configured hash, so a wrong user name costs
 * what a wrong password costs. Long-lived: a reload swaps the users (setUsers), keeping the cache
 * entries whose hash did not change.
 */
export class BasicAuth {
  private users = new Map<string, string>();
  /** Compared against for unknown users (its result is never trusted for them). */
  private decoy = '';
  private readonly cache = new Map<string, { user: string; hash: string }>();
  private readonly secret = randomBytes(32);
  readonly failures = new Map<AuthFailureReason, number>(AUTH_FAILURE_REASONS.map((r) => [r, 0]));

  constructor(
    users: Map<string, string>,
    private readonly verifier: PasswordVerifier = new BcryptWorkers(),
    private readonly limiter = new AttemptLimiter(ATTEMPTS),
  ) {
    this.setUsers(users);
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  setUsers(users: Map<string, string>): void {
    this.users = new Map(users);
    let decoy = '';
    let rounds = -1;
    for (const hash of users.values()) {
      const r = bcrypt.getRounds(hash); // hashes are validated by loadWebConfig
      if (r > rounds) [decoy, rounds] = [hash, r];
    }
    this.decoy = decoy;
  }

  /** `client`: the peer's address, the unit of rate limiting. */
  async check(header: string | undefined, client: string): Promise<AuthDecision> {
    const creds = parseBasicAuthorization(header);
    if (!creds) return header ? this.fail('invalid') : { ok: false, reason: 'missing' };
    const key = createHmac('sha256', this.secret).update(creds.raw).digest('base64');
    const hit = this.cache.get(key);
    if (hit && this.users.get(hit.user) === hit.hash) {
      this.cache.delete(key);
      this.cache.set(key, hit); // most recently used last
      return { ok: true };
    }
    const attempt = this.limiter.take(client);
    if (!attempt.ok) return this.fail('rate_limited', attempt.retryAfterSeconds);
    const hash = this.users.get(creds.user);
    let ok: boolean;
    try {
      ok = await this.verifier.verify(creds.password, hash ?? this.decoy);
    } catch (err) {
      // Busy, or a verifier worker died (a fresh one starts with the next check): try again shortly.
      this.limiter.refund(client);
      return this.fail('busy', err instanceof VerifierBusyError ? 1 : 5);
    }
    if (!ok || !hash) return this.fail('invalid');
    this.limiter.refund(client);
    this.cache.set(key, { user: creds.user, hash });
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return { ok: true };
  }

  private fail(reason: AuthFailureReason, retryAfterSeconds?: number): AuthDecision {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    return { ok: false, reason, retryAfterSeconds };
  }
}
