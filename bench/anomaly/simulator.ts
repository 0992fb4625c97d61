/**
 * Seeded simulator of a household or a small-office LAN swept by ARP every 5 minutes, with labelled
 * anomalies and benign events (see the issue). Everything random comes from one mulberry32 stream, so a
 * seed reproduces the same history.
 *
 * Modelled: always-on devices with 1 % ARP loss, phones (Wi-Fi power save: 15-25 % missed replies) and
 * laptops following daily and weekly rhythms of their owners, guests, DHCP leases (24 h, a fresh lease
 * picks a random free address not handed out in the last day), private MACs (stable per network, one
 * phone rotating daily), nightly IoT reboots and a Wi-Fi extender doing MAC-NAT (clients behind it answer
 * ARP with the extender's MAC).
 */
import type { KnownDevice, SweepDevice, SweepRecord } from '../../src/anomaly/types.js';
import { ipv4ToInt } from '../../src/net/ipv4.js';
import { macFromBytes } from '../../src/net/mac.js';
import { mulberry32, type Rng } from '../../src/anomaly/prng.js';
import { pick, poisson, randInt } from './random.js';
import { ANOMALY_KINDS, type AnomalyKind, type SimEvent, type SimScenario } from './scenario.js';

export { ANOMALY_KINDS, labelSweeps, toJsonl, type AnomalyKind, type SimEvent, type SimScenario } from './scenario.js';
export const BENIGN_KINDS = ['guests', 'party', 'cleaner', 'family_trip', 'iot_reboot', 'new_device', 'mac_rotation', 'dhcp_change', 'extender_nat'] as const;

export interface SimOptions {
  seed: number;
  weeks?: number;
  /** anomalies of each kind in the first (training) half and in the second half */
  anomaliesTrainHalf?: number;
  anomaliesTestHalf?: number;
}

const INTERVAL = 300;
const PER_DAY = 288;
const START = 1704067200; // Monday 2024-01-01 00:00 UTC (simulated local time = UTC)
const VENDOR_OUIS = [
  [0x00, 0x11, 0x32], [0xb8, 0x27, 0xeb], [0xdc, 0xa6, 0x32], [0x3c, 0x22, 0xfb], [0xf0, 0x18, 0x98], [0x00, 0x17, 0x88],
  [0x44, 0x65, 0x0d], [0x18, 0xb4, 0x30], [0x50, 0xc7, 0xbf], [0x00, 0x1e, 0xc2], [0x64, 0x16, 0x66], [0xa4, 0x77, 0x33],
  [0x00, 0x0c, 0x29], [0x70, 0xb3, 0xd5], [0xec, 0xfa, 0xbc], [0x24, 0x0a, 0xc4], [0x9c, 0x8e, 0xcd], [0x00, 0x04, 0xf2],
];

interface Dev {
  name: string;
  cls: string;
  macs: { from: number; mac: string }[]; // MAC in use from sweep index `from`
  staticIp?: string;
  present: Uint8Array;
  answer: (i: number) => number;
  alwaysOn: boolean;
  segment?: string;
  known?: Omit<KnownDevice, 'mac'>;
  viaExtender?: Uint8Array;
  extraIps?: { ip: string; from: number; to: number }[]; // also answers for these IPs (attacker)
  forceNewIp?: Set<number>;
}

class Dhcp {
  private leases = new Map<string, { ip: string; lastSeen: number }>();
  private issued = new Map<string, number>(); // ip -> last time it was seen in use
  constructor(private prefix: string, private lo: number, private hi: number, private rng: Rng, reserved: string[]) {
    for (const r of reserved) this.issued.set(r, Infinity);
  }
  ip(mac: string, i: number, forceNew = false): string {
    const l = this.leases.get(mac);
    if (l && !forceNew && i - l.lastSeen <= PER_DAY) {
      l.lastSeen = i;
      this.issued.set(l.ip, i);
      return l.ip;
    }
    if (l && !forceNew && this.free(l.ip, i, mac)) {
      l.lastSeen = i;
      this.issued.set(l.ip, i);
      return l.ip;
    }
    for (let tries = 0; tries < 500; tries++) {
      const ip = `${this.prefix}.${randInt(this.rng, this.lo, this.hi)}`;
      if (this.free(ip, i, mac) && ip !== l?.ip) {
        this.leases.set(mac, { ip, lastSeen: i });
        this.issued.set(ip, i);
        return ip;
      }
    }
    throw new Error('DHCP pool exhausted');
  }
  private free(ip: string, i: number, mac: string): boolean {
    const last = this.issued.get(ip);
    if (last === undefined) return true;
    if (last === Infinity) return false;
    for (const [m, l] of this.leases) if (l.ip === ip && m !== mac && i - l.lastSeen <= PER_DAY) return false;
    return i - last > PER_DAY;
  }
}

