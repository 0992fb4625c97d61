// MAC addresses (src/net/mac.ts): parsing, canonical form and the address bits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isMulticastMac, isRandomizedMac, macFromBytes, macToBytes, normalizeMac } from '../../src/net/mac.js';

describe('MAC text', () => {
  it('rejects malformed MAC text', () => {
    for (const bad of ['', '00:11:22:33:44', '00:11:22:33:44:5g', '00-11:22:33:44:55', '001122334455x']) {
      assert.throws(() => macToBytes(bad), /invalid MAC/, bad);
    }
    assert.equal(macToBytes('AA-BB-CC-DD-EE-FF').toString('hex'), 'aabbccddeeff');
  });

  it('formats bytes in the canonical form, and parses it back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
        const text = macFromBytes(b);
        assert.equal(text, [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
        assert.deepEqual([...macToBytes(text)], [...b]);
        assert.equal(isMulticastMac(text), (b[0] & 1) === 1);
      }),
    );
  });
});

describe('isRandomizedMac', () => {
  it('is the locally administered (U/L) bit: second hex digit 2, 6, A or E', () => {
    for (const mac of ['02:00:00:00:00:01', '5a:11:22:33:44:55', 'DA:A1:19:00:00:00', 'fe:ff:ff:ff:ff:ff', '36-00-00-00-00-00']) {
      assert.equal(isRandomizedMac(mac), true, mac);
    }
    for (const mac of ['00:16:3e:12:00:01', '00:1a:11:00:00:01', 'f4:f5:d8:00:00:00', '01:00:5e:00:00:01', 'FC:00:00:00:00:00']) {
      assert.equal(isRandomizedMac(mac), false, mac);
    }
  });

  it('agrees with the bit test for every first octet', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.boolean(), (b, upper) => {
        let mac = [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
        if (upper) mac = mac.toUpperCase();
        assert.equal(isRandomizedMac(mac), (b[0] & 2) === 2);
      }),
    );
  });
});

describe('normalizeMac', () => {
  it('lower-cases and uses colons', () => {
    assert.equal(normalizeMac('AA-BB-CC-DD-EE-FF'), 'aa:bb:cc:dd:ee:ff');
    assert.equal(normalizeMac('aa:bb:cc:dd:ee:ff'), 'aa:bb:cc:dd:ee:ff');
    assert.equal(normalizeMac('00:1A:11:0b:Cc:dD'), '00:1a:11:0b:cc:dd');
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.constantFrom(':', '-'), fc.boolean(), (b, sep, upper) => {
        let mac = [...b].map((x) => x.toString(16).padStart(2, '0')).join(sep);
        if (upper) mac = mac.toUpperCase();
        const n = normalizeMac(mac);
        assert.match(n, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        assert.equal(normalizeMac(n), n);
      }),
    );
  });
});
