// Ethernet II + ARP codec: unit tests, fast-check properties and a >= 10^6-frame fuzz loop
// through ArpChannel.receive() (the production decode path).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ArpRequestBuilder,
  buildArpFrame,
  buildArpRequest,
  decodeArp,
  DECODE_ERROR_REASONS,
  isDecodeError,
  MIN_FRAME_LENGTH,
  type ArpPacket,
  type DecodeResult,
} from '../../src/arp/codec.js';
import { intToIpv4, ipv4ToInt } from '../../src/net/ipv4.js';
import { macToBytes } from '../../src/net/mac.js';
import { ArpChannel } from '../../src/capture/arp-channel.js';
import type { PacketSource } from '../../src/capture/packet-source.js';
import { xorshift32 } from '../helpers/xorshift.js';

const macText = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** A unicast MAC no station would refuse: low bit of the first octet clear, not all zero. */
const unicastMac = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((b) => {
    b[0] &= 0xfe;
    if (b.every((x) => x === 0)) b[5] = 1;
    return macText(b);
  });
const anyMac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map(macText);
/** IPv4 a station may use as sender: not multicast (224/4 .. 239) and not 255.255.255.255. */
const senderIp = fc
  .integer({ min: 0, max: 0xffffffff })
  .filter((n) => {
    const first = n >>> 24;
    return !(first >= 224 && first <= 239) && n !== 0xffffffff;
  })
  .map(intToIpv4);
const anyIp = fc.integer({ min: 0, max: 0xffffffff }).map(intToIpv4);

const validFields = fc.record({
  op: fc.constantFrom<'request' | 'reply'>('request', 'reply'),
  ethSrc: unicastMac,
  ethDst: anyMac,
  senderMac: unicastMac,
  senderIp,
  targetMac: anyMac,
  targetIp: anyIp,
});

function expectPacket(r: DecodeResult): ArpPacket {
  if (isDecodeError(r)) assert.fail(`expected a packet, got error ${r.error}`);
  return r;
}

function expectError(r: DecodeResult, reason: string): void {
  assert.ok(isDecodeError(r), `expected error ${reason}, got a packet`);
  assert.equal(r.error, reason);
}

/** Inserts an 802.1Q tag (TPID 0x8100, TCI) after the MAC addresses. */
function tag(frame: Buffer, tci: number): Buffer {
  const t = Buffer.alloc(4);
  t.writeUInt16BE(0x8100, 0);
  t.writeUInt16BE(tci, 2);
  return Buffer.concat([frame.subarray(0, 12), t, frame.subarray(12)]);
}

const A = 14; // start of the ARP header in an untagged frame
const sample = () =>
  buildArpFrame({
    op: 'reply',
    ethSrc: '00:16:3e:12:00:05',
    ethDst: '02:aa:bb:cc:dd:ee',
    senderMac: '00:16:3e:12:00:05',
    senderIp: '198.18.0.5',
    targetMac: '02:aa:bb:cc:dd:ee',
    targetIp: '198.18.255.254',
  });

describe('ARP codec: building', () => {
  it('request frames are exactly 60 bytes, broadcast, with the right fields', () => {
    const f = buildArpRequest('02:11:22:33:44:55', '198.18.255.254', '198.18.0.7');
    assert.equal(f.length, 60);
    assert.equal(MIN_FRAME_LENGTH, 60);
    assert.equal(f.subarray(0, 6).toString('hex'), 'ffffffffffff');
    assert.equal(f.subarray(6, 12).toString('hex'), '021122334455');
    assert.equal(f.readUInt16BE(12), 0x0806);
    assert.equal(f.subarray(14, 22).toString('hex'), '0001080006040001');
    assert.equal(f.subarray(22, 28).toString('hex'), '021122334455');
    assert.equal(f.subarray(28, 32).toString('hex'), 'c612fffe');
    assert.equal(f.subarray(32, 38).toString('hex'), '000000000000');
    assert.equal(f.subarray(38, 42).toString('hex'), 'c6120007');
    assert.ok(f.subarray(42).every((b) => b === 0), 'padding is zero');
    const p = expectPacket(decodeArp(f));
    assert.deepEqual(p, {
      op: 'request',
      ethDst: 'ff:ff:ff:ff:ff:ff',
      ethSrc: '02:11:22:33:44:55',
      senderMac: '02:11:22:33:44:55',
      senderIp: '198.18.255.254',
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.18.0.7',
      gratuitous: false,
      vlan: null,
    });
  });

  it('ArpRequestBuilder returns independent 60-byte frames and can unicast', () => {
    const b = new ArpRequestBuilder('02:11:22:33:44:55', '198.18.255.254');
    const f1 = b.build(ipv4ToInt('198.18.0.1'));
    const f2 = b.build(ipv4ToInt('198.18.0.2'), '00:16:3e:12:00:02');
    assert.equal(f1.length, 60);
    assert.equal(f2.length, 60);
    assert.equal(expectPacket(decodeArp(f1)).targetIp, '198.18.0.1', 'f1 not overwritten by f2');
    const p2 = expectPacket(decodeArp(f2));
    assert.equal(p2.ethDst, '00:16:3e:12:00:02');
    assert.equal(p2.targetIp, '198.18.0.2');
    assert.equal(expectPacket(decodeArp(b.build(0xffffffff))).targetIp, '255.255.255.255');
  });
});

