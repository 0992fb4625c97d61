// Event-pipeline fuzz: >= 10^6 random, mutated and hostile frames through ArpChannel.receive()
// into a real SegmentMonitor (its passive handler, Inventory and Persister with a real store),
// exactly the path captured frames take in the exporter. The decoder alone is fuzzed in
// test/arp/codec.test.ts; this one checks what reaches the inventory and the store.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildArpFrame, DECODE_ERROR_REASONS } from '../../src/arp/codec.js';
import { ipv4ToInt } from '../../src/net/ipv4.js';
import { ArpChannel } from '../../src/capture/arp-channel.js';
import type { PacketSource } from '../../src/capture/packet-source.js';
import { parseConfig } from '../../src/config/load.js';
import { Persister } from '../../src/monitor/persister.js';
import { SegmentMonitor } from '../../src/monitor/segment-monitor.js';
import { Logger } from '../../src/log.js';
import { Store } from '../../src/store/store.js';
import { xorshift32 } from '../helpers/xorshift.js';

function fakeSource(): PacketSource {
  return {
    interfaceName: 'fuzz0',
    onPacket: () => () => {},
    sendFrames: () => {},
    stats: () => ({ received: 0, dropped: 0, interfaceDropped: 0 }),
    close: () => {},
  };
}

const rng = xorshift32;

const hex2 = (n: number) => (n & 255).toString(16).padStart(2, '0');
const macOf = (b: number[]) => b.map(hex2).join(':');
const KNOWN = ['00:11:32:aa:bb:01', '00:11:32:aa:bb:02', 'a4:83:e7:12:34:56'];
const MAX_DEVICES = 500;

/** Sender IPs no device may be tracked under (besides anything outside 198.18.0.0/24). */
const FORBIDDEN_IPS = new Set(['0.0.0.0', '255.255.255.255', '198.18.0.0', '198.18.0.255', '224.0.0.1', '239.255.255.250']);

function isBogusMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff' || (first & 1) === 1;
}
function isBogusIp(ip: string): boolean {
  if (FORBIDDEN_IPS.has(ip)) return true;
  const n = ipv4ToInt(ip);
  return n <= ipv4ToInt('198.18.0.0') || n >= ipv4ToInt('198.18.0.255');
}