export function simulateScenario(kind: 'household' | 'office', opts: SimOptions): SimScenario {
  const b = new Builder(kind, opts);
  return b.build();
}

class Builder {
  rng: Rng;
  weeks: number;
  n: number;
  devs: Dev[] = [];
  events: SimEvent[] = [];
  prefix: string;
  gatewayIp: string;
  extender!: Dev;
  guestPool: Dev[] = [];
  occupied: { from: number; to: number }[] = [];

  constructor(private kind: 'household' | 'office', private opts: SimOptions) {
    this.rng = mulberry32(opts.seed * 7919 + (kind === 'office' ? 17 : 3));
    this.weeks = opts.weeks ?? 8;
    this.n = this.weeks * 7 * PER_DAY;
    this.prefix = kind === 'household' ? '192.168.1' : '10.20.0';
    this.gatewayIp = `${this.prefix}.1`;
  }

  ts(i: number): number {
    return START + i * INTERVAL;
  }
  idx(day: number, hour: number): number {
    return Math.max(0, Math.min(this.n, day * PER_DAY + Math.round(hour * 12)));
  }
  dow(day: number): number {
    return (day + 1) % 7; // day 0 is a Monday; 0 = Sunday
  }
  weekend(day: number): boolean {
    const d = this.dow(day);
    return d === 0 || d === 6;
  }
  hourOf(i: number): number {
    return (i % PER_DAY) / 12;
  }

  mac(random: boolean, oui?: number[]): string {
    const r = () => Math.floor(this.rng() * 256);
    if (random) return macFromBytes(Uint8Array.of((r() & 0xfc) | 0x02, r(), r(), r(), r(), r()));
    const o = oui ?? pick(this.rng, VENDOR_OUIS);
    return macFromBytes(Uint8Array.of(o[0], o[1], o[2], r(), r(), r()));
  }

  dev(name: string, cls: string, o: Partial<Dev> & { random?: boolean } = {}): Dev {
    const d: Dev = {
      name,
      cls,
      macs: [{ from: 0, mac: this.mac(!!o.random) }],
      present: new Uint8Array(this.n),
      answer: () => 0.99,
      alwaysOn: false,
      ...o,
    };
    this.devs.push(d);
    return d;
  }

  alwaysOn(name: string, cls: string, ip: string | undefined, o: Partial<Dev> = {}): Dev {
    const d = this.dev(name, cls, { staticIp: ip, alwaysOn: true, known: { name, class: cls }, ...o });
    d.present.fill(1);
    return d;
  }

  fill(d: Dev, from: number, to: number, v = 1): void {
    d.present.fill(v, Math.max(0, from), Math.max(0, Math.min(this.n, to)));
  }

  /** A person's at-home mask following a daily rhythm. */
  person(type: 'worker' | 'student' | 'home' | 'employee' | 'parttime'): Uint8Array {
    const home = new Uint8Array(this.n);
    const rng = this.rng;
    const days = this.weeks * 7;
    if (type === 'employee' || type === 'parttime') {
      // at the office
      for (let d = 0; d < days; d++) {
        const we = this.weekend(d);
        if (we) {
          if (rng() < 0.08) home.fill(1, this.idx(d, 10 + rng() * 3), this.idx(d, 13 + rng() * 3));
          continue;
        }
        if (rng() < 0.06) continue; // sick / remote
        if (type === 'parttime' && rng() < 0.5) continue;
        const arrive = 7.5 + rng() * 2;
        const leave = type === 'parttime' ? 12.5 + rng() * 2 : 16.5 + rng() * 2;
        home.fill(1, this.idx(d, arrive), this.idx(d, leave));
        if (rng() < 0.35) home.fill(0, this.idx(d, 12 + rng() * 0.5), this.idx(d, 12.75 + rng() * 0.5)); // lunch out
      }
      return home;
    }
    home.fill(1);
    for (let d = 0; d < days; d++) {
      const we = this.weekend(d);
      if (!we && type !== 'home') {
        const wfh = type === 'worker' && rng() < 0.2;
        if (!wfh) {
          const leave = type === 'student' ? 7.4 + rng() * 0.4 : 7 + rng() * 1.5;
          const back = type === 'student' ? 15 + rng() * 2.5 : 16.5 + rng() * 2.5;
          home.fill(0, this.idx(d, leave), this.idx(d, back));
        }
        if (rng() < 0.25) {
          const s = 18.5 + rng() * 2;
          home.fill(0, this.idx(d, s), this.idx(d, s + 1 + rng() * 2));
        }
      } else {
        const outings = rng() < 0.65 ? randInt(rng, 1, 2) : 0;
        for (let k = 0; k < outings; k++) {
          const s = 9.5 + rng() * 9;
          home.fill(0, this.idx(d, s), this.idx(d, s + 1.5 + rng() * 3.5));
        }
      }
    }
    return home;
  }