describe('ARP codec: properties', () => {
  it('round-trips build -> decode for random valid fields (untagged and 802.1Q tagged)', () => {
    fc.assert(
      fc.property(validFields, fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: null }), (p, tci) => {
        let frame = buildArpFrame(p);
        assert.equal(frame.length, 60);
        if (tci !== null) frame = tag(frame, tci);
        const d = expectPacket(decodeArp(frame));
        assert.deepEqual(d, {
          ...p,
          gratuitous: p.senderIp === p.targetIp && p.senderIp !== '0.0.0.0',
          vlan: tci === null ? null : tci & 0x0fff,
        });
      }),
      { numRuns: 5000 },
    );
  });

  it('every truncation of a valid frame before the end of the ARP payload gives "truncated"', () => {
    fc.assert(
      fc.property(validFields, fc.boolean(), (p, tagged) => {
        const full = tagged ? tag(buildArpFrame(p), 42) : buildArpFrame(p);
        const need = (tagged ? 18 : 14) + 28;
        for (let len = 0; len < need; len++) expectError(decodeArp(full.subarray(0, len)), 'truncated');
        for (let len = need; len <= full.length; len++) expectPacket(decodeArp(full.subarray(0, len)));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw and give a packet or a known reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 100 }), (bytes) => {
        const r = decodeArp(bytes);
        if (isDecodeError(r)) assert.ok(DECODE_ERROR_REASONS.includes(r.error), r.error);
      }),
      { numRuns: 20000 },
    );
  });

  it('mutated valid frames never throw; survivors are well-formed packets', () => {
    const mutation = fc.array(fc.tuple(fc.nat(64), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(validFields, fc.boolean(), mutation, fc.nat(66), (p, tagged, muts, cut) => {
        const f = Buffer.from(tagged ? tag(buildArpFrame(p), 7) : buildArpFrame(p));
        for (const [i, v] of muts) if (i < f.length) f[i] = v;
        const r = decodeArp(f.subarray(0, Math.min(cut, f.length)));
        if (isDecodeError(r)) {
          assert.ok(DECODE_ERROR_REASONS.includes(r.error), r.error);
        } else {
          assert.match(r.senderMac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
          assert.match(r.senderIp, /^\d{1,3}(\.\d{1,3}){3}$/);
          assert.ok(r.op === 'request' || r.op === 'reply');
          assert.equal(parseInt(r.senderMac.slice(0, 2), 16) & 1, 0, 'sender MAC is unicast');
        }
      }),
      { numRuns: 20000 },
    );
  });

  it('gratuitous iff sender IP == target IP (and not 0.0.0.0)', () => {
    fc.assert(
      fc.property(validFields, (p) => {
        const g = expectPacket(decodeArp(buildArpFrame({ ...p, targetIp: p.senderIp })));
        assert.equal(g.gratuitous, p.senderIp !== '0.0.0.0');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('ARP codec: rejected frames', () => {
  it('non-ARP ethertypes are not_arp (IPv4, IPv6, 802.3 length, QinQ outer tag, tagged IPv4)', () => {
    for (const type of [0x0800, 0x86dd, 0x0042, 0x88a8, 0x9100, 0x8035]) {
      const f = sample();
      f.writeUInt16BE(type, 12);
      expectError(decodeArp(f), 'not_arp');
    }
    const tagged = tag(sample(), 5);
    tagged.writeUInt16BE(0x0800, 16);
    expectError(decodeArp(tagged), 'not_arp');
  });

  it('wrong hardware type, protocol type and address lengths', () => {
    const hw = sample();
    hw.writeUInt16BE(6, A); // IEEE 802
    expectError(decodeArp(hw), 'bad_hardware_type');
    const pt = sample();
    pt.writeUInt16BE(0x86dd, A + 2);
    expectError(decodeArp(pt), 'bad_protocol_type');
    const hl = sample();
    hl[A + 4] = 8;
    expectError(decodeArp(hl), 'bad_address_length');
    const pl = sample();
    pl[A + 5] = 16;
    expectError(decodeArp(pl), 'bad_address_length');
    // same checks behind an 802.1Q tag
    const thw = tag(sample(), 9);
    thw.writeUInt16BE(0x0100, A + 4);
    expectError(decodeArp(thw), 'bad_hardware_type');
  });

  it('opcodes other than request/reply (RARP 3/4, InARP 8/9, 0, 0x0101) are bad_opcode', () => {
    for (const op of [0, 3, 4, 8, 9, 0x0101, 0xffff]) {
      const f = sample();
      f.writeUInt16BE(op, A + 6);
      expectError(decodeArp(f), 'bad_opcode');
    }
  });

  it('zero, broadcast and multicast sender MACs are bad_sender_mac', () => {
    for (const mac of ['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '33:33:00:00:00:01', '03:00:00:00:00:00']) {
      const f = sample();
      macToBytes(mac).copy(f, A + 8);
      expectError(decodeArp(f), 'bad_sender_mac');
    }
    // the Ethernet source may legitimately differ (proxy ARP); a locally administered sender is fine
    const la = sample();
    macToBytes('02:00:00:00:00:01').copy(la, A + 8);
    assert.equal(expectPacket(decodeArp(la)).senderMac, '02:00:00:00:00:01');
  });

  it('255.255.255.255 and multicast sender IPs are bad_sender_ip; 0.0.0.0 (ARP probe) is accepted', () => {
    for (const ip of ['255.255.255.255', '224.0.0.1', '239.255.255.250', '230.1.2.3']) {
      const f = sample();
      f.writeUInt32BE(ipv4ToInt(ip), A + 14);
      expectError(decodeArp(f), 'bad_sender_ip');
    }
    for (const ip of ['223.255.255.255', '240.0.0.1', '0.0.0.0']) {
      const f = sample();
      f.writeUInt32BE(ipv4ToInt(ip), A + 14);
      assert.equal(expectPacket(decodeArp(f)).senderIp, ip);
    }
    const probe = buildArpFrame({ op: 'request', senderMac: '00:16:3e:00:00:01', senderIp: '0.0.0.0', targetIp: '0.0.0.0' });
    assert.equal(expectPacket(decodeArp(probe)).gratuitous, false, 'an all-zero probe is not gratuitous');
  });

  it('802.1Q tagged frames decode with the 12-bit VLAN id, priority/DEI ignored', () => {
    const p = expectPacket(decodeArp(tag(sample(), 0xe000 | 107)));
    assert.equal(p.vlan, 107);
    assert.equal(p.senderIp, '198.18.0.5');
    assert.equal(expectPacket(decodeArp(tag(sample(), 0))).vlan, 0, 'priority tag');
    assert.equal(expectPacket(decodeArp(tag(sample(), 0x1fff))).vlan, 4095);
    expectError(decodeArp(tag(sample(), 5).subarray(0, 17)), 'truncated');
  });

  it('gratuitous ARP request and reply are flagged, ordinary traffic is not', () => {
    const req = buildArpFrame({ op: 'request', senderMac: '00:16:3e:00:00:09', senderIp: '198.18.0.9', targetIp: '198.18.0.9' });
    const rep = buildArpFrame({
      op: 'reply',
      senderMac: '00:16:3e:00:00:09',
      senderIp: '198.18.0.9',
      targetMac: 'ff:ff:ff:ff:ff:ff',
      targetIp: '198.18.0.9',
    });
    assert.equal(expectPacket(decodeArp(req)).gratuitous, true);
    assert.equal(expectPacket(decodeArp(rep)).gratuitous, true);
    assert.equal(expectPacket(decodeArp(sample())).gratuitous, false);
  });

  it('accepts frames longer than 60 bytes (trailer, FCS) and plain Uint8Arrays', () => {
    const long = Buffer.concat([sample(), Buffer.alloc(40, 0xab)]);
    expectPacket(decodeArp(long));
    const u8 = new Uint8Array(sample());
    assert.equal(expectPacket(decodeArp(u8)).senderIp, '198.18.0.5');
    // a view into a larger buffer at a non-zero offset
    const big = Buffer.concat([Buffer.alloc(7, 1), sample()]);
    assert.equal(expectPacket(decodeArp(big.subarray(7))).senderIp, '198.18.0.5');
  });
});

/** A PacketSource that never touches the network. */
function fakeSource(): PacketSource & { push(f: Buffer): void } {
  let handler: ((f: Buffer, ts: number) => void) | null = null;
  return {
    interfaceName: 'fake0',
    onPacket(h) {
      handler = h;
      return () => {
        handler = null;
      };
    },
    push(f) {
      handler?.(f, 0);
    },
    sendFrames() {
      throw new Error('fake source does not send');
    },
    stats: () => ({ received: 0, dropped: 0, interfaceDropped: 0 }),
    close() {},
  };
}

const rng = xorshift32;

describe('ArpChannel.receive fuzz', () => {
  it('pushes >= 10^6 random and mutated frames without a throw; bogus frames are counted by reason', () => {
    const src = fakeSource();
    const ch = new ArpChannel(src);
    let delivered = 0;
    ch.onArp((p) => {
      delivered++;
      if (p.op !== 'request' && p.op !== 'reply') throw new Error('bad op delivered');
    });
    const next = rng(0x9e3779b9);
    const seeds = [
      sample(),
      tag(sample(), 107),
      buildArpRequest('02:11:22:33:44:55', '198.18.255.254', '198.18.0.7'),
      buildArpFrame({ op: 'request', senderMac: '00:16:3e:00:00:09', senderIp: '198.18.0.9', targetIp: '198.18.0.9' }),
    ];
    const N = 1_000_000;
    const t0 = performance.now();
    const scratch = Buffer.alloc(128);
    let random = 0;
    let mutated = 0;
    for (let n = 0; n < N; n++) {
      let frame: Buffer;
      const kind = next() & 3;
      if (kind === 0) {
        // pure random bytes, random length 0..99
        const len = next() % 100;
        for (let i = 0; i < len; i++) scratch[i] = next() & 255;
        frame = scratch.subarray(0, len);
        random++;
      } else {
        // a valid frame with 1-4 random byte mutations in the headers, sometimes truncated
        const seed = seeds[next() % seeds.length];
        seed.copy(scratch);
        const muts = 1 + (next() & 3);
        for (let m = 0; m < muts; m++) scratch[next() % 46] = next() & 255;
        const len = kind === 3 ? next() % (seed.length + 1) : seed.length;
        frame = scratch.subarray(0, len);
        mutated++;
      }
      ch.receive(frame, n);
    }
    const ms = performance.now() - t0;
    let bogus = 0;
    for (const [reason, count] of ch.bogus) {
      assert.ok(DECODE_ERROR_REASONS.includes(reason), reason);
      assert.ok(count > 0);
      bogus += count;
    }
    assert.equal(bogus + ch.framesReceived, N, 'every frame is either delivered or counted as bogus');
    assert.equal(delivered, ch.framesReceived);
    // with this mix every reason shows up
    for (const reason of DECODE_ERROR_REASONS) assert.ok((ch.bogus.get(reason) ?? 0) > 0, `no frame rejected as ${reason}`);
    console.log(
      `fuzz: ${N} frames (${random} random, ${mutated} mutated) in ${Math.round(ms)} ms; ` +
        `${ch.framesReceived} decoded, bogus ${JSON.stringify(Object.fromEntries(ch.bogus))}`,
    );
    ch.close();
  });

  it('counts a known bad frame under exactly its reason', () => {
    const ch = new ArpChannel(fakeSource());
    const f = sample();
    f.writeUInt16BE(3, A + 6);
    ch.receive(f, 0);
    ch.receive(Buffer.alloc(3), 0);
    ch.receive(Buffer.alloc(3), 0);
    ch.receive(sample(), 0);
    assert.deepEqual(Object.fromEntries(ch.bogus), { bad_opcode: 1, truncated: 2 });
    assert.equal(ch.framesReceived, 1);
  });
});
