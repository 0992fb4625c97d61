// Lab lifecycle tests. Need root (network namespaces); every lab is removed by exact name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cleanupStaleLabs, Lab, listLabNamespaces, removeLab, withLab } from '../../src/lab/lab.js';
import { deviceMac, hostAddresses, parseLabCidr } from '../../src/lab/addressing.js';

const PREFIX = 'glt'; // every lab in this file is named glt<something>
const nsExists = (ns: string) => existsSync(`/run/netns/${ns}`);
const uniq = () => PREFIX + Math.random().toString(36).slice(2, 6);

function linkNames(ns: string): string[] {
  const out = execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8' });
  return (JSON.parse(out) as Array<{ ifname: string }>).map((l) => l.ifname);
}

before(() => cleanupStaleLabs(PREFIX));
after(() => cleanupStaleLabs(PREFIX));

describe('ipv4 helpers', () => {
  it('normalises cidrs inside 198.18.0.0/16 and rejects everything else', () => {
    assert.equal(parseLabCidr('198.18.3.7/22').text, '198.18.0.0/22');
    for (const bad of ['10.0.0.0/24', '198.19.0.0/24', '198.18.0.0/15', '198.0.0.0/8', '198.18.0.0/31', 'nonsense', '198.18.0.300/24']) {
      assert.throws(() => parseLabCidr(bad), /lab:/, bad);
    }
  });

  it('generates universally administered Xen-OUI MACs, distinct per generation', () => {
    const ip = 0xc6120a0b; // 198.18.10.11
    assert.equal(deviceMac(ip, 0), '00:16:3e:12:0a:0b');
    assert.equal(deviceMac(ip, 1), '00:16:3e:80:0a:0b');
    assert.equal(parseInt(deviceMac(ip, 5).slice(0, 2), 16) & 3, 0); // unicast, universally administered
  });

  it('lists usable hosts without network, broadcast and excluded addresses', () => {
    const hosts = hostAddresses(parseLabCidr('198.18.0.0/30'), new Set([0xc6120002]));
    assert.deepEqual(hosts, [0xc6120001]);
  });
});