  phone(name: string, home: Uint8Array, o: { random?: boolean; known?: boolean; rotateDaily?: boolean } = {}): Dev {
    const d = this.dev(name, 'phone', {
      random: o.random ?? true,
      known: o.known === false ? undefined : { name, class: 'phone', can_sleep: true },
      answer: (i) => {
        const h = this.hourOf(i);
        return h < 6.5 || h >= 23.5 ? 0.72 : 0.85;
      },
    });
    d.present.set(home);
    if (o.rotateDaily) {
      let last = 0;
      for (let i = 1; i < this.n; i++) {
        if (d.present[i] && i - last >= PER_DAY && (!d.present[i - 1] || i - last >= PER_DAY + 18)) {
          d.macs.push({ from: i, mac: this.mac(true) });
          last = i;
          this.events.push({ kind: 'mac_rotation', anomalous: false, start: this.ts(i), end: this.ts(i + 3), observableFrom: this.ts(i), note: name });
        }
      }
    }
    return d;
  }

  sessions(name: string, cls: string, home: Uint8Array, pick: (day: number) => [number, number][], o: { random?: boolean; known?: boolean } = {}): Dev {
    const d = this.dev(name, cls, { random: o.random ?? false, known: o.known === false ? undefined : { name, class: cls, can_sleep: true }, answer: () => 0.95 });
    for (let day = 0; day < this.weeks * 7; day++)
      for (const [s, e] of pick(day)) for (let i = this.idx(day, s); i < this.idx(day, e); i++) if (home[i]) d.present[i] = 1;
    return d;
  }

  /** Reserve a time span for an anomaly so anomalies never overlap each other. */
  reserve(from: number, to: number): boolean {
    for (const o of this.occupied) if (from < o.to + 36 && to + 36 > o.from) return false;
    this.occupied.push({ from, to });
    return true;
  }

  build(): SimScenario {
    if (this.kind === 'household') this.household();
    else this.office();
    this.nightlyReboots();
    this.dhcpChanges();
    this.injectAnomalies();
    return this.render();
  }

