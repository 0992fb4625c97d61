/**
 * Generator B, the common part: devices with their radios and MAC policies, a DHCP server, the
 * calendar in local time, and rendering the sweeps. Written apart from bench/anomaly/simulator.ts
 * (generator A), from other sources and assumptions: see bench/ANOMALY.md, "Generator B".
 *
 * Time is counted in sweeps of 5 minutes from local midnight of day 0; the history's unix times are
 * derived at the end (time-zone offset, a few seconds of jitter per sweep, gaps where the exporter
 * was restarted).
 */
import type { KnownDevice, SweepDevice, SweepRecord } from '../../../src/anomaly/types.js';
import { ipv4ToInt } from '../../../src/net/ipv4.js';
import { macFromBytes } from '../../../src/net/mac.js';
import { mulberry32, type Rng } from '../../../src/anomaly/prng.js';
import type { SimEvent, SimScenario } from '../scenario.js';

export const STEP = 300;
export const PER_HOUR = 12;
export const PER_DAY = 288;

/**
 * When a device answers ARP while it is connected: a two-state chain per device. Awake, it answers
 * with probability `awake`; dozing (Wi-Fi power save, Android Doze), with `doze`. It falls asleep with
 * probability `enter` per sweep and wakes with `leave`; phones doze longer at night.
 */
export interface Radio {
  awake: number;
  doze: number;
  enter: number;
  leave: number;
  night?: { enter: number; leave: number };
}

/**
 * How a device picks its MAC: `vendor` (burned-in), `fixed` (a private address kept per network: iOS 14+
 * "fixed", Android 10+ persistent), `reconnect` (Android non-persistent randomization: a new address when
 * it connects again after 4 h away), `rotating` (iOS 18 "rotating": a new address about every two weeks).
 */
export type MacPolicy = 'vendor' | 'fixed' | 'reconnect' | 'rotating';

export interface Device {
  name: string;
  role: string;
  policy: MacPolicy;
  oui: number[];
  staticIp?: string;
  /** connected (powered and associated/linked) per sweep */
  on: Uint8Array;
  radio: Radio;
  /** meant to be connected around the clock and with no routine gaps of more than a few sweeps */
  alwaysOn: boolean;
  /** the switch port / access point / mesh node it hangs off: what takes it down in a mass drop */
  segment: string;
  known?: Omit<KnownDevice, 'mac'>;
  /** explicit MAC schedule (a MAC-cycling device); otherwise derived from `policy` */
  macs?: { from: number; mac: string }[];
  /** also answers for these IPs (ARP spoofing) */
  extraIps?: { ip: string; from: number; to: number }[];
}

export const OUI: Record<'espressif' | 'speaker' | 'tv' | 'apple' | 'android' | 'pc' | 'dock' | 'infra' | 'nas' | 'camera' | 'voip' | 'printer' | 'pi' | 'qemu', number[][]> = {
  espressif: [[0x24, 0x0a, 0xc4], [0x84, 0xf3, 0xeb], [0xa4, 0xcf, 0x12]],
  speaker: [[0x00, 0x0e, 0x58], [0x44, 0x65, 0x0d], [0xf4, 0xf5, 0xd8]],
  tv: [[0x8c, 0x79, 0xf5], [0x04, 0x5e, 0xa4], [0xa8, 0x23, 0xfe]],
  apple: [[0x3c, 0x22, 0xfb], [0xf0, 0x18, 0x98], [0xa4, 0x83, 0xe7]],
  android: [[0x5c, 0x51, 0x88], [0x90, 0x97, 0xf3], [0x2c, 0x4d, 0x54]],
  pc: [[0x18, 0x66, 0xda], [0x54, 0xee, 0x75], [0x3c, 0x52, 0x82]],
  dock: [[0x00, 0xe0, 0x4c], [0x9c, 0xeb, 0xe8]],
  infra: [[0x24, 0x5a, 0x4c], [0xfc, 0xec, 0xda], [0x00, 0x1b, 0x21]],
  nas: [[0x00, 0x11, 0x32], [0x24, 0x5e, 0xbe]],
  camera: [[0x44, 0x19, 0xb6], [0xbc, 0xad, 0x28], [0x9c, 0x8e, 0xcd]],
  voip: [[0x80, 0x5e, 0xc0], [0x00, 0x04, 0xf2]],
  printer: [[0x3c, 0xd9, 0x2b], [0x00, 0x26, 0x73]],
  pi: [[0xdc, 0xa6, 0x32], [0xb8, 0x27, 0xeb]],
  qemu: [[0x52, 0x54, 0x00]],
};