describe('event pipeline fuzz (ArpChannel -> SegmentMonitor -> Inventory -> store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-fuzz-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('>= 10^6 hostile frames: no throw, inventory bounded by max_devices, no bogus device, bogus frames counted by reason', () => {
    const cfg = parseConfig(`interfaces:
  - {name: fuzz0, cidrs: [198.18.0.0/24], gateway: 198.18.0.1}
presence:
  absent_after: 5s
  retention: 60s
  max_devices: ${MAX_DEVICES}
storage: {path: ${dir}}
known_devices:
${KNOWN.map((m, i) => `  - {mac: "${m}", name: k${i}}`).join('\n')}
`);
    const store = new Store(dir);
    const lines: string[] = [];
    // Logged lines are counted, not kept: a flood must not be able to grow the test's memory either.
    const log = new Logger('info', 'logfmt', {}, () => void lines.length);
    const persister = new Persister(store, log);
    const segment = new SegmentMonitor(cfg.interfaces[0], cfg, persister, log, [], null);
    const ch = new ArpChannel(fakeSource());
    ch.onArp((p, ts) => segment.observeArp(p, ts));
    const inv = segment.inventory;
    const internals = segment as unknown as { persistPassive(): void; record(events: unknown[]): void };
    const persist = () => internals.persistPassive();

    const next = rng(0x5eed1234);
    const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length];
    const senderMacs = (): string => {
      switch (next() % 8) {
        case 0: return '00:00:00:00:00:00';
        case 1: return 'ff:ff:ff:ff:ff:ff';
        case 2: return macOf([0x01, 0x00, 0x5e, next(), next(), next()]); // IPv4 multicast
        case 3: return pick(KNOWN);
        default: return macOf([(next() & 0xfc) | 0x02, next(), next(), next(), next(), next()]); // random, locally administered
      }
    };
    const senderIps = (): string => {
      switch (next() % 10) {
        case 0: return pick([...FORBIDDEN_IPS]);
        case 1: return `${next() & 255}.${next() & 255}.${next() & 255}.${next() & 255}`; // mostly outside the subnet
        case 2: return '198.18.0.1'; // the gateway: gateway_mac_changed under fire
        default: return `198.18.0.${1 + (next() % 254)}`;
      }
    };

    const N = 1_000_000;
    const scratch = Buffer.alloc(2048);
    const kinds = { random: 0, mutated: 0, crafted: 0, oversized: 0 };
    // In the past: the monitor clamps capture times to the wall clock.
    const base = Date.now() - N - 60_000;
    let maxTracked = 0;
    const knownSeen = new Set<string>();
    const t0 = performance.now();
    const rss0 = process.memoryUsage().rss;
    for (let n = 0; n < N; n++) {
      const ts = base + n; // 1 ms per frame: absent_after (5 s) and retention (60 s) come round many times
      let frame: Buffer;
      const kind = next() % 8;
      if (kind === 0) {
        const len = next() % 100;
        for (let i = 0; i < len; i++) scratch[i] = next() & 255;
        frame = scratch.subarray(0, len);
        kinds.random++;
      } else {
        const senderMac = senderMacs();
        const senderIp = senderIps();
        const f = buildArpFrame({
          op: next() & 1 ? 'request' : 'reply',
          ethSrc: next() & 3 ? senderMac : macOf([next() & 0xfe, next(), next(), next(), next(), next()]),
          ethDst: next() & 1 ? undefined : macOf([next(), next(), next(), next(), next(), next()]),
          senderMac,
          senderIp,
          targetIp: next() & 1 ? senderIp : `198.18.0.${next() & 255}`,
        });
        f.copy(scratch);
        let len = f.length;
        if (kind <= 2) {
          // mutate 1-4 header bytes (ethertype, hardware/protocol type and lengths, opcode, addresses) and sometimes truncate
          const muts = 1 + (next() & 3);
          for (let m = 0; m < muts; m++) scratch[12 + (next() % 30)] = next() & 255;
          if (next() & 1) len = next() % (len + 1);
          kinds.mutated++;
        } else if (kind === 3) {
          // oversized: a valid header followed by up to 2 KB of junk
          len = 60 + (next() % (scratch.length - 60));
          for (let i = 60; i < len; i++) scratch[i] = next() & 255;
          kinds.oversized++;
        } else {
          kinds.crafted++;
        }
        frame = scratch.subarray(0, len);
      }
      ch.receive(frame, ts);

      if (n % 50_000 === 49_999) {
        // What a sweep does to presence, without the network: silent devices go, old absent ones expire.
        internals.record(inv.markGone(inv.absentCandidates(ts).map((d) => d.mac), ts));
        inv.expire(ts);
        persist();
        maxTracked = Math.max(maxTracked, inv.devices.size);
        for (const m of KNOWN) if (inv.devices.has(m)) knownSeen.add(m);
        for (const m of knownSeen) assert.ok(inv.devices.has(m), `known device ${m} was evicted`);
        assert.ok(inv.devices.size <= MAX_DEVICES + KNOWN.length, `inventory grew to ${inv.devices.size}`);
      }
    }
    persist();
    const ms = performance.now() - t0;
    const rss1 = process.memoryUsage().rss;

    let bogus = 0;
    for (const [reason, count] of ch.bogus) {
      assert.ok(DECODE_ERROR_REASONS.includes(reason), reason);
      bogus += count;
    }
    assert.equal(bogus + ch.framesReceived, N, 'every frame is either decoded or counted as bogus');
    for (const reason of DECODE_ERROR_REASONS) assert.ok((ch.bogus.get(reason) ?? 0) > 0, `no frame rejected as ${reason}`);

    assert.ok(inv.overflow > 0 || segment.events.get('new_device')! > MAX_DEVICES, 'the flood reached the cap');
    assert.ok(segment.events.get('new_device')! > MAX_DEVICES, 'more distinct MACs than the cap were offered');
    assert.ok(maxTracked <= MAX_DEVICES + KNOWN.length);
    assert.deepEqual([...knownSeen].sort(), [...KNOWN].sort(), 'every known device got in despite the flood');
    for (const d of inv.devices.values()) {
      assert.ok(!isBogusMac(d.mac), `bogus MAC tracked: ${d.mac}`);
      for (const ip of d.ips) assert.ok(!isBogusIp(ip), `bogus IP tracked: ${ip} (${d.mac})`);
    }
    assert.equal(persister.writable, true);
    store.close();

    // The store holds what the inventory holds: bounded, and nothing bogus.
    const db = new Database(join(dir, 'ghost-hunter.db'), { readonly: true });
    const rows = db.prepare('SELECT mac, ips FROM devices').all() as { mac: string; ips: string }[];
    assert.equal(rows.length, inv.devices.size);
    for (const r of rows) {
      assert.ok(!isBogusMac(r.mac), r.mac);
      for (const ip of JSON.parse(r.ips) as string[]) assert.ok(!isBogusIp(ip), ip);
    }
    const events = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();

    console.log(
      `pipeline fuzz: ${N} frames ${JSON.stringify(kinds)} in ${Math.round(ms)} ms; decoded ${ch.framesReceived}, ` +
        `bogus ${JSON.stringify(Object.fromEntries(ch.bogus))}; events ${JSON.stringify(Object.fromEntries(segment.events))}; ` +
        `tracked ${inv.devices.size} (max ${maxTracked}, cap ${MAX_DEVICES}+${KNOWN.length} known), overflow ${inv.overflow}; ` +
        `${events} events in the store; rss ${Math.round(rss0 / 2 ** 20)} -> ${Math.round(rss1 / 2 ** 20)} MiB`,
    );
  });
});