  household(): void {
    const rng = this.rng;
    const p = this.prefix;
    this.alwaysOn('router', 'gateway', this.gatewayIp, { known: { name: 'router', class: 'gateway', critical: true } });
    this.extender = this.alwaysOn('wifi-extender', 'extender', `${p}.2`);
    this.alwaysOn('nas', 'storage', `${p}.10`, { known: { name: 'nas', class: 'storage', critical: true } });
    this.alwaysOn('tv', 'tv', undefined, { segment: 'living' });
    this.alwaysOn('speaker-living', 'speaker', undefined, { segment: 'living' });
    this.alwaysOn('hub', 'iot', undefined, { segment: 'living' });
    this.alwaysOn('speaker-kitchen', 'speaker', undefined);
    this.alwaysOn('thermostat', 'iot', undefined);
    for (let k = 0; k < 4; k++) this.alwaysOn(`plug-${k}`, 'plug', undefined, { segment: k < 2 ? 'living' : undefined });
    this.alwaysOn('camera-garage', 'camera', undefined, { segment: 'garage', known: { name: 'camera-garage', class: 'camera', critical: true } });
    this.alwaysOn('doorbell', 'camera', undefined, { segment: 'garage', known: { name: 'doorbell', class: 'camera', critical: true } });
    this.alwaysOn('garage-plug', 'plug', undefined, { segment: 'garage' });
    this.alwaysOn('garage-sensor', 'iot', undefined, { segment: 'garage' });
    // garden camera: always behind the extender (only ever seen through its MAC-NAT)
    const garden = this.alwaysOn('camera-garden', 'camera', undefined);
    garden.viaExtender = new Uint8Array(this.n).fill(1);
    // printer sleeps
    const printer = this.dev('printer', 'printer', { known: { name: 'printer', class: 'printer', can_sleep: true }, answer: () => 0.97 });
    for (let d = 0; d < this.weeks * 7; d++) if (rng() < 0.4) this.fill(printer, this.idx(d, 8 + rng() * 12), this.idx(d, 8 + rng() * 12) + randInt(rng, 3, 15));
    // people
    const a1 = this.person('worker');
    const a2 = this.person('worker');
    const k1 = this.person('student');
    const k2 = this.person('student');
    const everyone = [a1, a2, k1, k2];
    this.familyTrips(everyone);
    this.phone('phone-a1', a1, { random: false });
    this.phone('phone-a2', a2);
    const teen = this.phone('phone-k1', k1, { rotateDaily: true, known: false });
    this.phone('phone-k2', k2);
    // the teen's phone is behind the extender most nights (bedroom upstairs)
    teen.viaExtender = new Uint8Array(this.n);
    for (let d = 0; d < this.weeks * 7; d++) if (rng() < 0.6) teen.viaExtender.fill(1, this.idx(d, 21 + rng() * 2), this.idx(d + 1, 6.5 + rng()));
    this.events.push({ kind: 'extender_nat', anomalous: false, start: this.ts(0), end: this.ts(this.n - 1), observableFrom: this.ts(0), note: 'garden camera and teen phone via extender' });
    const evening = (p: number) => (): [number, number][] => (rng() < p ? [[18.5 + rng() * 1.5, 21.5 + rng() * 2]] : []);
    this.sessions('laptop-a1', 'laptop', a1, (day) => [...evening(0.7)(), ...(this.weekend(day) ? [] : ([[8.5, 17]] as [number, number][]))]);
    this.sessions('laptop-a2', 'laptop', a2, evening(0.6), { random: true });
    this.sessions('tablet-k2', 'tablet', k2, () => (rng() < 0.6 ? [[16 + rng(), 19 + rng() * 1.5]] : []), { random: true });
    this.sessions('console', 'console', k1, (day) => (rng() < (this.weekend(day) ? 0.6 : 0.35) ? [[this.weekend(day) ? 13 + rng() * 4 : 17 + rng(), 20 + rng() * 2]] : []), { known: false });
    // guests, parties, cleaner, new devices
    this.makeGuestPool(30);
    this.guests(2.2, (day) => (this.weekend(day) ? [11, 20.5] : [17, 20.5]), [1, 4], [1, 5]);
    this.parties(3, 'party', () => [19, 20], [10, 20], [22.5, 25.5]);
    this.cleaner((day) => this.dow(day) === 3, 9, 12);
    this.newDevices(2, 'iot');
  }