describe('Lab lifecycle', () => {
  it('comes up with the documented layout and goes away completely', async () => {
    const name = uniq();
    const t0 = performance.now();
    const lab = await Lab.up(20, { name });
    console.log(`20 devices up in ${Math.round(performance.now() - t0)} ms`);
    try {
      assert.equal(lab.name, name);
      assert.ok(nsExists(lab.scannerNs) && nsExists(lab.devicesNs));
      assert.equal(lab.cidr, '198.18.0.0/24');
      assert.equal(lab.scannerIp, '198.18.255.254');
      assert.match(lab.scannerMac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.equal(lab.gatewayIp, '198.18.0.1');
      const devs = lab.devices();
      assert.equal(devs.length, 20);
      assert.deepEqual(devs.map((d) => d.ip), Array.from({ length: 20 }, (_, i) => `198.18.0.${i + 1}`));
      assert.equal(new Set(devs.map((d) => d.mac)).size, 20);
      for (const d of devs) assert.match(d.mac, /^00:16:3e:/);

      const addr = await lab.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', lab.scannerIf]);
      assert.match(addr.stdout, /inet 198\.18\.255\.254\/16/);
      const route = await lab.exec(['ip', 'route', 'show', 'default']);
      assert.match(route.stdout, /default via 198\.18\.0\.1 dev/);
      for (const ns of ['scanner', 'devices'] as const) {
        const v6 = await lab.exec(['sysctl', '-n', 'net.ipv6.conf.all.disable_ipv6'], { ns });
        assert.equal(v6.stdout.trim(), '1', `IPv6 off in ${ns}`);
      }
      const arp = await lab.exec(['sysctl', '-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce',
        'net.ipv4.conf.all.arp_filter'], { ns: 'devices' });
      assert.deepEqual(arp.stdout.trim().split('\n'), ['1', '2', '0']);
      const neigh = await lab.exec(['ip', 'neigh', 'show', 'nud', 'permanent'], { ns: 'devices' });
      assert.equal(neigh.stdout.trim().split('\n').filter((l) => l.includes(`lladdr ${lab.scannerMac}`)).length, 20);
      const links = linkNames(lab.devicesNs);
      for (const d of devs) assert.ok(links.includes(d.ifname));
    } finally {
      await lab.down();
    }
    assert.ok(!nsExists(lab.scannerNs) && !nsExists(lab.devicesNs));
    await lab.down(); // idempotent
  });

  it('keeps interface names within 15 characters even with the longest name', async () => {
    await withLab(300, { name: 'gltxxxxx', cidr: '198.18.4.0/23' }, async (lab) => {
      const names = [...linkNames(lab.scannerNs), ...linkNames(lab.devicesNs)];
      assert.ok(names.length >= 302);
      for (const n of names) assert.ok(n.length <= 15, n);
    });
    await assert.rejects(Lab.up(1, { name: 'gltxxxxxx' }), /name/);
    await assert.rejects(Lab.up(1, { name: 'Bad-Name' }), /name/);
  });

  it('lets two labs with different names coexist', async () => {
    await withLab(5, { name: uniq() }, async (a) => {
      await withLab(5, { name: uniq() }, async (b) => {
        assert.notEqual(a.scannerNs, b.scannerNs);
        for (const ns of [a.scannerNs, a.devicesNs, b.scannerNs, b.devicesNs]) assert.ok(nsExists(ns), ns);
        assert.deepEqual(a.devices().map((d) => d.ip), b.devices().map((d) => d.ip)); // same addresses, isolated
      });
      assert.ok(nsExists(a.scannerNs));
    });
  });

  it('tears down when the test body throws', async () => {
    const name = uniq();
    await assert.rejects(
      withLab(3, { name }, async (lab) => {
        assert.ok(nsExists(lab.scannerNs));
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(listLabNamespaces(name), []);
  });

  it('rejects cidrs outside 198.18.0.0/16 before creating anything', async () => {
    const name = uniq();
    for (const cidr of ['10.0.0.0/24', '192.168.1.0/24', '198.19.0.0/24', '198.18.0.0/8']) {
      await assert.rejects(Lab.up(1, { name, cidr }), /198\.18\.0\.0\/16/, cidr);
    }
    await assert.rejects(Lab.up(300, { name, cidr: '198.18.0.0/24' }), /do not fit/);
    assert.deepEqual(listLabNamespaces(name), []);
  });

  it('spreads devices evenly across a cidr and honours gateway: false', async () => {
    await withLab(8, { name: uniq(), cidr: '198.18.0.0/16', spread: true, gateway: false }, async (lab) => {
      const ips = lab.devices().map((d) => d.ip);
      assert.equal(new Set(ips).size, 8);
      assert.equal(ips[0], '198.18.0.1');
      assert.ok(Number(ips[7].split('.')[2]) >= 200, ips.join(' ')); // reaches the top of the /16
      assert.equal(lab.gatewayIp, undefined);
      assert.equal((await lab.exec(['ip', 'route', 'show', 'default'])).stdout.trim(), '');
    });
  });

  it('tracks devices joining, leaving, moving, spoofing and going down', async () => {
    await withLab(3, { name: uniq() }, async (lab) => {
      const added = await lab.addDevice();
      assert.equal(added.ip, '198.18.0.4');
      const explicit = await lab.addDevice('198.18.0.100', '02:AA:BB:CC:DD:EE');
      assert.equal(explicit.mac, '02:aa:bb:cc:dd:ee');
      await assert.rejects(lab.addDevice('198.18.0.100'), /already in use/);
      await assert.rejects(lab.addDevice('198.18.0.101', '02:aa:bb:cc:dd:ee'), /already in use/);
      await assert.rejects(lab.addDevice('198.18.255.254'), /not a usable/);
      await assert.rejects(lab.addDevice('10.1.2.3'), /not a usable/);

      const leaving = lab.devices().find((d) => d.ip === '198.18.0.2')!;
      await lab.removeDevice('198.18.0.2');
      assert.deepEqual(lab.devices().map((d) => d.ip), ['198.18.0.1', '198.18.0.3', '198.18.0.4', '198.18.0.100']);
      assert.ok(!linkNames(lab.devicesNs).includes(leaving.ifname));

      const before = lab.devices().find((d) => d.ip === '198.18.0.3')!;
      const moved = await lab.moveIp('198.18.0.3');
      assert.notEqual(moved.mac, before.mac);
      assert.deepEqual(lab.devices().filter((d) => d.ip === '198.18.0.3').map((d) => d.mac), [moved.mac]);
      assert.ok(!linkNames(lab.devicesNs).includes(before.ifname));

      const spoofer = await lab.spoof('198.18.0.1', '00:16:3e:aa:bb:cc');
      assert.deepEqual(lab.devices().filter((d) => d.ip === '198.18.0.1').map((d) => d.mac).sort(), ['00:16:3e:12:00:01', spoofer.mac]);

      await lab.setDeviceUp('198.18.0.4', false);
      assert.ok(!lab.devices().some((d) => d.ip === '198.18.0.4'));
      await lab.setDeviceUp('198.18.0.4', true);
      assert.ok(lab.devices().some((d) => d.ip === '198.18.0.4'));
      await assert.rejects(lab.removeDevice('198.18.0.200'), /no device/);
    });
  });

  it('cleanupStaleLabs removes labs left behind by a crashed run, and only those', async () => {
    const crashed = await Lab.up(3, { name: 'gltcrash' });
    crashed.keep(); // as if the process had died without tearing down
    const other = await Lab.up(1, { name: 'gloother' });
    try {
      await cleanupStaleLabs('gltcr');
      assert.deepEqual(listLabNamespaces('gltcrash'), []);
      assert.ok(nsExists(other.scannerNs) && nsExists(other.devicesNs));
      await assert.rejects(cleanupStaleLabs(''), /prefix/);
    } finally {
      await other.down();
      await removeLab('gltcrash');
    }
  });
});