export const WIRED: Radio = { awake: 0.997, doze: 0, enter: 0, leave: 1 };

export interface Calendar {
  days: number;
  /** day of week of day 0 (0 = Sunday) */
  dow0: number;
}

/** A DHCP server: `hash` picks the first free address from a hash of the MAC (dnsmasq), `lowest` the lowest free one (Windows Server). */
export class Dhcp {
  private byMac = new Map<string, { ip: string; until: number }>();
  private byIp = new Map<string, { mac: string; until: number }>();
  constructor(
    private readonly pool: string[],
    private readonly leaseSweeps: number,
    private readonly strategy: 'hash' | 'lowest',
  ) {}

  /** The address of `mac` while connected at sweep i (renewing its lease). */
  ip(mac: string, i: number): string {
    const lease = this.byMac.get(mac);
    if (lease && (lease.until >= i || this.freeFor(lease.ip, mac, i))) return this.bind(mac, lease.ip, i);
    const n = this.pool.length;
    const start = this.strategy === 'hash' ? hashMac(mac) % n : 0;
    for (let k = 0; k < n; k++) {
      const ip = this.pool[(start + k) % n];
      if (this.freeFor(ip, mac, i)) return this.bind(mac, ip, i);
    }
    throw new Error('DHCP pool exhausted');
  }

  private freeFor(ip: string, mac: string, i: number): boolean {
    const holder = this.byIp.get(ip);
    return !holder || holder.mac === mac || holder.until < i;
  }

  private bind(mac: string, ip: string, i: number): string {
    const until = i + this.leaseSweeps;
    const old = this.byMac.get(mac);
    if (old && old.ip !== ip && this.byIp.get(old.ip)?.mac === mac) this.byIp.delete(old.ip);
    this.byMac.set(mac, { ip, until });
    this.byIp.set(ip, { mac, until });
    return ip;
  }
}

function hashMac(mac: string): number {
  let h = 2166136261;
  for (let k = 0; k < mac.length; k++) h = Math.imul(h ^ mac.charCodeAt(k), 16777619) >>> 0;
  return h;
}

/** Base of the home and office builders: calendar, devices, events and the final rendering. */
export abstract class Network {
  readonly rng: Rng;
  readonly n: number;
  readonly cal: Calendar;
  devices: Device[] = [];
  events: { kind: string; anomalous: boolean; start: number; end: number; observable: number; note: string }[] = [];
  /** sweeps the exporter did not run (restarts) */
  skipped: Uint8Array = new Uint8Array(0);
  /** segment -> the segment it hangs off (an office AP on its floor's PoE switch) */
  readonly parents = new Map<string, string>();
  /** spans taken by injected anomalies (no two overlap) */
  private taken: { from: number; to: number }[] = [];
  abstract readonly name: string;
  abstract readonly prefix: string;
  abstract readonly gatewayIp: string;
  abstract dhcp(): Dhcp;

  constructor(
    readonly seed: number,
    days: number,
    salt: number,
  ) {
    this.rng = mulberry32((seed * 2654435761 + salt) >>> 0);
    this.cal = { days, dow0: Math.floor(this.rng() * 7) };
    this.n = days * PER_DAY;
    this.skipped = new Uint8Array(this.n);
  }

  // ---- calendar (local time)
  at(day: number, hour: number): number {
    return Math.max(0, Math.min(this.n, day * PER_DAY + Math.round(hour * PER_HOUR)));
  }
  dow(day: number): number {
    return (this.cal.dow0 + day) % 7;
  }
  weekend(day: number): boolean {
    const d = this.dow(day);
    return d === 0 || d === 6;
  }
  hourOf(i: number): number {
    return (i % PER_DAY) / PER_HOUR;
  }