  office(): void {
    const rng = this.rng;
    const p = this.prefix;
    this.alwaysOn('router', 'gateway', this.gatewayIp, { known: { name: 'router', class: 'gateway', critical: true } });
    for (let k = 0; k < 2; k++) this.alwaysOn(`switch-${k}`, 'switch', `${p}.${2 + k}`);
    for (let k = 0; k < 3; k++) this.alwaysOn(`ap-${k}`, 'ap-wired', `${p}.${5 + k}`);
    this.extender = this.alwaysOn('warehouse-extender', 'extender', `${p}.8`, { segment: 'warehouse' });
    for (let k = 0; k < 3; k++) this.alwaysOn(`server-${k}`, 'server', `${p}.${10 + k}`, { known: { name: `server-${k}`, class: 'server', critical: true } });
    this.alwaysOn('nas', 'storage', `${p}.13`);
    for (let k = 0; k < 2; k++) this.alwaysOn(`printer-${k}`, 'printer', `${p}.${20 + k}`);
    this.alwaysOn('nvr', 'nvr', `${p}.30`, { segment: 'cameras' });
    for (let k = 0; k < 6; k++) this.alwaysOn(`camera-${k}`, 'camera', `${p}.${31 + k}`, { segment: 'cameras' });
    for (let k = 0; k < 6; k++) this.alwaysOn(`voip-${k}`, 'voip', undefined, { segment: 'voip' });
    for (let k = 0; k < 3; k++) this.alwaysOn(`dashboard-${k}`, 'tv', undefined);
    this.alwaysOn('badge-reader', 'iot', `${p}.40`, { known: { name: 'badge-reader', class: 'iot', critical: true } });
    for (let k = 0; k < 2; k++) {
      const s = this.alwaysOn(`scanner-${k}`, 'scanner', undefined, { segment: 'warehouse' });
      s.viaExtender = new Uint8Array(this.n).fill(1);
    }
    this.events.push({ kind: 'extender_nat', anomalous: false, start: this.ts(0), end: this.ts(this.n - 1), observableFrom: this.ts(0), note: 'warehouse scanners and roaming phones via extender' });
    const staff: Uint8Array[] = [];
    for (let k = 0; k < 18; k++) staff.push(this.person(k < 14 ? 'employee' : 'parttime'));
    this.holidays(staff);
    staff.forEach((home, k) => {
      const ph = this.phone(`phone-${k}`, home, { random: k % 5 !== 0, rotateDaily: k === 3 || k === 11, known: k % 4 !== 1 });
      if (k % 6 === 2) {
        // warehouse staff roam behind the extender part of the day
        ph.viaExtender = new Uint8Array(this.n);
        for (let d = 0; d < this.weeks * 7; d++) if (rng() < 0.7) ph.viaExtender.fill(1, this.idx(d, 10 + rng() * 2), this.idx(d, 14 + rng() * 2));
      }
      const ws = this.dev(`ws-${k}`, 'workstation', { known: { name: `ws-${k}`, class: 'workstation', can_sleep: true }, answer: () => 0.98 });
      const leftOn = rng() < 0.25;
      for (let i = 0; i < this.n; i++) if (home[i]) ws.present[i] = 1;
      if (leftOn) {
        // left running overnight Monday to Thursday: on from the evening until its owner is back
        for (let d = 0; d + 1 < this.weeks * 7; d++) {
          if (this.weekend(d) || this.dow(d) === 5) continue;
          let lastOn = -1;
          for (let i = this.idx(d, 0); i < this.idx(d + 1, 0); i++) if (ws.present[i]) lastOn = i;
          let nextOn = -1;
          for (let i = this.idx(d + 1, 0); i < this.idx(d + 2, 0); i++) if (ws.present[i]) { nextOn = i; break; }
          if (lastOn >= 0 && nextOn >= 0) ws.present.fill(1, lastOn, nextOn);
        }
      }
      if (k < 8) this.sessions(`laptop-${k}`, 'laptop', home, () => [[8, 18]], { random: k % 2 === 0 });
    });
    this.makeGuestPool(60);
    this.guests(6, (day) => (this.weekend(day) ? null : [9, 16]), [1, 2], [0.5, 3]);
    this.parties(1.5, 'party', (day) => (this.weekend(day) ? null : pick(rng, [[9.5, 10], [13.5, 14]] as [number, number][])), [4, 8], [2, 2.5], true);
    this.cleaner((day) => !this.weekend(day), 18.5, 20);
    this.newDevices(2, 'workstation');
  }

  familyTrips(people: Uint8Array[]): void {
    const days = this.weeks * 7;
    let d = 5 + randInt(this.rng, 0, 6);
    while (d < days - 4) {
      const len = randInt(this.rng, 2, 4);
      const s = this.idx(d, 8 + this.rng() * 4);
      const e = this.idx(d + len, 15 + this.rng() * 4);
      for (const p of people) p.fill(0, s, e);
      this.events.push({ kind: 'family_trip', anomalous: false, start: this.ts(s), end: this.ts(e), observableFrom: this.ts(s), note: `${len} days` });
      d += randInt(this.rng, 18, 32);
    }
  }

  holidays(staff: Uint8Array[]): void {
    const days = this.weeks * 7;
    for (let d = 10; d < days; d += randInt(this.rng, 14, 24)) {
      if (this.weekend(d)) continue;
      for (const p of staff) p.fill(0, this.idx(d, 0), this.idx(d + 1, 0));
      this.events.push({ kind: 'family_trip', anomalous: false, start: this.ts(this.idx(d, 7)), end: this.ts(this.idx(d, 19)), observableFrom: this.ts(this.idx(d, 7)), note: 'office holiday' });
    }
  }

