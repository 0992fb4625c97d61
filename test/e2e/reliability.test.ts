// Reliability and security of the running exporter, each in its own lab (198.18.0.0/16 only):
// hostile frames and a MAC-randomization flood on the lab wire, the interface going down and
// vanishing, a full disk, kill -9, corrupt or foreign stores, privileges (CAP_NET_RAW only) and
// hostile HTTP clients. Nothing asserts on wall-clock time; timings are printed.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import bcrypt from 'bcryptjs';
import { DECODE_ERROR_REASONS } from '../../src/arp/codec.js';
import { BasicAuth } from '../../src/http/basic-auth.js';
import { BcryptWorkers } from '../../src/http/bcrypt-workers.js';
import { Lab, cleanupStaleLabs } from '../../src/lab/lab.js';
import { http, parseMetrics, REPO, scrape, series, startExporter, tempDir, value, waitFor, writeConfig, type RunningExporter, type Samples } from '../helpers/exporter.js';

const PREFIX = 'grl';
const NOBODY = 65534;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (s: Samples, name: string, labels: Record<string, string> = {}) => series(s, name, labels).reduce((n, [, v]) => n + v, 0);

function labConfig(lab: Lab, dataDir: string, extra = '', scan = ''): string {
  return `interfaces:
  - name: ${lab.scannerIf}
    cidrs: [198.18.0.0/24]
scan:
  interval: 1s
  timeout: 150ms
  retries: 1
  rate: 0
${scan}presence:
  absent_after: 2s
${extra}storage:
  path: ${dataDir}
`;
}

// ---- frames on the lab wire: a small injector run inside the devices namespace -------------

const INJECTOR = `
import { openPacketSource } from ${JSON.stringify(join(REPO, 'src/capture/packet-source.ts'))};
const [iface, mode, countText, seedText] = process.argv.slice(2);
const count = Number(countText);
let x = Number(seedText) >>> 0 || 1;
const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
const rnd = (n) => Array.from({ length: n }, () => next() & 255);
function arp(o) {
  const f = Buffer.alloc(Math.max(60, o.len ?? 60));
  f.fill(0xff, 0, 6);
  Buffer.from(o.ethSrc ?? o.sha).copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(o.hw ?? 1, 14);
  f.writeUInt16BE(o.proto ?? 0x0800, 16);
  f[18] = o.hlen ?? 6;
  f[19] = o.plen ?? 4;
  f.writeUInt16BE(o.op ?? 1, 20);
  Buffer.from(o.sha).copy(f, 22);
  Buffer.from(o.spa).copy(f, 28);
  Buffer.from(o.tpa ?? o.spa).copy(f, 38);
  if (o.len > 60) for (let i = 60; i < o.len; i++) f[i] = next() & 255;
  return o.len !== undefined && o.len < 60 ? f.subarray(0, o.len) : f;
}
// Decodable but bogus senders use MACs 02:66:xx:xx:xx:xx so the test can look for them.
const marked = () => [0x02, 0x66, ...rnd(4)];
const good = () => [0x02, 0x77, ...rnd(4)];
const inLab = () => [198, 18, 0, 100 + (next() % 150)];
const hostile = [
  () => arp({ sha: good(), spa: inLab(), len: 30 }),                       // truncated
  () => arp({ sha: good(), spa: inLab(), hw: 6 }),                         // bad hardware type (IEEE 802)
  () => arp({ sha: good(), spa: inLab(), proto: 0x86dd }),                 // bad protocol type
  () => arp({ sha: good(), spa: inLab(), hlen: 8 }),                       // bad address lengths
  () => arp({ sha: good(), spa: inLab(), op: 3 }),                         // RARP: bad opcode
  () => arp({ ethSrc: good(), sha: [0, 0, 0, 0, 0, 0], spa: inLab() }),    // zero sender MAC
  () => arp({ ethSrc: good(), sha: [255, 255, 255, 255, 255, 255], spa: inLab() }), // broadcast sender MAC
  () => arp({ ethSrc: good(), sha: [0x01, 0x00, 0x5e, ...rnd(3)], spa: inLab() }), // multicast sender MAC
  () => arp({ sha: good(), spa: [255, 255, 255, 255] }),                   // limited broadcast sender IP
  () => arp({ sha: good(), spa: [224, 0, 0, 251] }),                       // multicast sender IP
  () => arp({ ethSrc: good(), sha: [0x01, 0x80, 0xc2, ...rnd(3)], spa: inLab(), len: 1514 }), // oversized, multicast sender
  () => arp({ sha: marked(), spa: [0, 0, 0, 0], tpa: inLab() }),          // ARP probe: decodes, no device
  () => arp({ sha: marked(), spa: [198, 18, 0, 255] }),                    // the subnet's broadcast address
  () => arp({ sha: marked(), spa: [198, 18, 0, 0] }),                      // the subnet's network address
  () => arp({ sha: marked(), spa: [10, 9, 8, 7] }),                        // outside the swept subnet
];
const src = openPacketSource(iface);
let sent = 0;
for (let i = 0; i < count; i++) {
  let frame;
  if (mode === 'hostile') frame = hostile[i % hostile.length]();
  else {
    // MAC randomization: gratuitous ARP from a fresh locally administered MAC each time
    const sha = [(next() & 0xfc) | 0x02, ...rnd(5)];
    const spa = inLab();
    frame = arp({ sha, spa, tpa: spa });
  }
  src.sendFrames(frame, frame.length, 1);
  sent++;
  if (i % 500 === 499) await new Promise((r) => setTimeout(r, 5));
}
console.log(JSON.stringify({ sent }));
process.exit(0);
`;

