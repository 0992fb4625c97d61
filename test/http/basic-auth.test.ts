// Basic auth against bcrypt hashes, and what a flood of wrong passwords can and cannot do to it.
// The mechanisms are asserted (compares counted, concurrency bounded, cache hits, rate limits);
// the event-loop delay during a flood is printed and only checked against a loose sanity bound.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { AttemptLimiter } from '../../src/http/attempt-limiter.js';
import { BasicAuth, parseBasicAuthorization, type AuthDecision } from '../../src/http/basic-auth.js';
import { BcryptWorkers, type PasswordVerifier } from '../../src/http/bcrypt-workers.js';

const HASH4 = bcrypt.hashSync('s3cret', 4);
const reasonOf = (d: AuthDecision) => (d.ok ? 'ok' : d.reason);
const header = (user: string, password: string, scheme = 'Basic') => `${scheme} ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The real worker pool, with every compare counted (and the hash it was against). */
class CountingVerifier implements PasswordVerifier {
  readonly hashes: string[] = [];
  constructor(readonly workers = new BcryptWorkers()) {}
  verify(password: string, hash: string): Promise<boolean> {
    this.hashes.push(hash);
    return this.workers.verify(password, hash);
  }
}

const pools: BcryptWorkers[] = [];
function authWith(users: [string, string][], limiter?: AttemptLimiter) {
  const verifier = new CountingVerifier();
  pools.push(verifier.workers);
  return { auth: new BasicAuth(new Map(users), verifier, limiter), verifier };
}
after(() => Promise.all(pools.map((p) => p.close())));

describe('parseBasicAuthorization', () => {
  it('the scheme is case-insensitive (RFC 9110 §11.1); only the first colon separates', () => {
    for (const scheme of ['Basic', 'basic', 'BASIC', 'bAsIc']) {
      assert.deepEqual(parseBasicAuthorization(header('u', 'a:b', scheme)), { user: 'u', password: 'a:b', raw: 'u:a:b' }, scheme);
    }
    assert.equal(parseBasicAuthorization(`basic   ${Buffer.from('u:p').toString('base64')}  `)?.password, 'p');
  });

  it('anything else is no credentials', () => {
    for (const h of [undefined, '', 'Bearer abc', 'Basic', 'Basic ', 'Basic !!!', 'BasicdTpw', `Basic ${Buffer.from('no-colon').toString('base64')}`, `Digest ${Buffer.from('u:p').toString('base64')}`]) {
      assert.equal(parseBasicAuthorization(h), null, String(h));
    }
  });
});

describe('BasicAuth', () => {
  it('is enabled only with users', () => {
    assert.equal(authWith([]).auth.enabled, false);
    assert.equal(authWith([['a', HASH4]]).auth.enabled, true);
  });

  it('accepts the right password in any scheme case and refuses wrong ones', async () => {
    const { auth } = authWith([['prometheus', HASH4]]);
    assert.deepEqual(await auth.check(header('prometheus', 's3cret', 'basic'), 'c1'), { ok: true });
    for (const [u, p] of [['prometheus', 'wrong'], ['prometheus', ''], ['Prometheus', 's3cret']]) {
      assert.deepEqual(await auth.check(header(u, p), 'c1'), { ok: false, reason: 'invalid', retryAfterSeconds: undefined }, `${u}:${p}`);
    }
    assert.deepEqual(await auth.check(undefined, 'c1'), { ok: false, reason: 'missing' });
    assert.equal((await auth.check('Basic !!!', 'c1')).ok, false);
  });

  it('an unknown user costs one compare at the cost of the costliest real hash', async () => {
    const hash10 = bcrypt.hashSync('other', 10);
    const { auth, verifier } = authWith([['prometheus', HASH4], ['grafana', hash10]]);
    assert.equal((await auth.check(header('mallory', 's3cret'), 'c1')).ok, false, "another user's password does not open an unknown name");
    assert.deepEqual(verifier.hashes, [hash10]);
  });

  it('verified credentials are cached; failures are not, and do not evict the good entry', async () => {
    const { auth, verifier } = authWith([['prometheus', HASH4]]);
    assert.equal((await auth.check(header('prometheus', 's3cret'), 'c1')).ok, true);
    assert.equal((await auth.check(header('prometheus', 's3cret', 'BASIC'), 'c2')).ok, true);
    assert.equal(verifier.hashes.length, 1, 'the second check (same credentials, any client) is served from the cache');
    assert.equal((await auth.check(header('prometheus', 'wrong'), 'c1')).ok, false);
    assert.equal((await auth.check(header('prometheus', 'wrong'), 'c1')).ok, false);
    assert.equal(verifier.hashes.length, 3, 'failures always pay bcrypt');
    assert.equal((await auth.check(header('prometheus', 's3cret'), 'c1')).ok, true);
    assert.equal(verifier.hashes.length, 3);
  });

  it('the cache is a bounded LRU', async () => {
    const users: [string, string][] = Array.from({ length: 300 }, (_, i) => [`u${i}`, HASH4]);
    const { auth, verifier } = authWith(users);
    for (const [u] of users) assert.equal((await auth.check(header(u, 's3cret'), u)).ok, true);
    assert.equal(verifier.hashes.length, 300);
    await auth.check(header('u299', 's3cret'), 'x');
    assert.equal(verifier.hashes.length, 300, 'recent entries are cached');
    await auth.check(header('u0', 's3cret'), 'x');
    assert.equal(verifier.hashes.length, 301, 'the oldest were evicted (256 entries kept)');
  });

  it('a reload keeps cached entries whose hash is unchanged and drops the others', async () => {
    const { auth, verifier } = authWith([['a', HASH4], ['b', HASH4]]);
    await auth.check(header('a', 's3cret'), 'c');
    await auth.check(header('b', 's3cret'), 'c');
    const newB = bcrypt.hashSync('new', 4);
    auth.setUsers(new Map([['a', HASH4], ['b', newB]]));
    assert.equal((await auth.check(header('a', 's3cret'), 'c')).ok, true);
    assert.equal(verifier.hashes.length, 2, 'a: still cached');
    assert.equal((await auth.check(header('b', 's3cret'), 'c')).ok, false, 'the old password of b no longer opens');
    assert.equal((await auth.check(header('b', 'new'), 'c')).ok, true);
    auth.setUsers(new Map([['b', newB]]));
    assert.equal((await auth.check(header('a', 's3cret'), 'c')).ok, false, 'a removed user is refused although cached');
  });

  it('a flood of wrong passwords: bounded compares, one at a time, rate-limited per client; a cached scrape is untouched', async () => {
    const hash10 = bcrypt.hashSync('s3cret', 10);
    let now = 0;
    const limiter = new AttemptLimiter({ burst: 10, refillMs: 6_000, maxClients: 4096 }, () => now);
    const { auth, verifier } = authWith([['prometheus', hash10]], limiter);
    assert.equal((await auth.check(header('prometheus', 's3cret'), 'prometheus-host')).ok, true);
    const before = verifier.hashes.length;
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    // 64 clients on one attacking host, 10 wrong passwords each, all at once.
    const flood = Promise.all(Array.from({ length: 640 }, (_, i) => auth.check(header('prometheus', `guess${i}`), 'attacker')));
    const scrapes = await Promise.all(Array.from({ length: 20 }, () => auth.check(header('prometheus', 's3cret'), 'prometheus-host')));
    const results = await flood;
    lag.disable();
    assert.ok(scrapes.every((r) => r.ok), 'every scrape with the good password is let in');
    assert.equal(results.filter((r) => r.ok).length, 0);
    const compares = verifier.hashes.length - before;
    assert.ok(compares <= 10, `at most the burst of 10 compares for one client, got ${compares}`);
    assert.equal(results.filter((r) => !r.ok && r.reason === 'rate_limited').length, 640 - compares);
    assert.ok(results.every((r) => r.ok || r.reason !== 'rate_limited' || (r.retryAfterSeconds ?? 0) >= 1), 'rate-limited answers say when to retry');
    assert.equal(verifier.workers.peakActive, 1, 'one compare at a time');
    assert.equal(auth.failures.get('rate_limited'), 640 - compares);
    // A second host is not throttled by the first.
    assert.equal(reasonOf(await auth.check(header('prometheus', 'wrong'), 'other-host')), 'invalid');
    // Time refills the attacker's bucket slowly: one attempt per 6 s.
    now += 6_000;
    assert.equal(reasonOf(await auth.check(header('prometheus', 'x'), 'attacker')), 'invalid');
    assert.equal(reasonOf(await auth.check(header('prometheus', 'y'), 'attacker')), 'rate_limited');
    const p99 = lag.percentile(99) / 1e6;
    console.log(`flood: ${compares} compares for 640 wrong passwords; event-loop delay p99 ${p99.toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms`);
    assert.ok(p99 < 200, `compares stay off the main thread (event-loop delay p99 ${p99.toFixed(1)} ms)`);
  });

  it('a full queue answers "busy" at once instead of queueing more work', async () => {
    const hash10 = bcrypt.hashSync('s3cret', 10);
    const verifier = new CountingVerifier(new BcryptWorkers(1, 2));
    pools.push(verifier.workers);
    const auth = new BasicAuth(new Map([['prometheus', hash10]]), verifier);
    // Many hosts (each within its own rate limit) at once: 1 compare runs, 2 wait, the rest are refused.
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => auth.check(header('prometheus', `guess${i}`), `host${i}`)));
    assert.equal(verifier.workers.peakActive, 1);
    assert.equal(results.filter((r) => !r.ok && r.reason === 'busy').length, 5);
    assert.equal(results.filter((r) => !r.ok && r.reason === 'invalid').length, 3);
  });
});

describe('AttemptLimiter', () => {
  it('forgets the least recently seen client beyond its bound', () => {
    const limiter = new AttemptLimiter({ burst: 1, refillMs: 60_000, maxClients: 2 }, () => 0);
    assert.equal(limiter.take('a').ok, true);
    assert.equal(limiter.take('a').ok, false);
    limiter.take('b');
    limiter.take('c');
    assert.equal(limiter.size, 2);
    assert.equal(limiter.take('a').ok, true, 'a was forgotten: a fresh bucket');
  });
});
