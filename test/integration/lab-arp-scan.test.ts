// Proves with the real arp-scan, run inside the scanner namespace, that the lab answers every
// address with the right MAC (single attempt, --retry=1). Needs root and arp-scan.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupStaleLabs, Lab, withLab, type LabOptions } from '../../src/lab/lab.js';

const PREFIX = 'gli';
const uniq = () => PREFIX + Math.random().toString(36).slice(2, 6);

interface Reply {
  ip: string;
  mac: string;
}

async function arpScan(lab: Lab, target: string, bandwidth = '1M'): Promise<Reply[]> {
  const t0 = performance.now();
  const r = await lab.exec(['arp-scan', '-I', lab.scannerIf, '--retry=1', '-x', '-q', `--bandwidth=${bandwidth}`, target], {
    timeoutMs: 300_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const replies = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [ip, mac] = l.split('\t');
      return { ip, mac };
    });
  console.log(`arp-scan ${target} @${bandwidth}: ${replies.length} replies in ${Math.round(performance.now() - t0)} ms`);
  return replies;
}

const key = (r: Reply) => `${r.ip} ${r.mac}`;
const sorted = (rs: Reply[]) => rs.map(key).sort();

/** Brings the lab up, scans its cidr once and expects exactly the lab's devices back. */
async function scanAll(count: number, opts: LabOptions, bandwidth: string): Promise<void> {
  const t0 = performance.now();
  await withLab(count, { name: uniq(), ...opts }, async (lab) => {
    console.log(`${count} devices in ${lab.cidr} up in ${Math.round(performance.now() - t0)} ms`);
    const replies = await arpScan(lab, lab.cidr, bandwidth);
    assert.equal(replies.length, count);
    assert.deepEqual(sorted(replies), sorted(lab.devices()));
  });
}

before(() => cleanupStaleLabs(PREFIX));
after(() => cleanupStaleLabs(PREFIX));

describe('lab answers arp-scan', () => {
  it('a /24 with 254 devices: all 254 with the right MACs', () => scanAll(254, { cidr: '198.18.0.0/24' }, '1M'));

  it('1000 devices in a /22: all answer', () => scanAll(1000, { cidr: '198.18.0.0/22' }, '10M'));

  it('4000 devices spread across a /16 at 10 Mbit/s: all answer (the lab is not the bottleneck)', () =>
    scanAll(4000, { cidr: '198.18.0.0/16', spread: true }, '10M'));

  it('a small lab without steering still answers (plain macvlan broadcast)', () =>
    scanAll(30, { cidr: '198.18.1.0/24', steer: false }, '1M'));

  it('reflects join, leave, move, spoof, link down/up and a scanner link fault', async () => {
    await withLab(10, { name: uniq(), cidr: '198.18.0.0/24' }, async (lab) => {
      const expectScan = async (what: string) =>
        assert.deepEqual(sorted(await arpScan(lab, lab.cidr)), sorted(lab.devices()), what);
      await expectScan('initial');

      const joined = await lab.addDevice();
      const randomised = await lab.addDevice('198.18.0.77', '5a:11:22:33:44:55'); // locally administered
      await expectScan('join');
      const seen = await arpScan(lab, '198.18.0.77');
      assert.deepEqual(seen, [{ ip: '198.18.0.77', mac: randomised.mac }]);

      await lab.removeDevice(joined.ip);
      await lab.removeDevice('198.18.0.5');
      await expectScan('leave');
      assert.deepEqual(await arpScan(lab, '198.18.0.5'), []);

      const before = lab.devices().find((d) => d.ip === '198.18.0.3')!;
      const moved = await lab.moveIp('198.18.0.3');
      assert.deepEqual(await arpScan(lab, '198.18.0.3'), [{ ip: '198.18.0.3', mac: moved.mac }]);
      assert.notEqual(moved.mac, before.mac);
      await expectScan('move');
      // unicast ARP (re-verification) is not steered: it reaches the MAC it is addressed to, if that still exists
      const unicast = async (mac: string) =>
        (await lab.exec(['arp-scan', '-I', lab.scannerIf, '--retry=1', '-x', '-q', `--destaddr=${mac}`, '198.18.0.3'])).stdout.trim();
      assert.equal(await unicast(moved.mac), `198.18.0.3\t${moved.mac}`);
      assert.equal(await unicast(before.mac), '');

      const spoofer = await lab.spoof('198.18.0.1');
      const dup = await arpScan(lab, '198.18.0.1');
      assert.deepEqual(sorted(dup), sorted([{ ip: '198.18.0.1', mac: '00:16:3e:12:00:01' }, { ip: '198.18.0.1', mac: spoofer.mac }]));
      await expectScan('spoof');

      // a spoof of a moved address: both current MACs answer, the old one never again
      await lab.spoof('198.18.0.3', '00:16:3e:00:00:03');
      assert.deepEqual(sorted(await arpScan(lab, '198.18.0.3')), sorted([moved, { ip: '198.18.0.3', mac: '00:16:3e:00:00:03' }]));
      await lab.moveIp('198.18.0.3', '00:16:3e:00:00:33');
      assert.deepEqual(await arpScan(lab, '198.18.0.3'), [{ ip: '198.18.0.3', mac: '00:16:3e:00:00:33' }]);

      await lab.setDeviceUp('198.18.0.2', false);
      assert.deepEqual(await arpScan(lab, '198.18.0.2'), []);
      await expectScan('device down');
      await lab.setDeviceUp('198.18.0.2', true);
      await expectScan('device up again');

      await lab.setScannerLink(false);
      const fault = await lab.exec(['arp-scan', '-I', lab.scannerIf, '--retry=1', '-x', '-q', lab.cidr], { timeoutMs: 30_000 });
      assert.equal(fault.stdout.trim(), '', 'no replies while the scanner link is down');
      await lab.setScannerLink(true);
      assert.match((await lab.exec(['ip', 'route', 'show', 'default'])).stdout, /via 198\.18\.0\.1/);
      await expectScan('scanner link up again');
    });
  });

  it('gratuitous ARPs from devices reach the scanner', async () => {
    await withLab(5, { name: uniq() }, async (lab) => {
      // arp_accept=1 (scanner namespace only) makes the scanner's kernel record unsolicited announcements
      const set = await lab.exec(['sysctl', '-q', '-w', `net.ipv4.conf.${lab.scannerIf}.arp_accept=1`]);
      assert.equal(set.code, 0, set.stderr);
      await lab.announce('198.18.0.4');
      let neigh = '';
      for (let i = 0; i < 20 && !neigh.includes('198.18.0.4'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        neigh = (await lab.exec(['ip', 'neigh', 'show', '198.18.0.4'])).stdout;
      }
      assert.match(neigh, /198\.18\.0\.4 dev \S+ lladdr 00:16:3e:12:00:04/);
    });
  });
});