  makeGuestPool(size: number): void {
    for (let k = 0; k < size; k++) {
      const d = this.dev(`guest-${k}`, 'guest', { random: this.rng() < 0.85, answer: () => 0.8 });
      this.guestPool.push(d);
    }
  }

  freshGuest(): Dev {
    return this.dev(`guest-x${this.devs.length}`, 'guest', { random: this.rng() < 0.85, answer: () => 0.8 });
  }

  guests(perWeek: number, window: (day: number) => [number, number] | null, group: [number, number], stay: [number, number]): void {
    const rng = this.rng;
    for (let day = 0; day < this.weeks * 7; day++) {
      const visits = poisson(rng, perWeek / 7);
      for (let v = 0; v < visits; v++) {
        const w = window(day);
        if (!w) continue;
        const a = this.idx(day, w[0] + rng() * (w[1] - w[0]));
        const dur = Math.round((stay[0] + rng() * (stay[1] - stay[0])) * 12);
        const size = randInt(rng, group[0], group[1]);
        for (let g = 0; g < size; g++) {
          const dev = rng() < 0.6 ? pick(rng, this.guestPool) : this.freshGuest();
          const s = a + (rng() < 0.5 ? 0 : randInt(rng, 0, 2));
          this.fill(dev, s, s + dur + randInt(rng, -2, 2));
        }
        this.events.push({ kind: 'guests', anomalous: false, start: this.ts(a), end: this.ts(a + dur), observableFrom: this.ts(a), note: `${size} guests` });
      }
    }
  }

  parties(everyWeeks: number, kind: 'party', when: (day: number) => [number, number] | null, size: [number, number], until: [number, number], relative = false): void {
    const rng = this.rng;
    const days = this.weeks * 7;
    let day = randInt(rng, 3, 10);
    while (day < days) {
      // households: Saturday; offices: a weekday
      let d = day;
      if (!relative) while (this.dow(d) !== 6 && d < days) d++;
      else while (this.weekend(d) && d < days) d++;
      const w = when(d);
      if (d >= days || !w) break;
      const start = this.idx(d, w[0]);
      const spread = (w[1] - w[0]) * 12;
      const n = randInt(rng, size[0], size[1]);
      let end = 0;
      for (let g = 0; g < n; g++) {
        const dev = rng() < 0.4 ? pick(rng, this.guestPool) : this.freshGuest();
        const s = start + Math.floor(rng() * (spread + 1));
        const leaveH = relative ? w[0] + until[0] + rng() * (until[1] - until[0]) : until[0] + rng() * (until[1] - until[0]);
        const e = this.idx(d, leaveH);
        this.fill(dev, s, e);
        end = Math.max(end, e);
      }
      this.events.push({ kind, anomalous: false, start: this.ts(start), end: this.ts(end), observableFrom: this.ts(start), note: `${n} guests` });
      day = d + Math.round(everyWeeks * 7 * (0.7 + 0.6 * rng()));
    }
  }

  cleaner(on: (day: number) => boolean, from: number, to: number): void {
    const dev = this.dev('cleaner-phone', 'phone', { random: true, answer: () => 0.85 });
    for (let d = 0; d < this.weeks * 7; d++) {
      if (!on(d) || this.rng() < 0.1) continue;
      const s = this.idx(d, from + this.rng() * 0.5);
      const e = this.idx(d, to + this.rng() * 0.5);
      this.fill(dev, s, e);
      this.events.push({ kind: 'cleaner', anomalous: false, start: this.ts(s), end: this.ts(e), observableFrom: this.ts(s), note: '' });
    }
  }

  newDevices(count: number, cls: string): void {
    for (let k = 0; k < count; k++) {
      const half = k % 2;
      const day = randInt(this.rng, 4, this.weeks * 3.5 - 2) + half * this.weeks * 3.5;
      const s = this.idx(Math.floor(day), 10 + this.rng() * 9);
      const dev = this.dev(`new-${cls}-${k}`, cls, { alwaysOn: true, answer: () => 0.99 });
      this.fill(dev, s, this.n);
      this.events.push({ kind: 'new_device', anomalous: false, start: this.ts(s), end: this.ts(s + 36), observableFrom: this.ts(s), note: cls });
    }
  }

