// Target specs (CIDR, ranges, single addresses) and their expansion with merging, exclusions
// and the safety limit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { intToIpv4, ipv4ToInt } from '../../src/net/ipv4.js';
import { cidrOf, DEFAULT_MAX_ADDRESSES, expandTargets, parseTarget, planSweep, rangeSize, TargetError } from '../../src/net/targets.js';

const ip = ipv4ToInt;
const ips = (a: Uint32Array) => [...a].map(intToIpv4);
const range = (first: string, last: string) => ({ first: ip(first), last: ip(last) });

describe('parseTarget', () => {
  it('CIDR blocks skip the network and broadcast addresses', () => {
    assert.deepEqual(parseTarget('198.18.0.0/24'), range('198.18.0.1', '198.18.0.254'));
    assert.deepEqual(parseTarget('198.18.0.0/22'), range('198.18.0.1', '198.18.3.254'));
    assert.deepEqual(parseTarget('198.18.0.0/16'), range('198.18.0.1', '198.18.255.254'));
    assert.deepEqual(parseTarget('198.18.0.4/30'), range('198.18.0.5', '198.18.0.6'));
    assert.equal(rangeSize(parseTarget('198.18.0.0/24')), 254);
    assert.equal(rangeSize(parseTarget('0.0.0.0/0')), 2 ** 32 - 2);
  });

  it('host bits of a CIDR are ignored (198.18.0.77/24 is the /24)', () => {
    assert.deepEqual(parseTarget('198.18.0.77/24'), parseTarget('198.18.0.0/24'));
    assert.deepEqual(parseTarget('  198.18.0.77/24 '), parseTarget('198.18.0.0/24'));
  });

  it('/31 (RFC 3021 point-to-point) keeps both addresses and /32 is one address', () => {
    assert.deepEqual(parseTarget('198.18.0.4/31'), range('198.18.0.4', '198.18.0.5'));
    assert.deepEqual(parseTarget('198.18.0.5/31'), range('198.18.0.4', '198.18.0.5'));
    assert.deepEqual(parseTarget('198.18.0.9/32'), range('198.18.0.9', '198.18.0.9'));
    assert.deepEqual(parseTarget('255.255.255.255/32'), range('255.255.255.255', '255.255.255.255'));
  });

  it('ranges: full, last-octet shorthand, single address', () => {
    assert.deepEqual(parseTarget('198.18.0.10-198.18.1.20'), range('198.18.0.10', '198.18.1.20'));
    assert.deepEqual(parseTarget('198.18.0.10-20'), range('198.18.0.10', '198.18.0.20'));
    assert.deepEqual(parseTarget('198.18.0.10-10'), range('198.18.0.10', '198.18.0.10'));
    assert.deepEqual(parseTarget('198.18.0.10 - 198.18.0.12'), range('198.18.0.10', '198.18.0.12'));
    assert.deepEqual(parseTarget('198.18.0.7'), range('198.18.0.7', '198.18.0.7'));
  });

  it('bad CIDRs, ranges and addresses throw a TargetError with a one-line message naming the input', () => {
    const cases: [string, RegExp][] = [
      ['198.18.0.0/33', /^invalid CIDR "198\.18\.0\.0\/33": prefix length must be 0-32$/],
      ['198.18.0.0/', /^invalid CIDR "198\.18\.0\.0\/": prefix length must be 0-32$/],
      ['198.18.0.0/x', /^invalid CIDR/],
      ['198.18.0.0/-1', /^invalid CIDR/],
      ['198.18.0.0/24/8', /^invalid CIDR/],
      ['198.18.0/24', /^invalid target "198\.18\.0\/24": "198\.18\.0" is not an IPv4 address$/],
      ['198.18.0.256/24', /^invalid target "198\.18\.0\.256\/24"/],
      ['nonsense', /^invalid target "nonsense"/],
      ['', /^invalid target ""/],
      ['198.18.0.20-10', /^invalid range "198\.18\.0\.20-10": end is before start$/],
      ['198.18.1.0-198.18.0.255', /end is before start/],
      ['198.18.0.10-256', /^invalid range "198\.18\.0\.10-256"/],
      ['198.18.0.10-', /^invalid target "198\.18\.0\.10-"/],
      ['-198.18.0.10', /^invalid target/],
      ['198.18.0.1-2-3', /^invalid target/],
    ];
    for (const [spec, re] of cases) {
      assert.throws(
        () => parseTarget(spec),
        (e: unknown) => e instanceof TargetError && re.test(e.message) && !e.message.includes('\n'),
        spec,
      );
    }
  });
});