async function inject(lab: Lab, script: string, mode: 'hostile' | 'flood', count: number, seed: number): Promise<number> {
  const r = await lab.exec([process.execPath, '--import', 'tsx', script, lab.devicesIf, mode, String(count), String(seed)], { ns: 'devices', timeoutMs: 60_000 });
  assert.equal(r.code, 0, `injector failed: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { sent: number }).sent;
}

interface ApiDevice {
  mac: string;
  ip: string | null;
  ips: string[];
  present: boolean;
  known: boolean;
}
async function apiDevices(lab: Lab, port: number): Promise<ApiDevice[]> {
  const r = await http(lab, `http://127.0.0.1:${port}/api/devices`);
  assert.equal(r.status, 200);
  return (JSON.parse(r.body) as { devices: ApiDevice[] }).devices;
}

describe('hostile frames and a MAC-randomization flood on the lab wire', { timeout: 240_000 }, () => {
  const name = `${PREFIX}a`;
  let lab: Lab;
  let dir: string;
  let injector: string;
  let exporter: RunningExporter | undefined;
  let known: string[];
  const CAP = 500;

  before(async () => {
    await cleanupStaleLabs(name);
    lab = await Lab.up(6, { name });
    dir = tempDir('rel-wire');
    injector = writeConfig(dir, INJECTOR, 'inject.mjs');
    const devs = lab.devices();
    known = [devs[0].mac, devs[1].mac, devs[2].mac]; // the gateway, one that stays, one that will leave
    const cfg = writeConfig(
      dir,
      labConfig(lab, join(dir, 'data'), `  max_devices: ${CAP}\nknown_devices:\n${known.map((m, i) => `  - {mac: "${m}", name: known${i}}`).join('\n')}\n`),
    );
    exporter = startExporter(lab, [`--config.file=${cfg}`]);
    await waitFor('all devices present', async () => value(await scrape(lab, exporter!.port), 'ghosthunter_devices') === 7);
  });

  after(async () => {
    await exporter?.stop();
    await lab?.down();
    await cleanupStaleLabs(name);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('hostile frames are counted by reason, sweeps go on, no bogus device appears', async () => {
    const s0 = await scrape(lab, exporter!.port);
    const bogus0 = new Map(DECODE_ERROR_REASONS.map((r) => [r, value(s0, 'ghosthunter_bogus_frames_total', { reason: r }) ?? 0]));
    const sweeps0 = value(s0, 'ghosthunter_sweeps_total')!;
    const N = 3000; // 15 kinds, 11 of them rejected by the decoder
    const t0 = performance.now();
    assert.equal(await inject(lab, injector, 'hostile', N, 7), N);
    const injectMs = performance.now() - t0;
    const s1 = await waitFor('bogus frames counted and sweeps going on', async () => {
      const s = await scrape(lab, exporter!.port);
      const bogus = sum(s, 'ghosthunter_bogus_frames_total') - [...bogus0.values()].reduce((a, b) => a + b, 0);
      return bogus >= (N * 11) / 15 && value(s, 'ghosthunter_sweeps_total')! >= sweeps0 + 3 ? s : undefined;
    });
    for (const reason of DECODE_ERROR_REASONS.filter((r) => r !== 'not_arp')) {
      assert.ok(value(s1, 'ghosthunter_bogus_frames_total', { reason })! > bogus0.get(reason)!, `bogus frames with reason ${reason} counted`);
    }
    assert.equal(value(s1, 'ghosthunter_up'), 1);
    assert.equal(value(s1, 'ghosthunter_devices'), 7, 'no device joined');
    const devices = await apiDevices(lab, exporter!.port);
    assert.equal(devices.length, 7);
    for (const d of devices) {
      assert.ok(!d.mac.startsWith('02:66:') && !d.mac.startsWith('02:77:'), `hostile sender tracked: ${d.mac}`);
      assert.ok(!(parseInt(d.mac.slice(0, 2), 16) & 1) && d.mac !== '00:00:00:00:00:00', `bogus MAC tracked: ${d.mac}`);
      for (const ip of d.ips) assert.ok(!['0.0.0.0', '255.255.255.255', '198.18.0.0', '198.18.0.255', '10.9.8.7', '224.0.0.251'].includes(ip), `bogus IP ${ip}`);
    }
    console.log(`hostile: ${N} frames injected in ${Math.round(injectMs)} ms; bogus by reason ${JSON.stringify(series(s1, 'ghosthunter_bogus_frames_total').map(([k, v]) => [/reason="(\w+)"/.exec(k)![1], v]))}`);
  });

  test('10 000 random MACs: tracked devices stay under the cap, overflow counted, known devices kept, /metrics bounded', async () => {
    const leaving = lab.devices()[2];
    await lab.setDeviceUp(leaving.ip, false);
    await waitFor('known device absent', async () => value(await scrape(lab, exporter!.port), 'ghosthunter_device_present', { mac: leaving.mac }) === 0);
    const s0 = await scrape(lab, exporter!.port);
    const overflow0 = value(s0, 'ghosthunter_devices_overflow_total')!;
    const sweeps0 = value(s0, 'ghosthunter_sweeps_total')!;
    const limit = CAP + known.length;
    const scrapes: { ms: number; bytes: number; tracked: number }[] = [];
    const check = async () => {
      const t = performance.now();
      const r = await http(lab, `http://127.0.0.1:${exporter!.port}/metrics`);
      assert.equal(r.status, 200, 'scrape answered during the flood');
      const s = parseMetrics(r.body);
      const tracked = value(s, 'ghosthunter_devices_tracked')!;
      scrapes.push({ ms: performance.now() - t, bytes: r.body.length, tracked });
      assert.ok(tracked <= limit, `tracked ${tracked} > ${limit}`);
      for (const m of ['ghosthunter_device_present', 'ghosthunter_device_info', 'ghosthunter_device_first_seen_timestamp_seconds', 'ghosthunter_device_last_seen_timestamp_seconds']) {
        assert.ok(series(s, m).length <= limit, `${m}: ${series(s, m).length} series`);
      }
      for (const mac of known) assert.equal(series(s, 'ghosthunter_device_present', { mac }).length, 1, `known device ${mac} still tracked`);
      return s;
    };
    let sent = 0;
    for (let wave = 0; wave < 4; wave++) {
      // Scrape while the wave is on the wire, then give the flooded MACs time to go absent (evictable).
      const [n] = await Promise.all([inject(lab, injector, 'flood', 2500, 1000 + wave), check()]);
      sent += n;
      await check();
      await sleep(2500);
      await check();
    }
    const s = await waitFor('sweeps going on after the flood', async () => {
      const s = await check();
      return value(s, 'ghosthunter_sweeps_total')! > sweeps0 + 3 && value(s, 'ghosthunter_up') === 1 ? s : undefined;
    });
    assert.equal(sent, 10_000);
    assert.ok(value(s, 'ghosthunter_devices_overflow_total')! > overflow0, 'overflow counted');
    assert.ok(value(s, 'ghosthunter_events_total', { kind: 'new_device' })! > CAP, 'the flood got in up to the cap (and evicted absent strangers)');
    assert.equal(value(s, 'ghosthunter_device_present', { mac: known[0] }), 1);
    assert.equal(value(s, 'ghosthunter_device_present', { mac: known[1] }), 1);
    assert.equal(value(s, 'ghosthunter_device_present', { mac: leaving.mac }), 0, 'the absent known device is kept, not evicted');
    for (const d of lab.devices()) assert.equal(value(s, 'ghosthunter_device_present', { mac: d.mac }), 1, `lab device ${d.mac} present`);
    const max = scrapes.reduce((a, b) => ({ ms: Math.max(a.ms, b.ms), bytes: Math.max(a.bytes, b.bytes), tracked: Math.max(a.tracked, b.tracked) }));
    console.log(
      `flood: ${sent} random MACs; overflow ${value(s, 'ghosthunter_devices_overflow_total')}, new_device ${value(s, 'ghosthunter_events_total', { kind: 'new_device' })}, ` +
        `max tracked ${max.tracked} (cap ${CAP} + ${known.length} known); ${scrapes.length} scrapes, largest ${max.bytes} bytes, slowest ${Math.round(max.ms)} ms (curl in netns included)`,
    );
  });
});

describe('faults: the interface goes down, vanishes and comes back', { timeout: 180_000 }, () => {
  const name = `${PREFIX}b`;
  let lab: Lab;
  let dir: string;
  let exporter: RunningExporter | undefined;

  before(async () => {
    await cleanupStaleLabs(name);
    lab = await Lab.up(4, { name });
    dir = tempDir('rel-link');
    exporter = startExporter(lab, [`--config.file=${writeConfig(dir, labConfig(lab, join(dir, 'data')))}`]);
    await waitFor('devices present', async () => value(await scrape(lab, exporter!.port), 'ghosthunter_devices') === 5);
  });
  after(async () => {
    await exporter?.stop();
    await lab?.down();
    await cleanupStaleLabs(name);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function outage(what: string, breakIt: () => Promise<void>, fixIt: () => Promise<void>, logPattern: RegExp) {
    const s0 = await scrape(lab, exporter!.port);
    const errors0 = value(s0, 'ghosthunter_sweep_errors_total')!;
    const t0 = performance.now();
    await breakIt();
    // /metrics keeps answering (every waitFor round is a scrape) while the sweeps fail.
    const down = await waitFor(`${what}: failed sweeps counted`, async () => {
      const s = await scrape(lab, exporter!.port);
      return value(s, 'ghosthunter_sweep_errors_total')! >= errors0 + 2 && value(s, 'ghosthunter_up') === 0 ? s : undefined;
    });
    assert.equal((await http(lab, `http://127.0.0.1:${exporter!.port}/-/healthy`)).status, 200);
    assert.match(exporter!.logs(), logPattern);
    const t1 = performance.now();
    await fixIt();
    const up = await waitFor(`${what}: sweeping resumes without a restart`, async () => {
      const s = await scrape(lab, exporter!.port);
      return value(s, 'ghosthunter_up') === 1 && value(s, 'ghosthunter_devices') === 5 ? s : undefined;
    });
    for (const d of lab.devices()) assert.equal(value(up, 'ghosthunter_device_present', { mac: d.mac }), 1);
    assert.equal(exporter!.proc.exitCode, null, 'still the same process');
    console.log(
      `${what}: ${value(down, 'ghosthunter_sweep_errors_total')! - errors0} failed sweeps seen after ${Math.round(t1 - t0)} ms; ` +
        `back up ${Math.round(performance.now() - t1)} ms after the fix`,
    );
  }

  test('link down and up: sweeps fail and are counted, /metrics answers, sweeping resumes', async () => {
    await outage('link down', () => lab.setScannerLink(false), () => lab.setScannerLink(true), /level=error msg="sweep failed"/);
  });

  test('interface deleted and re-created: the same, with a fresh capture session', async () => {
    await outage('link deleted', () => lab.deleteScannerLink(), () => lab.createScannerLink(), new RegExp(`interface \\\\?"${lab.scannerIf}\\\\?" does not exist`));
  });
});

describe('storage faults: full disk, kill -9, corrupt and foreign stores', { timeout: 240_000 }, () => {
  const name = `${PREFIX}c`;
  let lab: Lab;
  let dir: string;
  let injector: string;
  const mounts: string[] = [];
  let exporter: RunningExporter | undefined;

  before(async () => {
    await cleanupStaleLabs(name);
    lab = await Lab.up(4, { name });
    dir = tempDir('rel-store');
    injector = writeConfig(dir, INJECTOR, 'inject.mjs');
  });
  afterEach(async () => {
    await exporter?.stop('SIGKILL');
    exporter = undefined;
  });
  after(async () => {
    await exporter?.stop('SIGKILL');
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    await lab?.down();
    await cleanupStaleLabs(name);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('full disk: error logged once, store_writable 0, changes kept in memory and written when space is back', async () => {
    const data = join(dir, 'tmpfs');
    mkdirSync(data);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'grlfull', data], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    mounts.push(data);
    try {
      exporter = startExporter(lab, [`--config.file=${writeConfig(dir, labConfig(lab, data), 'full.yml')}`]);
      await waitFor('first sweep stored', async () => value(await scrape(lab, exporter!.port), 'ghosthunter_devices') === 5);
      // Fill the file system to the last byte.
      const filler = join(data, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024);
      let filled = 0;
      try {
        for (let i = 0; i < 1024; i++) filled += writeSync(fd, chunk);
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      }
      for (let i = 0; i < 64; i++) {
        try {
          filled += writeSync(fd, Buffer.alloc(512));
        } catch {
          break;
        }
      }
      closeSync(fd);
      const full = await waitFor('store_writable 0', async () => {
        const s = await scrape(lab, exporter!.port);
        return value(s, 'ghosthunter_store_writable') === 0 ? s : undefined;
      });
      assert.ok(value(full, 'ghosthunter_store_errors_total')! >= 1);
      const joined = await lab.addDevice('198.18.0.50');
      await waitFor('device joins during the outage', async () => {
        const s = await scrape(lab, exporter!.port);
        return value(s, 'ghosthunter_device_present', { mac: joined.mac }) === 1 && value(s, 'ghosthunter_store_writable') === 0;
      });
      // The event log is still served: what is in memory, saying what failed (and logging it).
      // (A small write can get through a full disk now and then, so ask until a failed one is the latest.)
      const events = await waitFor('/api/events saying what failed', async () => {
        const api = await http(lab, `http://127.0.0.1:${exporter!.port}/api/events?limit=50`);
        assert.equal(api.status, 200, api.body);
        const body = JSON.parse(api.body) as { events: { kind: string; mac: string | null }[]; warning?: string };
        return body.warning ? body : undefined;
      }, 40);
      assert.ok(events.events.some((e) => e.kind === 'new_device' && e.mac === joined.mac), 'the event of the device seen during the outage');
      assert.match(events.warning!, /state store \(.*(full|disk)/i, 'the answer says what failed');
      if (/cannot read/.test(events.warning!)) assert.match(exporter.logs(), /msg="cannot read events from the state store; serving the events held in memory"/);
      const errLines = exporter.logs().split('\n').filter((l) => l.includes('cannot write state store'));
      assert.ok(errLines.length >= 1 && errLines.length <= 3, `logged once per distinct error, not per sweep:\n${errLines.join('\n')}`);
      assert.match(errLines[0], new RegExp(`file=${data}/ghost-hunter\\.db`));
      assert.match(errLines[0], /full/i);
      rmSync(filler);
      const back = await waitFor('store_writable 1', async () => {
        const s = await scrape(lab, exporter!.port);
        return value(s, 'ghosthunter_store_writable') === 1 ? s : undefined;
      });
      assert.match(exporter.logs(), /state store is writable again/);
      assert.equal(await exporter.stop(), 0);
      exporter = undefined;
      const db = new Database(join(data, 'ghost-hunter.db'), { readonly: true });
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        assert.ok(db.prepare('SELECT 1 FROM devices WHERE mac = ?').get(joined.mac), 'the device seen during the outage was written');
        assert.ok(db.prepare("SELECT 1 FROM events WHERE kind = 'new_device' AND mac = ?").get(joined.mac), 'its event too');
      } finally {
        db.close();
      }
      console.log(`full disk: filled ${filled} bytes; ${value(back, 'ghosthunter_store_errors_total')} failed writes before recovery`);
    } finally {
      await exporter?.stop('SIGKILL');
      exporter = undefined;
      spawnSync('umount', [data]);
      mounts.splice(mounts.indexOf(data), 1);
    }
  });

  test('data directory goes read-only (ext4 errors=remount-ro): metrics say so, nothing lost, recovery after the repair', async () => {
    const img = join(dir, 'ro.img');
    const mnt = join(dir, 'ro');
    mkdirSync(mnt);
    writeFileSync(img, '');
    spawnSync('truncate', ['-s', '32M', img]);
    const mk = spawnSync('mkfs.ext4', ['-q', '-F', img], { encoding: 'utf8' });
    assert.equal(mk.status, 0, mk.stderr);
    const mount = () => {
      const r = spawnSync('mount', ['-o', 'loop,errors=remount-ro', img, mnt], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      mounts.push(mnt);
      return spawnSync('findmnt', ['-n', '-o', 'SOURCE', mnt], { encoding: 'utf8' }).stdout.trim().replace('/dev/', '');
    };
    const loop = mount();
    const data = join(mnt, 'data');
    try {
      exporter = startExporter(lab, [`--config.file=${writeConfig(dir, labConfig(lab, data), 'ro.yml')}`]);
      const before = await waitFor('first sweep stored', async () => {
        const s = await scrape(lab, exporter!.port);
        return value(s, 'ghosthunter_devices') === lab.devices().length + 1 && value(s, 'ghosthunter_store_writable') === 1 ? s : undefined;
      });
      spawnSync('sync', ['-f', join(data, 'ghost-hunter.db')]); // what was committed is on the disk before it fails
      // The disk fails: ext4 turns the file system read-only under the running exporter.
      writeFileSync(`/sys/fs/ext4/${loop}/trigger_fs_error`, 'ghost-hunter reliability test\n');
      assert.match(readFileSync('/proc/mounts', 'utf8'), new RegExp(`${mnt} ext4 (ro,.*|.*emergency_ro.*)$`, 'm'));
      await waitFor('store_writable 0', async () => value(await scrape(lab, exporter!.port), 'ghosthunter_store_writable') === 0);
      const joined = await lab.addDevice('198.18.0.51');
      await waitFor('device joins while read-only', async () => value(await scrape(lab, exporter!.port), 'ghosthunter_device_present', { mac: joined.mac }) === 1);
      const errLine = exporter.logs().split('\n').find((l) => l.includes('cannot write state store'))!;
      assert.match(errLine, new RegExp(`file=${data}/ghost-hunter\\.db`));
      assert.match(errLine, /code=SQLITE_(IOERR|READONLY)/, 'SQLite reports EROFS as an I/O error; the code says so');
      // The admin unmounts, repairs and remounts the disk (the exporter has let go of the file, so a
      // plain umount works); the exporter finds the store again by itself.
      // `ip netns exec` gave the exporter its own mount namespace (a copy): unmount there too.
      const umount = async (nsPid?: number) => {
        const cmd = nsPid ? ['nsenter', '-t', String(nsPid), '-m', 'umount', mnt] : ['umount', mnt];
        let um = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
        for (let i = 0; i < 20 && um.status !== 0 && !/not mounted/.test(um.stderr); i++) {
          await sleep(250); // a retry may hold the file for a moment
          um = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
        }
        assert.ok(um.status === 0 || /not mounted/.test(um.stderr), `the failed file system can be unmounted: ${um.stderr}`);
      };
      await umount(exporter.proc.pid);
      await umount();
      // Only when no mount is left is the failed superblock gone (else `mount` would hand it back).
      await waitFor('loop device released', async () => spawnSync('losetup', ['-j', img], { encoding: 'utf8' }).stdout.trim() === '' || (await umount(exporter!.proc.pid), await umount(), false), 40);
      mounts.splice(mounts.indexOf(mnt), 1);
      const fsck = spawnSync('e2fsck', ['-fy', img], { encoding: 'utf8' });
      mount();
      // No mount propagation here: mount the repaired disk in the exporter's namespace too (same loop device).
      const m2 = spawnSync('nsenter', ['-t', String(exporter.proc.pid), '-m', 'mount', `/dev/${spawnSync('findmnt', ['-n', '-o', 'SOURCE', mnt], { encoding: 'utf8' }).stdout.trim().replace('/dev/', '')}`, mnt], { encoding: 'utf8' });
      assert.equal(m2.status, 0, m2.stderr);
      const back = await waitFor('store_writable 1 after the remount', async () => {
        const s = await scrape(lab, exporter!.port);
        return value(s, 'ghosthunter_store_writable') === 1 ? s : undefined;
      }).catch((err: Error) => {
        const diag = [spawnSync('nsenter', ['-t', String(exporter!.proc.pid), '-m', 'grep', 'loop', '/proc/self/mountinfo'], { encoding: 'utf8' }).stdout, spawnSync('grep', ['loop', '/proc/self/mountinfo'], { encoding: 'utf8' }).stdout, spawnSync('losetup', ['-a'], { encoding: 'utf8' }).stdout].join('\n--\n');
        throw new Error(`${err.message}; e2fsck exit ${fsck.status}\n${diag}\n${exporter?.logs().split('\n').filter((l) => !l.includes('msg=event')).slice(-15).join('\n')}`);
      });
      assert.equal(exporter.proc.exitCode, null, 'no restart needed');
      assert.equal(await exporter.stop(), 0);
      exporter = undefined;
      const db = new Database(join(data, 'ghost-hunter.db'), { readonly: true });
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        for (const [key, v] of series(before, 'ghosthunter_device_first_seen_timestamp_seconds')) {
          const mac = /mac="([^"]+)"/.exec(key)![1];
          const row = db.prepare('SELECT first_seen FROM devices WHERE mac = ?').get(mac) as { first_seen: number } | undefined;
          assert.equal(row?.first_seen, v * 1000, `first_seen of ${mac}`);
        }
        assert.ok(db.prepare('SELECT 1 FROM devices WHERE mac = ?').get(joined.mac), 'the device seen while read-only was written');
        assert.ok(db.prepare("SELECT 1 FROM events WHERE kind = 'new_device' AND mac = ?").get(joined.mac), 'its event too');
      } finally {
        db.close();
      }
      console.log(`read-only: ${value(back, 'ghosthunter_store_errors_total')} failed writes until the remount; e2fsck exit ${fsck.status}`);
    } finally {
      await exporter?.stop('SIGKILL');
      exporter = undefined;
      if (mounts.includes(mnt)) {
        spawnSync('umount', [mnt]);
        mounts.splice(mounts.indexOf(mnt), 1);
      }
    }
  });

  test('kill -9 during sweeps and during a large write: a restart loses nothing committed', async () => {
    const data = join(dir, 'kill9');
    // A slow sweep (a /24 at 100 requests/s) so that a kill lands in the middle of one.
    const cfg = writeConfig(dir, labConfig(lab, data, '', '').replace('rate: 0', 'rate: 100'), 'kill9.yml');
    const file = join(data, 'ghost-hunter.db');
    const snapshot = () => {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        return db.transaction(() => ({
          devices: new Map((db.prepare('SELECT mac, first_seen FROM devices').all() as { mac: string; first_seen: number }[]).map((r) => [r.mac, r.first_seen])),
          maxEvent: (db.prepare('SELECT coalesce(max(id), 0) AS m FROM events').get() as { m: number }).m,
          events: (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n,
        }))();
      } finally {
        db.close();
      }
    };
    const snaps: ReturnType<typeof snapshot>[] = [];
    const kills: string[] = [];
    for (let round = 0; round < 5; round++) {
      exporter = startExporter(lab, [`--config.file=${cfg}`]);
      await waitFor('exporter up', async () => (value(await scrape(lab, exporter!.port), 'ghosthunter_sweeps_total') ?? 0) >= 1);
      await waitFor('store has the first sweep', async () => existsSync(file) && snapshot().devices.size >= 5);
      if (round % 2 === 0) {
        // During a sweep: the exporter sweeps nearly all the time at this rate.
        await sleep(300 + 400 * round);
        snaps.push(snapshot());
        exporter.proc.kill('SIGKILL');
        kills.push('sweep');
      } else {
        // During a write: 3000 new MACs make one big transaction; kill as soon as the WAL moves.
        snaps.push(snapshot());
        const wal = `${file}-wal`;
        const mtime0 = statSync(wal).mtimeMs;
        await inject(lab, injector, 'flood', 3000, 77 + round);
        // The flood is written at the end of the running sweep (a few seconds at this rate).
        let moved = false;
        for (let i = 0; i < 15_000 && !moved; i++) {
          moved = statSync(wal).mtimeMs !== mtime0;
          if (!moved) await sleep(1);
        }
        if (round === 3) await sleep(15); // once right at the start of the write, once a little into it
        exporter.proc.kill('SIGKILL');
        kills.push(moved ? `write+${round === 3 ? 15 : 0}ms` : 'write (WAL did not move)');
      }
      await exporter.stop();
      exporter = undefined;
    }
    exporter = startExporter(lab, [`--config.file=${cfg}`]);
    const s = await waitFor('restarted after the last kill', async () => {
      const s = await scrape(lab, exporter!.port);
      return value(s, 'ghosthunter_devices') === lab.devices().length + 1 ? s : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${exporter?.logs().slice(-3000)}`);
    });
    const last = snaps[snaps.length - 1];
    for (const d of lab.devices()) {
      assert.equal(value(s, 'ghosthunter_device_first_seen_timestamp_seconds', { mac: d.mac }), last.devices.get(d.mac)! / 1000, `first_seen of ${d.mac}`);
    }
    assert.equal(value(s, 'ghosthunter_events_total', { kind: 'new_device' }), 0, 'no known device is new again');
    await exporter.stop();
    exporter = undefined;
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      for (const snap of snaps) {
        for (const [mac, firstSeen] of snap.devices) {
          const row = db.prepare('SELECT first_seen FROM devices WHERE mac = ?').get(mac) as { first_seen: number } | undefined;
          assert.equal(row?.first_seen, firstSeen, `committed device ${mac} and its first_seen survive`);
        }
        const n = (db.prepare('SELECT count(*) AS n FROM events WHERE id <= ?').get(snap.maxEvent) as { n: number }).n;
        assert.equal(n, snap.events, 'every committed event survives');
      }
      // Atomic writes: a flooded MAC is in the inventory iff its new_device event is in the log.
      const floodDevices = (db.prepare("SELECT mac FROM devices WHERE mac NOT LIKE '00:16:3e:%'").all() as { mac: string }[]).map((r) => r.mac).sort();
      const floodEvents = (db.prepare("SELECT DISTINCT mac FROM events WHERE kind = 'new_device' AND mac NOT LIKE '00:16:3e:%'").all() as { mac: string }[]).map((r) => r.mac).sort();
      assert.deepEqual(floodDevices, floodEvents);
      console.log(`kill -9: ${kills.join(', ')}; store after: ${floodDevices.length} flooded devices, ${(db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n} events, integrity ok`);
    } finally {
      db.close();
    }
  });

  const badStores: [string, (file: string) => void, RegExp][] = [
    [
      "another application's SQLite file",
      (file) => {
        const db = new Database(file);
        db.exec('CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO moz_places (url) VALUES (\'https://example.org\')');
        db.close();
      },
      /is not a Ghost Hunter store/,
    ],
    ['random bytes', (file) => writeFileSync(file, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) & 255))), /is corrupt or not a database/],
    ['an empty (0-byte) file', (file) => writeFileSync(file, ''), /is empty \(0 bytes\), so it is no Ghost Hunter store/],
    [
      'a store with a damaged page',
      (file) => {
        const db = new Database(file);
        db.pragma('application_id = 1195920980'); // 'GHNT'
        db.exec('CREATE TABLE devices (interface TEXT, mac TEXT, x TEXT); CREATE INDEX d ON devices (mac)');
        const ins = db.prepare('INSERT INTO devices VALUES (?, ?, ?)');
        for (let i = 0; i < 2000; i++) ins.run('eth0', `mac${i}`, 'x'.repeat(50));
        db.close();
        const buf = readFileSync(file);
        buf.fill(0x5a, 4096 * 3, 4096 * 3 + 2000); // scribble over one page
        writeFileSync(file, buf);
      },
      /is corrupt/,
    ],
  ];
  for (const [what, make, pattern] of badStores) {
    test(`${what}: clear error naming the file, non-zero exit, file untouched`, async () => {
      const data = join(dir, `bad-${createHash('sha1').update(what).digest('hex').slice(0, 8)}`);
      mkdirSync(data, { recursive: true });
      const file = join(data, 'ghost-hunter.db');
      make(file);
      const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
      exporter = startExporter(lab, [`--config.file=${writeConfig(data, labConfig(lab, data), 'config.yml')}`]);
      const code = await new Promise<number | null>((res) => {
        if (exporter!.proc.exitCode !== null) res(exporter!.proc.exitCode);
        exporter!.proc.once('exit', (c) => res(c));
      });
      assert.notEqual(code, 0);
      const logs = exporter.logs();
      assert.match(logs, new RegExp(`ghost-hunter: error: ${file.replace(/[.]/g, '\\.')} `));
      assert.match(logs, pattern);
      assert.doesNotMatch(logs, /\n\s+at /, 'one clear line, no stack trace');
      assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), hash, 'the file is untouched');
      assert.ok(!existsSync(`${file}-wal`), 'no WAL created next to it');
      exporter = undefined;
    });
  }
});

describe('privileges: CAP_NET_RAW and nothing else', { timeout: 120_000 }, () => {
  const name = `${PREFIX}d`;
  let lab: Lab;
  let dir: string;
  const procs: ChildProcess[] = [];

  before(async () => {
    await cleanupStaleLabs(name);
    lab = await Lab.up(3, { name });
    dir = tempDir('rel-priv');
    chownSync(dir, NOBODY, NOBODY);
  });
  after(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await lab?.down();
    await cleanupStaleLabs(name);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function startAs(caps: string[], data: string, port: number) {
    mkdirSync(data);
    chownSync(data, NOBODY, NOBODY);
    const cfg = writeConfig(dir, labConfig(lab, data), `${port}.yml`);
    const proc = lab.spawnInScanner(
      ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...caps, process.execPath, '--import', 'tsx', join(REPO, 'src/cli.ts'), `--web.listen-address=127.0.0.1:${port}`, `--config.file=${cfg}`],
      { cwd: REPO, env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    procs.push(proc);
    let out = '';
    proc.stdout?.on('data', (d) => (out += d));
    proc.stderr?.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
    return { proc, logs: () => out, exited };
  }

  test('as an unprivileged user with only CAP_NET_RAW the exporter sweeps the lab', async () => {
    const port = 19_951;
    const e = startAs(['--inh-caps=+net_raw', '--ambient-caps=+net_raw'], join(dir, 'ok'), port);
    try {
      const s = await waitFor('devices seen as nobody', async () => {
        const s = await scrape(lab, port);
        return value(s, 'ghosthunter_devices') === 4 ? s : undefined;
      });
      assert.equal(value(s, 'ghosthunter_up'), 1);
      assert.equal(value(s, 'ghosthunter_store_writable'), 1);
      const status = readFileSync(`/proc/${e.proc.pid}/status`, 'utf8');
      assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, 'm'));
      assert.match(status, /^CapEff:\s+0000000000002000$/m, 'CAP_NET_RAW (bit 13) and nothing else');
      assert.doesNotMatch(e.logs(), /running as root/);
    } finally {
      e.proc.kill('SIGTERM');
      assert.equal(await e.exited, 0);
    }
  });

  test('without CAP_NET_RAW: the capability error and a non-zero exit', async () => {
    const e = startAs(['--inh-caps=-all'], join(dir, 'nocap'), 19_952);
    const code = await e.exited;
    assert.notEqual(code, 0);
    assert.match(e.logs(), /missing capability CAP_NET_RAW/);
    assert.doesNotMatch(e.logs(), /\n\s+at /, 'no stack trace');
  });

  test('the shipped systemd unit verifies and grants only CAP_NET_RAW inside a sandbox', () => {
    const unit = join(REPO, 'deploy/ghost-hunter.service');
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const text = readFileSync(unit, 'utf8');
    const directive = (key: string) => text.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim());
    assert.deepEqual(directive('AmbientCapabilities'), ['CAP_NET_RAW']);
    assert.deepEqual(directive('CapabilityBoundingSet'), ['CAP_NET_RAW']);
    assert.deepEqual(directive('NoNewPrivileges'), ['yes']);
    assert.deepEqual(directive('ProtectSystem'), ['strict']);
    assert.equal(directive('StateDirectory').length, 1);
    assert.notEqual(directive('User')[0] ?? 'root', 'root');
  });
});

describe('HTTP: oversized and slow clients, unknown paths, bcrypt for unknown users', { timeout: 120_000 }, () => {
  const name = `${PREFIX}e`;
  let lab: Lab;
  let dir: string;
  let exporter: RunningExporter | undefined;

  before(async () => {
    await cleanupStaleLabs(name);
    lab = await Lab.up(3, { name });
    dir = tempDir('rel-http');
    exporter = startExporter(lab, [`--config.file=${writeConfig(dir, labConfig(lab, join(dir, 'data')))}`]);
    await waitFor('exporter up', async () => value(await scrape(lab, exporter!.port), 'ghosthunter_devices') === 4);
  });
  after(async () => {
    await exporter?.stop();
    await lab?.down();
    await cleanupStaleLabs(name);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('oversized headers get 431, unknown paths 404', async () => {
    const base = `http://127.0.0.1:${exporter!.port}`;
    assert.equal((await http(lab, `${base}/metrics`, ['-H', `X-Big: ${'a'.repeat(20_000)}`])).status, 431);
    assert.equal((await http(lab, `${base}/metrics`, Array.from({ length: 200 }, (_, i) => ['-H', `X-H${i}: ${'b'.repeat(100)}`]).flat())).status, 431);
    for (const path of ['/nope', '/metrics/', '/metricsx', '/api/devices/1', '/-/', '/%2e%2e/etc/passwd', '/index.html']) {
      assert.equal((await http(lab, `${base}${path}`)).status, 404, path);
    }
    assert.equal((await http(lab, `${base}/nope`, ['-X', 'POST'])).status, 404);
    assert.equal((await http(lab, `${base}/metrics`)).status, 200, 'still serving');
  });

  test('slowloris: connections dribbling headers are cut off and sweeps go on', async () => {
    const CONNS = 50;
    const script = writeConfig(
      dir,
      `import net from 'node:net';
const [port, n] = process.argv.slice(2).map(Number);
const t0 = Date.now();
const result = { cut: [], answered: 0, open: 0 };
await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  let timer, done = false;
  const finish = () => { if (done) return; done = true; clearInterval(timer); result.cut.push(Date.now() - t0); resolve(); };
  s.on('connect', () => {
    s.write('GET /metrics HTTP/1.1\\r\\nHost: x\\r\\nX-Slow: ');
    timer = setInterval(() => { if (Date.now() - t0 > 40000) { result.open++; done = true; clearInterval(timer); s.destroy(); resolve(); } else s.write('a'); }, 500);
  });
  s.on('data', (d) => { if (/^HTTP\\/1\\.1 (?!200)/.test(String(d))) result.answered++; });
  s.on('close', finish);
  s.on('error', finish);
})));
console.log(JSON.stringify(result));
`,
      'slowloris.mjs',
    );
    const s0 = await scrape(lab, exporter!.port);
    const sweeps0 = value(s0, 'ghosthunter_sweeps_total')!;
    const attack = lab.exec([process.execPath, script, String(exporter!.port), String(CONNS)], { timeoutMs: 60_000 });
    let during = 0;
    let scrapesDuring = 0;
    let finished = false;
    void attack.then(() => (finished = true));
    for (let i = 0; i < 120 && !finished; i++) {
      await sleep(500);
      const s = await scrape(lab, exporter!.port); // throws (fails the test) if a scrape is refused
      scrapesDuring++;
      during = value(s, 'ghosthunter_sweeps_total')! - sweeps0;
    }
    const r = await attack;
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim()) as { cut: number[]; answered: number; open: number };
    assert.equal(result.open, 0, 'every slow connection was cut off by the server');
    assert.equal(result.cut.length, CONNS);
    assert.ok(during >= 3, `sweeps went on during the attack (${during})`);
    assert.equal(value(await scrape(lab, exporter!.port), 'ghosthunter_up'), 1);
    console.log(
      `slowloris: ${CONNS} connections cut after ${Math.min(...result.cut)}-${Math.max(...result.cut)} ms (${result.answered} got a 408); ` +
        `${during} sweeps and ${scrapesDuring} scrapes during the attack`,
    );
  });

  test('a wrong password and an unknown user both cost one bcrypt compare at the same cost', async () => {
    const hash = bcrypt.hashSync('s3cret', 10);
    const workers = new BcryptWorkers();
    const rounds: number[] = [];
    const counting = { verify: (p: string, h: string) => (rounds.push(bcrypt.getRounds(h)), workers.verify(p, h)) };
    const auth = new BasicAuth(new Map([['prometheus', hash], ['grafana', bcrypt.hashSync('other', 8)]]), counting);
    const header = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    try {
      const time = async (u: string) => {
        const ts: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t = performance.now();
          assert.equal((await auth.check(header(u, 'wrong'), `client-${u}`)).ok, false);
          ts.push(performance.now() - t);
        }
        return ts.sort((a, b) => a - b)[2];
      };
      const known = await time('prometheus');
      const knownRounds = rounds.splice(0);
      const unknown = await time('mallory');
      const unknownRounds = rounds.splice(0);
      assert.deepEqual(knownRounds, [10, 10, 10, 10, 10]);
      assert.deepEqual(unknownRounds, [10, 10, 10, 10, 10], 'unknown users are compared against the costliest real hash');
      console.log(`bcrypt: wrong password ${known.toFixed(1)} ms, unknown user ${unknown.toFixed(1)} ms (median of 5, ratio ${(unknown / known).toFixed(2)})`);
    } finally {
      await workers.close();
    }
  });
});