  nightlyReboots(): void {
    // plugs / VoIP phones of one brand reboot together every night; cameras one after another
    const group = this.devs.filter((d) => d.cls === 'plug' || d.cls === 'voip');
    const hour = this.kind === 'household' ? 3 : 2;
    for (let day = 0; day < this.weeks * 7; day++) {
      const s = this.idx(day, hour);
      for (const d of group) this.fill(d, s, s + randInt(this.rng, 1, 2), 0);
      this.events.push({ kind: 'iot_reboot', anomalous: false, start: this.ts(s), end: this.ts(s + 2), observableFrom: this.ts(s), note: `${group.length} devices` });
      if (this.kind === 'office') {
        const cams = this.devs.filter((d) => d.cls === 'camera');
        cams.forEach((c, k) => this.fill(c, this.idx(day, 4) + k * 2, this.idx(day, 4) + k * 2 + 1, 0));
      }
    }
  }

  dhcpChanges(): void {
    const dyn = this.devs.filter((d) => !d.staticIp && d.cls !== 'guest');
    const count = poisson(this.rng, this.weeks * (this.kind === 'office' ? 3 : 1.5));
    for (let k = 0; k < count; k++) {
      const d = pick(this.rng, dyn);
      const i = randInt(this.rng, 0, this.n - 1);
      (d.forceNewIp ??= new Set()).add(i);
      this.events.push({ kind: 'dhcp_change', anomalous: false, start: this.ts(i), end: this.ts(i + 1), observableFrom: this.ts(i), note: d.name });
    }
  }

  injectAnomalies(): void {
    const half = Math.floor(this.n / 2);
    const perHalf = [this.opts.anomaliesTrainHalf ?? 1, this.opts.anomaliesTestHalf ?? 4];
    for (let h = 0; h < 2; h++) {
      for (const kind of ANOMALY_KINDS) {
        for (let k = 0; k < perHalf[h]; k++) {
          for (let tries = 0; tries < 200; tries++) {
            // keep one day clear at the start (warm-up) and leave room at the end of each half
            const lo = h === 0 ? PER_DAY * 2 : half + 12;
            const hi = (h === 0 ? half : this.n) - 120;
            let s = randInt(this.rng, lo, hi);
            if (kind === 'night_device') s = this.idx(Math.floor(s / PER_DAY), 0.25 + this.rng() * 4.25);
            if (this.anomaly(kind, s, h === 0 ? half : this.n)) break;
          }
        }
      }
    }
  }