describe('expandTargets', () => {
  it('a /24 expands to the 254 hosts in order', () => {
    const t = expandTargets(['198.18.0.0/24']);
    assert.ok(t instanceof Uint32Array);
    assert.equal(t.length, 254);
    assert.equal(intToIpv4(t[0]), '198.18.0.1');
    assert.equal(intToIpv4(t[253]), '198.18.0.254');
  });

  it('merges overlapping and adjacent specs into a sorted, de-duplicated list', () => {
    assert.deepEqual(ips(expandTargets(['198.18.0.5-8', '198.18.0.1-6', '198.18.0.9', '198.18.0.7'])), [
      '198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.5', '198.18.0.6', '198.18.0.7', '198.18.0.8', '198.18.0.9',
    ]);
    const t = expandTargets(['198.18.1.0/24', '198.18.0.0/23', '198.18.0.0/24']);
    // the /23 brings back 198.18.0.255 and 198.18.1.0, which the /24s alone would skip
    assert.equal(t.length, 510);
    assert.ok(ips(t).includes('198.18.0.255'));
    assert.deepEqual(ips(expandTargets(['198.18.0.3', '198.18.0.3', '198.18.0.1'])), ['198.18.0.1', '198.18.0.3']);
    assert.equal(expandTargets([]).length, 0);
  });

  it('exclusions remove single addresses, also the last one of a range', () => {
    assert.deepEqual(ips(expandTargets(['198.18.0.1-4'], { exclude: ['198.18.0.2', '198.18.0.4', '10.0.0.1'] })), [
      '198.18.0.1',
      '198.18.0.3',
    ]);
    assert.equal(expandTargets(['198.18.0.1'], { exclude: ['198.18.0.1'] }).length, 0);
  });

  it('a malformed exclusion is a TargetError naming it', () => {
    assert.throws(
      () => expandTargets(['198.18.0.0/24'], { exclude: ['198.18.0.300'] }),
      (e: unknown) => e instanceof TargetError && e.message === 'invalid exclusion "198.18.0.300": not an IPv4 address',
    );
  });

  it('refuses sweeps above the safety limit before allocating, with an actionable message', () => {
    assert.equal(DEFAULT_MAX_ADDRESSES, 65536);
    assert.equal(expandTargets(['198.18.0.0/16']).length, 65534);
    assert.throws(
      () => expandTargets(['10.0.0.0/8']),
      (e: unknown) =>
        e instanceof TargetError &&
        e.message ===
          'sweep of 16777214 addresses exceeds the safety limit of 65536 (10.0.0.0/8); ' +
            'raise it with --max-addresses / scan.max_addresses if you really mean it',
    );
    assert.throws(() => expandTargets(['0.0.0.0/0']), /sweep of 4294967294 addresses exceeds the safety limit of 65536/);
    assert.throws(() => expandTargets(['198.18.0.0/24'], { maxAddresses: 253 }), /sweep of 254 addresses exceeds the safety limit of 253/);
    assert.equal(expandTargets(['198.18.0.0/24'], { maxAddresses: 254 }).length, 254);
    // overlapping specs count once
    assert.equal(expandTargets(['198.18.0.0/24', '198.18.0.0/24'], { maxAddresses: 254 }).length, 254);
  });

  it('handles the top of the address space without wrapping', () => {
    assert.deepEqual(ips(expandTargets(['255.255.255.250-255'])), [
      '255.255.255.250', '255.255.255.251', '255.255.255.252', '255.255.255.253', '255.255.255.254', '255.255.255.255',
    ]);
    assert.deepEqual(ips(expandTargets(['0.0.0.0/31'])), ['0.0.0.0', '0.0.0.1']);
  });

  it('a range across 128.0.0.0 (the sign bit) stays ascending, exclusions included', () => {
    assert.deepEqual(ips(expandTargets(['127.255.255.253-128.0.0.2'], { exclude: ['128.0.0.1', '127.255.255.254'] })), [
      '127.255.255.253', '127.255.255.255', '128.0.0.0', '128.0.0.2',
    ]);
  });

  it('property: equals the naive set union minus exclusions, sorted and unique', () => {
    const base = ip('198.18.0.0');
    const spec = fc.oneof(
      fc.tuple(fc.nat(1023), fc.integer({ min: 22, max: 32 })).map(([o, p]) => `${intToIpv4(base + o)}/${p}`),
      fc.tuple(fc.nat(1023), fc.nat(64)).map(([o, n]) => `${intToIpv4(base + o)}-${intToIpv4(base + Math.min(1023, o + n))}`),
      fc.nat(1023).map((o) => intToIpv4(base + o)),
    );
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 8 }), fc.array(fc.nat(1023), { maxLength: 20 }), (specs, ex) => {
        const exclude = ex.map((o) => intToIpv4(base + o));
        const want = new Set<number>();
        for (const s of specs) {
          const r = parseTarget(s);
          for (let n = r.first; n <= r.last; n++) want.add(n);
        }
        for (const e of exclude) want.delete(ip(e));
        const got = expandTargets(specs, { exclude });
        assert.deepEqual([...got], [...want].sort((a, b) => a - b));
      }),
      { numRuns: 500 },
    );
  });

  it('property: planSweep gives each address to exactly one spec, the first that covers it', () => {
    const base = ip('198.18.0.0');
    const spec = fc.oneof(
      fc.tuple(fc.nat(1023), fc.integer({ min: 22, max: 32 })).map(([o, p]) => `${intToIpv4(base + o)}/${p}`),
      fc.tuple(fc.nat(1023), fc.nat(64)).map(([o, n]) => `${intToIpv4(base + o)}-${intToIpv4(base + Math.min(1023, o + n))}`),
    );
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 6 }), fc.array(fc.nat(1023), { maxLength: 10 }), (specs, ex) => {
        const exclude = ex.map((o) => intToIpv4(base + o));
        const plan = planSweep(specs, { exclude });
        assert.deepEqual(plan.map((p) => p.spec), specs);
        const all = plan.flatMap((p) => [...p.targets]).sort((a, b) => a - b);
        assert.deepEqual(all, [...expandTargets(specs, { exclude })], 'the union, each address once');
        plan.forEach(({ targets }, i) => {
          for (const n of targets) {
            const owner = specs.findIndex((s) => parseTarget(s).first <= n && n <= parseTarget(s).last);
            assert.equal(owner, i);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('planSweep: the safety limit is on the whole sweep', () => {
    const quarters = ['198.18.0.0/26', '198.18.0.64/26', '198.18.0.128/26', '198.18.0.192/26'];
    assert.throws(() => planSweep(quarters, { maxAddresses: 64 }), (err: Error) => err instanceof TargetError && /sweep of 248 addresses exceeds the safety limit of 64/.test(err.message));
    assert.equal(planSweep([...quarters, '198.18.0.0/24'], { maxAddresses: 254 }).at(-1)!.targets.length, 6, 'what the /26s leave of the /24: their network and broadcast addresses');
  });

  it('property: CIDR sizes are 2^(32-p) - 2 for p <= 30, 2^(32-p) otherwise', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (n, p) => {
        const r = parseTarget(`${intToIpv4(n)}/${p}`);
        const size = 2 ** (32 - p);
        assert.equal(rangeSize(r), p >= 31 ? size : size - 2);
        assert.equal(cidrOf(intToIpv4(n), p), `${intToIpv4(r.first - (p >= 31 ? 0 : 1))}/${p}`);
        assert.ok(r.first <= n + 1 && n <= r.last + 1);
      }),
      { numRuns: 2000 },
    );
  });
});
