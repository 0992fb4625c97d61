// One sweep cycle over a simulated segment (a packet source that answers ARP requests like the
// hosts of a LAN would): overlapping targets are probed once and raise no false conflicts, and
// scan.max_addresses bounds the whole sweep of an interface.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildArpFrame, decodeArp, isDecodeError } from '../../src/arp/codec.js';
import { ArpChannel } from '../../src/capture/arp-channel.js';
import type { PacketSource } from '../../src/capture/packet-source.js';
import { parseConfig } from '../../src/config/load.js';
import { Inventory, type DeviceEvent } from '../../src/inventory/inventory.js';
import { runSweepCycle } from '../../src/monitor/sweep-cycle.js';

const OWN = { ip: '198.18.70.1', mac: '02:00:00:00:00:01' };

/** A segment whose hosts (ip → mac) answer every request for their address. */
function simulatedLan(hosts: Map<string, string>): { source: PacketSource; asked: Map<string, number> } {
  const asked = new Map<string, number>();
  let handler: ((frame: Buffer, tsMs: number) => void) | null = null;
  const source: PacketSource = {
    interfaceName: 'sim0',
    onPacket: (h) => {
      handler = h;
      return () => (handler = null);
    },
    sendFrames: (frames, frameLength, count) => {
      for (let i = 0; i < count; i++) {
        const p = decodeArp(frames.subarray(i * frameLength, (i + 1) * frameLength));
        if (isDecodeError(p) || p.op !== 'request') continue;
        asked.set(p.targetIp, (asked.get(p.targetIp) ?? 0) + 1);
        const mac = hosts.get(p.targetIp);
        if (!mac) continue;
        const reply = buildArpFrame({ op: 'reply', senderMac: mac, senderIp: p.targetIp, targetMac: OWN.mac, targetIp: OWN.ip, ethDst: OWN.mac });
        setImmediate(() => handler?.(reply, Date.now()));
      }
    },
    stats: () => ({ received: 0, dropped: 0, interfaceDropped: 0 }),
    close: () => {},
  };
  return { source, asked };
}

async function cycle(specs: string[], hosts: Map<string, string>, maxAddresses = 65_536) {
  const cfg = parseConfig(`scan: {timeout: 20ms, retries: 0, rate: 0, max_addresses: ${maxAddresses}}\n`);
  const inventory = new Inventory('sim0', { absentAfterMs: 60_000, sleepyAbsentAfterMs: 60_000, retentionMs: 3_600_000, maxDevices: 1000, known: new Map(), gatewayIp: null });
  const lan = simulatedLan(hosts);
  const channel = new ArpChannel(lan.source);
  const recorded: DeviceEvent[] = [];
  const result = await runSweepCycle({
    channel,
    info: { name: 'sim0', mac: OWN.mac, addresses: [{ address: OWN.ip, prefix: 24, cidr: '198.18.70.0/24' }] },
    own: OWN.ip,
    specs,
    scan: cfg.scan,
    exclude: [],
    reprobe: false,
    inventory,
    signal: new AbortController().signal,
    record: (events) => recorded.push(...events),
  });
  return { result, recorded, asked: lan.asked, inventory };
}

describe('runSweepCycle', () => {
  it('overlapping targets: every address is asked once and no IP conflict is raised', async () => {
    const hosts = new Map([
      ['198.18.70.10', '02:00:00:00:00:0a'],
      ['198.18.70.11', '02:00:00:00:00:0b'],
      ['198.18.70.12', '02:00:00:00:00:0c'],
      ['198.18.70.200', '02:00:00:00:00:c8'],
    ]);
    const { result, recorded, asked, inventory } = await cycle(['198.18.70.0/24', '198.18.70.10-12', '198.18.70.11'], hosts);
    assert.deepEqual([...asked.values()].filter((n) => n > 1), [], 'no address asked twice');
    assert.equal(asked.size, 253, 'the /24 once, but for our own address');
    assert.deepEqual(recorded.filter((e) => e.kind === 'ip_conflict'), []);
    assert.equal(inventory.conflictCount(), 0);
    assert.equal(result.totals.addresses, 254);
    for (const [ip, mac] of hosts) assert.equal(result.answers.filter((a) => a.ip === ip && a.mac === mac).length, 1, `${ip} answered once`);
  });

  it('scan.max_addresses bounds the whole sweep, not each target', async () => {
    const specs = ['198.18.70.0/26', '198.18.70.64/26', '198.18.70.128/26', '198.18.70.192/26'];
    await assert.rejects(cycle(specs, new Map(), 64), /sweep of 248 addresses exceeds the safety limit of 64/);
    const { asked } = await cycle(specs, new Map(), 248);
    assert.equal(asked.size, 247, 'all four /26 but for our own address');
  });
});