  anomaly(kind: AnomalyKind, s: number, limit: number): boolean {
    const rng = this.rng;
    const p = this.prefix;
    const durOf = (minH: number, maxH: number) => Math.round((minH + rng() * (maxH - minH)) * 12);
    let end: number;
    let observable = s;
    let note = '';
    const add = (e: number) => {
      if (e >= limit - 1 || !this.reserve(s, e)) return false;
      end = e;
      return true;
    };
    switch (kind) {
      case 'new_burst': {
        const n = randInt(rng, 6, 14);
        const sameOui = rng() < 0.5 ? pick(rng, VENDOR_OUIS) : undefined;
        const dur = randInt(rng, 2, 8);
        if (!add(s + dur - 1)) return false;
        for (let k = 0; k < n; k++) {
          const d = this.dev(`burst-${s}-${k}`, 'rogue', { answer: () => 0.9 });
          d.macs = [{ from: 0, mac: this.mac(false, sameOui) }];
          this.fill(d, s, s + randInt(rng, Math.max(1, dur - 3), dur));
        }
        note = `${n} MACs for ${dur} sweeps`;
        break;
      }
      case 'night_device': {
        const dur = durOf(0.5, 3);
        if (!add(s + dur - 1)) return false;
        const d = this.dev(`night-${s}`, 'rogue', { random: rng() < 0.3, answer: () => 0.92 });
        this.fill(d, s, s + dur);
        note = `${(dur / 12).toFixed(1)} h`;
        break;
      }
      case 'mass_drop': {
        const segs = [...new Set(this.devs.filter((d) => d.segment).map((d) => d.segment!))];
        const seg = pick(rng, segs);
        const dur = durOf(0.5, 3);
        if (!add(s + dur - 1)) return false;
        for (const d of this.devs) if (d.segment === seg) this.fill(d, s, s + dur, 0);
        // clients behind a downed extender vanish with it
        if (this.extender.segment === seg) for (const d of this.devs) if (d.viaExtender) for (let i = s; i < s + dur; i++) if (d.viaExtender[i]) d.present[i] = 0;
        observable = s + 1;
        note = `${seg} for ${(dur / 12).toFixed(1)} h`;
        break;
      }
      case 'always_on_missing': {
        const cands = this.devs.filter((d) => d.alwaysOn && d.cls !== 'gateway' && d.cls !== 'extender' && d.present[s] && !d.known?.can_sleep && !d.name.startsWith('new-'));
        const d = pick(rng, cands);
        const dur = durOf(2, 8);
        if (!add(s + dur - 1)) return false;
        this.fill(d, s, s + dur, 0);
        observable = s + 1;
        note = `${d.name} for ${(dur / 12).toFixed(1)} h`;
        break;
      }
      case 'arp_spoof': {
        const dur = durOf(0.5, 3);
        if (!add(s + dur - 1)) return false;
        const d = this.dev(`attacker-${s}`, 'rogue', { random: rng() < 0.3, answer: () => 0.95 });
        this.fill(d, s, s + dur);
        d.extraIps = [{ ip: this.gatewayIp, from: s, to: s + dur }];
        note = `${(dur / 12).toFixed(1)} h`;
        break;
      }
      case 'mac_churn': {
        const dur = durOf(1, 3);
        if (!add(s + dur - 1)) return false;
        const d = this.dev(`churn-${s}`, 'rogue', { random: true, answer: () => 0.95 });
        const keepIp = rng() < 0.5;
        if (keepIp) d.staticIp = `${p}.${randInt(rng, 241, 250)}`;
        d.macs = [{ from: 0, mac: this.mac(true) }];
        let i = s + randInt(rng, 2, 4);
        observable = i;
        while (i < s + dur) {
          d.macs.push({ from: i, mac: this.mac(true) });
          i += randInt(rng, 2, 4);
        }
        this.fill(d, s, s + dur);
        note = `${d.macs.length} MACs, ${keepIp ? 'same IP' : 'new IPs'}`;
        break;
      }
    }
    this.events.push({ kind, anomalous: true, start: this.ts(s), end: this.ts(end!), observableFrom: this.ts(observable), note });
    return true;
  }

  render(): SimScenario {
    const rng = this.rng;
    const reserved = this.devs.filter((d) => d.staticIp).map((d) => d.staticIp!);
    const dhcp = new Dhcp(this.prefix, 100, 239, rng, reserved);
    const extMac = this.extender.macs[0].mac;
    const sweeps: SweepRecord[] = [];
    const macPtr = new Map<Dev, number>();
    for (let i = 0; i < this.n; i++) {
      const devices: SweepDevice[] = [];
      for (const d of this.devs) {
        if (!d.present[i]) continue;
        let ptr = macPtr.get(d) ?? 0;
        while (ptr + 1 < d.macs.length && d.macs[ptr + 1].from <= i) ptr++;
        macPtr.set(d, ptr);
        const mac = d.macs[ptr].mac;
        const ip = d.staticIp ?? dhcp.ip(mac, i, d.forceNewIp?.has(i) ?? false);
        if (d.forceNewIp?.has(i)) d.forceNewIp.delete(i);
        if (rng() >= d.answer(i)) continue;
        if (d.viaExtender?.[i] && this.extender.present[i]) {
          devices.push({ mac: extMac, ip });
          if (i > 0 && !d.viaExtender[i - 1] && rng() < 0.3) devices.push({ mac, ip }); // roaming moment: both answer
        } else if (d.viaExtender?.[i]) {
          continue; // behind a downed extender
        } else devices.push({ mac, ip });
        for (const x of d.extraIps ?? []) if (i >= x.from && i < x.to) devices.push({ mac, ip: x.ip });
      }
      // a sweep lists hosts in IP order, like the exporter
      devices.sort((a, b) => ipv4ToInt(a.ip) - ipv4ToInt(b.ip));
      sweeps.push({ tsSeconds: this.ts(i), devices });
    }
    const known: KnownDevice[] = [];
    for (const d of this.devs) if (d.known) known.push({ mac: d.macs[0].mac, ...d.known });
    return {
      name: this.kind,
      interval: INTERVAL,
      sweeps,
      events: this.events.sort((a, b) => a.start - b.start),
      known,
      gatewayIp: this.gatewayIp,
      tzOffsetMinutes: 0,
      trainUntil: this.ts(Math.floor(this.n / 2) - 1),
    };
  }
}
