// OUI vendor lookup (MA-L, MA-M, MA-S from oui-data), randomized-MAC detection, MAC normalisation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { isRandomizedMac, normalizeMac, vendorOf } from '../../src/arp/vendor.js';

const require = createRequire(import.meta.url);
const oui = JSON.parse(readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
const org = (prefix: string) => oui[prefix].split('\n')[0].trim();
const toMac = (hex12: string) => hex12.toLowerCase().match(/../g)!.join(':');

describe('vendorOf', () => {
  it('finds MA-L (24-bit) blocks in any case and separator', () => {
    assert.equal(vendorOf('00:1a:11:00:00:01'), 'Google, Inc.');
    assert.equal(vendorOf('00-1A-11-AB-CD-EF'), 'Google, Inc.');
    assert.equal(vendorOf('00:16:3e:12:00:01'), 'Xensource, Inc.'); // the lab's devices
    assert.equal(vendorOf('00:0c:29:aa:bb:cc'), 'VMware, Inc.');
  });

  it('finds MA-M (28-bit) and MA-S (36-bit) blocks, not the registration authority', () => {
    assert.equal(vendorOf('38:05:25:0a:bc:de'), 'Groeneveld-BEKA GmbH'); // MA-M 3805250
    assert.equal(vendorOf('38:05:25:1a:bc:de'), 'Visitech AS'); // MA-M 3805251
    assert.equal(vendorOf('70:b3:d5:00:1f:ff'), 'SOREDI touch systems GmbH'); // MA-S 70B3D5001
    assert.equal(vendorOf('00:1b:c5:0c:90:00'), 'UAB Kitron'); // MA-S 001BC50C9
  });

  it('every MA-L, MA-M and MA-S prefix in oui-data resolves to its own organisation', () => {
    const byLen = { 6: 0, 7: 0, 9: 0 } as Record<number, number>;
    for (const prefix of Object.keys(oui)) {
      const mac = toMac(prefix.padEnd(12, '5'));
      const want = org(prefix);
      if (prefix.length === 6 && want === 'IEEE Registration Authority') continue; // see below
      assert.equal(vendorOf(mac), want, `${prefix} (${mac})`);
      byLen[prefix.length]++;
    }
    assert.ok(byLen[6] > 30000 && byLen[7] > 1000 && byLen[9] > 1000, JSON.stringify(byLen));
  });

  it('an unassigned MA-S/MA-M sub-block of an IEEE RA block has no vendor (not "IEEE Registration Authority")', () => {
    assert.equal(oui['70B3D5000'], undefined);
    assert.equal(vendorOf('70:b3:d5:00:00:01'), '');
    assert.equal(oui['380525F'], undefined);
    assert.equal(vendorOf('38:05:25:f0:00:01'), '');
  });

  it('unknown, locally administered and malformed MACs give an empty vendor', () => {
    assert.equal(vendorOf('52:54:00:12:34:56'), ''); // QEMU default: locally administered, unregistered
    assert.equal(vendorOf('fe:ff:ff:ff:ff:ff'), '');
    assert.equal(vendorOf(''), '');
    assert.equal(vendorOf('nonsense'), '');
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
