// OUI vendor lookup (MA-L, MA-M, MA-S from oui-data), randomized-MAC detection, MAC normalisation.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vendorLookup, vendorOf } from '../../src/arp/vendor.js';

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

describe('vendorLookup (one-shot sweeps: binary search in the compact table)', () => {
  // The table `npm run build` writes to dist/oui.tsv (scripts/build-oui-table.mjs).
  const lines = Object.keys(oui)
    .sort()
    .map((prefix) => `${prefix}\t${org(prefix)}`);
  const dir = mkdtempSync(join(tmpdir(), 'gh-oui-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'oui.tsv');
  writeFileSync(file, lines.join('\n') + '\n');
  const unterminated = join(dir, 'oui-no-final-newline.tsv');
  writeFileSync(unterminated, lines.join('\n'));
  const last = Object.keys(oui).sort().at(-1)!;
  const macs = [
    '00:1a:11:00:00:01', '00-1A-11-AB-CD-EF', '38:05:25:0a:bc:de', '38:05:25:1a:bc:de', '70:b3:d5:00:1f:ff',
    '00:1b:c5:0c:90:00', '70:b3:d5:00:00:01', '38:05:25:f0:00:01', '52:54:00:12:34:56', 'fe:ff:ff:ff:ff:ff',
    toMac(last.padEnd(12, '0')), '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', 'FF-FF-FF-00-00-01',
  ];
  const prefixes = Object.keys(oui);
  for (let i = 0; i < 300; i++) macs.push(toMac(prefixes[(i * 7919) % prefixes.length].padEnd(12, 'a')));

  it('answers exactly like vendorOf, whatever the read window and final newline', () => {
    for (const [path, window] of [[file, 4096], [file, 64], [file, 7], [unterminated, 4096], [unterminated, 5]] as const) {
      const vendor = vendorLookup(macs, path, window);
      for (const mac of macs) assert.equal(vendor(mac), vendorOf(mac), `${mac} (window ${window}, ${path})`);
    }
    for (const mac of macs) assert.equal(vendorLookup([mac], file)(mac), vendorOf(mac), `${mac} alone`);
  });

  it('is vendorOf without a table file, and reads nothing for no MACs', () => {
    const vendor = vendorLookup(['00:1a:11:00:00:01'], join(dir, 'missing.tsv'));
    assert.equal(vendor('00:0c:29:aa:bb:cc'), 'VMware, Inc.'); // no table file: vendorOf
    assert.equal(vendorLookup([])('00:1a:11:00:00:01'), '');
  });
});
