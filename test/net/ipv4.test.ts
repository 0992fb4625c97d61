// IPv4 text <-> number (src/net/ipv4.ts): strict parsing, exact formatting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { intToIpv4, ipv4FromBytes, ipv4ToInt, networkOf } from '../../src/net/ipv4.js';

describe('IPv4 text', () => {
  it('rejects malformed IPv4 text', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-1', 'a.b.c.d', '1..2.3']) {
      assert.throws(() => ipv4ToInt(bad), /invalid IPv4/, bad);
    }
  });

  it('parses IPv4 text exactly like split + /^\\d{1,3}$/ per part', () => {
    const reference = (ip: string): number | 'invalid' => {
      const parts = ip.split('.');
      if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return 'invalid';
      return parts.reduce((n, p) => n * 256 + Number(p), 0);
    };
    const parse = (ip: string): number | 'invalid' => {
      try {
        return ipv4ToInt(ip);
      } catch {
        return 'invalid';
      }
    };
    for (const ip of ['0.0.0.0', '255.255.255.255', '198.18.0.1', '010.001.0.00', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4.', '.1.2.3', '1.2.3.0255', '1.2.3.+4', '1.2.3.٤']) {
      assert.equal(parse(ip), reference(ip), JSON.stringify(ip));
    }
    const chars = fc.constantFrom('0', '1', '2', '5', '9', '.', '.', 'a', ' ', '-');
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.string({ unit: chars, maxLength: 16 })), (ip) => {
        assert.equal(parse(ip), reference(ip), JSON.stringify(ip));
      }),
      { numRuns: 5000 },
    );
  });

  it('formats every address the way it parses', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const text = intToIpv4(n);
        assert.equal(ipv4ToInt(text), n);
        assert.equal(ipv4FromBytes(Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255), 0), text);
      }),
    );
    assert.equal(networkOf(ipv4ToInt('198.18.3.7'), 22), ipv4ToInt('198.18.0.0'));
  });
});