  // ---- random draws
  uniform(lo: number, hi: number): number {
    return lo + this.rng() * (hi - lo);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.rng() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)];
  }
  normal(mean: number, sd: number): number {
    const u = Math.max(1e-12, this.rng());
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng());
  }
  /** log-uniform between lo and hi */
  logUniform(lo: number, hi: number): number {
    return Math.exp(this.uniform(Math.log(lo), Math.log(hi)));
  }
  poisson(mean: number): number {
    const l = Math.exp(-mean);
    let k = 0;
    let p = this.rng();
    while (p > l) {
      k++;
      p *= this.rng();
    }
    return k;
  }

  newMac(oui: readonly number[] | null): string {
    const r = () => Math.floor(this.rng() * 256);
    if (!oui) return macFromBytes(Uint8Array.of((r() & 0xfc) | 0x02, r(), r(), r(), r(), r()));
    return macFromBytes(Uint8Array.of(oui[0], oui[1], oui[2], r(), r(), r()));
  }

  add(d: Omit<Device, 'on'> & { on?: Uint8Array }): Device {
    const dev: Device = { ...d, on: d.on ?? new Uint8Array(this.n) };
    this.devices.push(dev);
    return dev;
  }

  /** A device connected around the clock. */
  always(name: string, role: string, oui: readonly (readonly number[])[], radio: Radio, segment: string, o: Partial<Device> = {}): Device {
    const d = this.add({ name, role, policy: 'vendor', oui: [...this.pick(oui)], radio, alwaysOn: true, segment, ...o });
    d.on.fill(1);
    return d;
  }

  /** A Wi-Fi IoT radio: mostly answering, short dozes. */
  iotRadio(): Radio {
    return { awake: this.uniform(0.93, 0.995), doze: this.uniform(0, 0.2), enter: this.uniform(0.002, 0.015), leave: this.uniform(0.4, 0.8) };
  }

  /** A phone: answers well when awake, dozes often and long at night. */
  phoneRadio(): Radio {
    return {
      awake: this.uniform(0.85, 0.97),
      doze: 0,
      enter: this.uniform(0.01, 0.03),
      leave: 0.5,
      night: { enter: this.uniform(0.04, 0.1), leave: this.uniform(0.12, 0.3) },
    };
  }

  /** A personal device's MAC policy from the shares of phone OSes and their defaults (bench/ANOMALY.md). */
  phonePolicy(): MacPolicy {
    const r = this.rng();
    return r < 0.55 ? 'fixed' : r < 0.72 ? 'reconnect' : r < 0.82 ? 'rotating' : 'vendor';
  }

  setOn(d: Device, from: number, to: number, v: 0 | 1 = 1): void {
    d.on.fill(v, Math.max(0, from), Math.max(0, Math.min(this.n, to)));
  }

  /** Mark the device connected in [from, to) only where `mask` (a person's presence) is set. */
  onWhere(d: Device, mask: Uint8Array, from: number, to: number): void {
    for (let i = Math.max(0, from); i < Math.min(this.n, to); i++) if (mask[i]) d.on[i] = 1;
  }

  event(kind: string, anomalous: boolean, start: number, end: number, note: string, observable = start): void {
    this.events.push({ kind, anomalous, start, end, observable, note });
  }

  /** Claim [from, to] for an anomaly; false when it would overlap another (with an hour of margin) or a sweep gap. */
  reserve(from: number, to: number): boolean {
    if (from < 0 || to >= this.n) return false;
    for (const t of this.taken) if (from < t.to + PER_HOUR && to + PER_HOUR > t.from) return false;
    for (let i = Math.max(0, from - PER_HOUR); i <= Math.min(this.n - 1, to + PER_HOUR); i++) if (this.skipped[i]) return false;
    this.taken.push({ from, to });
    return true;
  }

  /** The devices a failure of `segment` takes down: the switch/AP itself and everything hanging off it. */
  devicesUnder(segment: string): Device[] {
    const under = (s: string): boolean => s === segment || (this.parents.has(s) && under(this.parents.get(s)!));
    return this.devices.filter((d) => d.name === segment || under(d.segment));
  }

  /** Exporter restarts: a few runs of sweeps that were never taken. */
  restarts(count: number): void {
    for (let k = 0; k < count; k++) {
      const s = this.int(2 * PER_DAY, this.n - PER_DAY);
      const len = this.int(2, 8);
      this.skipped.fill(1, s, s + len);
      this.event('exporter_restart', false, s, s + len, `${len} sweeps not taken`);
    }
  }

  /** Firmware updates: each always-on Wi-Fi device is offline once for 5-15 min, at night. */
  firmwareUpdates(): void {
    for (const d of this.devices) {
      if (!d.alwaysOn || d.radio === WIRED || !this.chance(0.6)) continue;
      const day = this.int(1, this.cal.days - 1);
      const s = this.at(day, this.uniform(2, 5));
      const len = this.int(1, 3);
      this.setOn(d, s, s + len, 0);
      this.event('firmware_update', false, s, s + len, d.name);
    }
  }

  /** The MAC each device uses at each sweep, from its policy. */
  private macSchedule(d: Device): { from: number; mac: string }[] {
    if (d.macs) return d.macs;
    const random = d.policy !== 'vendor';
    const out = [{ from: 0, mac: this.newMac(random ? null : d.oui) }];
    if (d.policy !== 'reconnect' && d.policy !== 'rotating') return out;
    let offSince = -Infinity;
    let lastChange = 0;
    const rotateEvery = this.int(12, 16) * PER_DAY;
    for (let i = 1; i < this.n; i++) {
      if (!d.on[i]) {
        if (d.on[i - 1]) offSince = i;
        continue;
      }
      if (d.on[i - 1]) continue;
      const away = i - offSince;
      const renew = d.policy === 'reconnect' ? away >= 4 * PER_HOUR : i - lastChange >= rotateEvery;
      if (renew) {
        out.push({ from: i, mac: this.newMac(null) });
        lastChange = i;
        this.event('mac_rotation', false, i, i + 3, `${d.name} (${d.policy})`);
      }
    }
    return out;
  }

  /** The history: who answered each sweep, and the events with unix times. */
  render(tzOffsetMinutes: number, startLocalMidnight: number, knownShare: (d: Device) => boolean): SimScenario {
    const dhcp = this.dhcp();
    const schedules = this.devices.map((d) => this.macSchedule(d));
    const ptr = new Int32Array(this.devices.length);
    const dozing = new Uint8Array(this.devices.length);
    const t0 = startLocalMidnight - tzOffsetMinutes * 60;
    const tsOf = new Float64Array(this.n);
    const sweeps: SweepRecord[] = [];
    for (let i = 0; i < this.n; i++) {
      tsOf[i] = t0 + i * STEP + Math.floor(this.rng() * 4);
      const night = this.hourOf(i) < 7;
      const devices: SweepDevice[] = [];
      this.devices.forEach((d, k) => {
        const r = d.radio;
        const enter = night && r.night ? r.night.enter : r.enter;
        const leave = night && r.night ? r.night.leave : r.leave;
        if (dozing[k]) {
          if (this.rng() < leave) dozing[k] = 0;
        } else if (this.rng() < enter) dozing[k] = 1;
        if (!d.on[i]) return;
        const sched = schedules[k];
        while (ptr[k] + 1 < sched.length && sched[ptr[k] + 1].from <= i) ptr[k]++;
        const mac = sched[ptr[k]].mac;
        // a connected device keeps its lease whether or not it answers this sweep
        const ip = d.staticIp ?? dhcp.ip(mac, i);
        if (this.skipped[i] || this.rng() >= (dozing[k] ? r.doze : r.awake)) return;
        devices.push({ mac, ip });
        for (const x of d.extraIps ?? []) if (i >= x.from && i < x.to) devices.push({ mac, ip: x.ip });
      });
      if (this.skipped[i]) continue;
      devices.sort((a, b) => ipv4ToInt(a.ip) - ipv4ToInt(b.ip));
      sweeps.push({ tsSeconds: tsOf[i], devices });
    }
    const known: KnownDevice[] = [];
    this.devices.forEach((d, k) => {
      if (d.known && knownShare(d)) known.push({ mac: schedules[k][0].mac, ...d.known });
    });
    const ts = (i: number) => tsOf[Math.max(0, Math.min(this.n - 1, i))];
    const events: SimEvent[] = this.events
      .map((e) => ({ kind: e.kind, anomalous: e.anomalous, start: ts(e.start), end: ts(e.end), observableFrom: ts(e.observable), note: e.note }))
      .sort((a, b) => a.start - b.start);
    return {
      name: this.name,
      interval: STEP,
      sweeps,
      events,
      known,
      gatewayIp: this.gatewayIp,
      tzOffsetMinutes,
      trainUntil: ts(Math.floor(this.n / 2) - 1),
    };
  }
}

/** `prefix.lo` .. `prefix.hi`, or over two /24s when hi > 255 (10.40.0.x, then 10.40.1.x). */
export function addressRange(prefix16: string, lo: number, hi: number): string[] {
  const out: string[] = [];
  for (let k = lo; k <= hi; k++) out.push(`${prefix16}.${Math.floor(k / 256)}.${k % 256}`);
  return out.filter((ip) => !ip.endsWith('.0') && !ip.endsWith('.255'));
}
