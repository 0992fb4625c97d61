// Interface discovery, run in a child process inside a lab's scanner namespace so that
// os.networkInterfaces(), /sys/class/net and /proc/net/route show only the lab. Needs root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { cleanupStaleLabs, Lab } from '../../src/lab/lab.js';

const PREFIX = 'gfi';
const MODULE = fileURLToPath(new URL('../../src/net/interfaces.ts', import.meta.url));

/** Evaluates `expr` (with the interfaces module as `m`) inside the scanner namespace; returns its JSON value. */
async function inNs(lab: Lab, expr: string): Promise<unknown> {
  const code =
    `const m = await import(${JSON.stringify(MODULE)});` +
    `let out; try { out = { ok: await (async () => ${expr})() }; } ` +
    `catch (e) { out = { error: e.message, name: e.constructor.name }; }` +
    `process.stdout.write(JSON.stringify(out));`;
  const r = await lab.exec(['node', '--import', 'tsx', '--input-type=module', '--eval', code], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function sh(lab: Lab, ...cmds: string[][]): Promise<void> {
  for (const cmd of cmds) {
    const r = await lab.exec(cmd);
    assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stderr}`);
  }
}

let lab: Lab;
before(async () => {
  await cleanupStaleLabs(PREFIX);
  lab = await Lab.up(3, { name: PREFIX + Math.random().toString(36).slice(2, 6) });
});
after(async () => {
  await lab?.down();
  await cleanupStaleLabs(PREFIX);
});

describe('interfaces (in a lab namespace)', () => {
  it('describeInterface gives the MAC and IPv4 addresses with their network', async () => {
    const got = await inNs(lab, `m.describeInterface(${JSON.stringify(lab.scannerIf)})`);
    assert.deepEqual(got, {
      ok: {
        name: lab.scannerIf,
        mac: lab.scannerMac,
        addresses: [{ address: '198.18.255.254', prefix: 16, cidr: '198.18.0.0/16' }],
      },
    });
  });

  it('a missing interface is an InterfaceError listing the available ones', async () => {
    const got = await inNs(lab, `m.describeInterface('nosuch0')`);
    assert.deepEqual(got, {
      error: `interface "nosuch0" does not exist (available: ${lab.scannerIf})`,
      name: 'InterfaceError',
    });
    for (const bad of ['', '.', '..', `../${lab.scannerIf}`, `${lab.scannerIf}/../lo`]) {
      const r = (await inNs(lab, `m.describeInterface(${JSON.stringify(bad)})`)) as { name?: string; error?: string };
      assert.equal(r.name, 'InterfaceError', `"${bad}": ${JSON.stringify(r)}`);
      assert.match(r.error!, /does not exist/, bad);
    }
  });

  it('loopback is refused as not Ethernet', async () => {
    assert.deepEqual(await inNs(lab, `m.describeInterface('lo')`), {
      error: 'interface "lo" is not an Ethernet interface; ARP sweeps need Ethernet',
      name: 'InterfaceError',
    });
  });

  it('detectInterfaces lists up Ethernet interfaces with IPv4 only', async () => {
    // veth pairs (Ethernet) inside the scanner namespace; the gfp* peers stay down and address-less.
    // gfd1: up, no address; gfd2: address but down; gfd3: up with two addresses
    await sh(
      lab,
      ['ip', 'link', 'add', 'gfd1', 'type', 'veth', 'peer', 'name', 'gfp1'],
      ['ip', 'link', 'set', 'gfd1', 'up'],
      ['ip', 'link', 'add', 'gfd2', 'type', 'veth', 'peer', 'name', 'gfp2'],
      ['ip', 'addr', 'add', '198.18.199.1/24', 'dev', 'gfd2'],
      ['ip', 'link', 'add', 'gfd3', 'address', '02:00:00:00:00:03', 'type', 'veth', 'peer', 'name', 'gfp3'],
      ['ip', 'addr', 'add', '198.18.200.1/24', 'dev', 'gfd3'],
      ['ip', 'addr', 'add', '198.18.201.1/25', 'dev', 'gfd3'],
      ['ip', 'link', 'set', 'gfd3', 'up'],
      ['ip', 'link', 'set', 'gfp3', 'up'],
    );
    try {
      const got = (await inNs(lab, `m.detectInterfaces()`)) as { ok: { name: string }[] };
      assert.deepEqual(got.ok.map((i) => i.name).sort(), [lab.scannerIf, 'gfd3'].sort());
      const gfd3 = (await inNs(lab, `m.describeInterface('gfd3')`)) as { ok: unknown };
      assert.deepEqual(gfd3.ok, {
        name: 'gfd3',
        mac: '02:00:00:00:00:03',
        addresses: [
          { address: '198.18.200.1', prefix: 24, cidr: '198.18.200.0/24' },
          { address: '198.18.201.1', prefix: 25, cidr: '198.18.201.0/25' },
        ],
      });
      const gfd1 = (await inNs(lab, `m.describeInterface('gfd1')`)) as { ok: { addresses: unknown[] } };
      assert.deepEqual(gfd1.ok.addresses, []);
    } finally {
      await sh(lab, ['ip', 'link', 'del', 'gfd1'], ['ip', 'link', 'del', 'gfd2'], ['ip', 'link', 'del', 'gfd3']);
    }
  });

  it('defaultGateway reads the default route of one interface', async () => {
    assert.deepEqual(await inNs(lab, `m.defaultGateway(${JSON.stringify(lab.scannerIf)})`), { ok: lab.gatewayIp });
    assert.deepEqual(await inNs(lab, `m.defaultGateway('lo')`), { ok: null });
    assert.deepEqual(await inNs(lab, `m.defaultGateway('nosuch0')`), { ok: null });
  });

  it('defaultGateway ignores 0.0.0.0/1-style routes (VPN split default) and follows route changes', async () => {
    await sh(
      lab,
      ['ip', 'link', 'add', 'gfd4', 'type', 'veth', 'peer', 'name', 'gfp4'],
      ['ip', 'addr', 'add', '198.18.202.1/24', 'dev', 'gfd4'],
      ['ip', 'link', 'set', 'gfd4', 'up'],
      ['ip', 'link', 'set', 'gfp4', 'up'],
      ['ip', 'route', 'add', '0.0.0.0/1', 'via', '198.18.202.2', 'dev', 'gfd4'],
    );
    try {
      assert.deepEqual(await inNs(lab, `m.defaultGateway('gfd4')`), { ok: null });
      await sh(lab, ['ip', 'route', 'replace', 'default', 'via', '198.18.0.3', 'dev', lab.scannerIf]);
      assert.deepEqual(await inNs(lab, `m.defaultGateway(${JSON.stringify(lab.scannerIf)})`), { ok: '198.18.0.3' });
    } finally {
      await sh(lab, ['ip', 'link', 'del', 'gfd4'], ['ip', 'route', 'replace', 'default', 'via', lab.gatewayIp!, 'dev', lab.scannerIf]);
    }
  });
});
