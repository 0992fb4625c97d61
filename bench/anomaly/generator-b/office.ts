/**
 * Generator B: an office of 15-60 people on one flat LAN, floors with a PoE switch and access points
 * each, hybrid work (office days clustered Tuesday to Thursday), docked laptops that move to Wi-Fi for
 * meetings, Windows-Server-style DHCP (lowest free address, 8-day leases), visitors on the corporate
 * LAN, cleaners in the evening and a guard's rounds at night (see bench/ANOMALY.md, "Generator B").
 */
import { Dhcp, Network, OUI, PER_DAY, PER_HOUR, WIRED, addressRange, type Device } from './network.js';

export class Office extends Network {
  readonly name = 'office-b';
  readonly prefix = '10.40';
  readonly gatewayIp = '10.40.0.1';
  readonly floors: number;
  private holiday = -1;

  constructor(seed: number, days: number) {
    super(seed, days, 0x6f666663);
    this.floors = this.int(1, 3);
    this.build();
  }

  dhcp(): Dhcp {
    return new Dhcp(addressRange(this.prefix, 100, 500), 8 * PER_DAY, 'lowest');
  }

  private ip(k: number): string {
    return `${this.prefix}.0.${k}`;
  }

  private build(): void {
    const infra = (name: string, role: string, ip: number, segment: string, o: Partial<Device> = {}) => this.always(name, role, OUI.infra, WIRED, segment, { staticIp: this.ip(ip), ...o });
    infra('firewall', 'router', 1, 'core', { known: { name: 'firewall', class: 'gateway', critical: true } });
    infra('core-switch', 'switch', 2, 'core', { known: { name: 'core-switch', class: 'switch' } });
    const aps: string[][] = [];
    for (let f = 0; f < this.floors; f++) {
      const sw = `switch-${f}`;
      infra(sw, 'switch', 3 + f, 'core', { known: { name: sw, class: 'switch' } });
      const n = this.int(1, 2);
      aps.push([]);
      for (let k = 0; k < n; k++) {
        const ap = `ap-${f}-${k}`;
        infra(ap, 'ap', 10 + 2 * f + k, sw);
        this.parents.set(ap, sw);
        aps[f].push(ap);
      }
    }
    const servers = this.int(2, 4);
    for (let k = 0; k < servers; k++) this.always(`server-${k}`, 'server', OUI.pc, WIRED, 'core', { staticIp: this.ip(20 + k), known: { name: `server-${k}`, class: 'server', critical: true } });
    this.always('nas', 'nas', OUI.nas, WIRED, 'core', { staticIp: this.ip(25), known: { name: 'nas', class: 'storage', critical: true } });
    this.always('nvr', 'nvr', OUI.camera, WIRED, 'core', { staticIp: this.ip(30) });
    const cams = this.int(4, 12);
    for (let k = 0; k < cams; k++) this.always(`camera-${k}`, 'camera', OUI.camera, WIRED, 'poe-cam', { staticIp: this.ip(31 + k), known: { name: `camera-${k}`, class: 'camera', critical: true } });
    const printers = this.int(1, 3);
    for (let k = 0; k < printers; k++) {
      const deepSleep = k === 0 && this.chance(0.5);
      const p = this.always(`printer-${k}`, 'printer', OUI.printer, WIRED, `switch-${k % this.floors}`, { staticIp: this.ip(50 + k), alwaysOn: !deepSleep, known: { name: `printer-${k}`, class: 'printer', can_sleep: true } });
      if (deepSleep) for (let day = 0; day < this.cal.days; day++) p.on.fill(0, this.at(day, this.uniform(20, 21)), this.at(day + 1, this.uniform(6, 7)));
    }
    for (const [k, role] of ['badge-controller', 'hvac', 'ups'].entries()) this.always(role, role, OUI.pi, WIRED, 'core', { staticIp: this.ip(60 + k) });
    const rooms = this.int(1, 4);
    for (let k = 0; k < rooms; k++) this.always(`room-display-${k}`, 'display', OUI.tv, this.iotRadio(), this.pick(aps[k % this.floors]));
    // the backup server wakes (wake-on-LAN) for the nightly backup only
    const backup = this.add({ name: 'backup', role: 'server', policy: 'vendor', oui: [...OUI.pc[0]], staticIp: this.ip(24), radio: WIRED, alwaysOn: false, segment: 'core' });
    for (let day = 0; day < this.cal.days; day++) this.setOn(backup, this.at(day, this.uniform(0.9, 1.1)), this.at(day, this.uniform(2, 3)));
    // digital signage on a timer, weekdays 7-19
    const signage = this.add({ name: 'signage', role: 'display', policy: 'vendor', oui: [...OUI.pi[0]], radio: this.iotRadio(), alwaysOn: false, segment: aps[0][0] });
    for (let day = 0; day < this.cal.days; day++) if (!this.weekend(day)) this.setOn(signage, this.at(day, 7), this.at(day, 19));

    if (this.chance(0.7)) {
      do this.holiday = this.int(3, this.cal.days - 2);
      while (this.weekend(this.holiday));
      this.event('public_holiday', false, this.at(this.holiday, 7), this.at(this.holiday, 19), '');
    }
    const staff = this.int(15, 60);
    for (let p = 0; p < staff; p++) this.employee(p, p % this.floors, aps[p % this.floors]);
    this.visitors(aps.flat());
    this.cleaners(aps.flat());
    this.guard(aps.flat());
    this.switchMaintenance();
    this.firmwareUpdates();
    this.restarts(this.int(0, 2));
  }

  /** Days in the office and hours there, per person. */
  private presence(): Uint8Array {
    const inOffice = new Uint8Array(this.n);
    const r = this.rng();
    const pattern = r < 0.3 ? 'full' : r < 0.9 ? 'hybrid' : 'rare';
    const dayWeight = [0, 0.6, 1, 1, 1, 0.4, 0];
    const perWeek = pattern === 'full' ? 5 : pattern === 'hybrid' ? this.int(2, 3) : 1;
    const vacation = this.chance(0.3) ? this.int(0, this.cal.days - 7) : -99;
    for (let week = 0; week * 7 < this.cal.days; week++) {
      const days: number[] = [];
      for (let d = week * 7; d < Math.min(this.cal.days, week * 7 + 7); d++) if (!this.weekend(d)) days.push(d);
      // weighted draw of office days without replacement
      const chosen = new Set<number>();
      while (chosen.size < Math.min(perWeek, days.length)) {
        const total = days.filter((d) => !chosen.has(d)).reduce((a, d) => a + dayWeight[this.dow(d)], 0);
        let x = this.rng() * total;
        for (const d of days) {
          if (chosen.has(d)) continue;
          x -= dayWeight[this.dow(d)];
          if (x <= 0) {
            chosen.add(d);
            break;
          }
        }
      }
      for (const d of chosen) {
        if (d === this.holiday || (d >= vacation && d < vacation + 7) || this.chance(0.03)) continue;
        if (pattern === 'rare' && this.chance(0.5)) continue;
        const arrive = Math.min(11, Math.max(6.5, this.normal(8.75, 0.75)));
        const stay = Math.min(11, Math.max(4, this.normal(8.5, 0.8)));
        inOffice.fill(1, this.at(d, arrive), this.at(d, arrive + stay));
        if (this.chance(0.4)) {
          const lunch = this.uniform(11.75, 13);
          inOffice.fill(0, this.at(d, lunch), this.at(d, lunch + this.uniform(0.5, 1)));
        }
      }
      for (let d = week * 7; d < Math.min(this.cal.days, week * 7 + 7); d++)
        if (this.weekend(d) && this.chance(0.02)) {
          const s = this.uniform(9, 14);
          inOffice.fill(1, this.at(d, s), this.at(d, s + this.uniform(2, 5)));
        }
    }
    return inOffice;
  }

  private employee(p: number, floor: number, aps: string[]): void {
    const here = this.presence();
    const ap = this.pick(aps);
    const corporate = this.chance(0.4);
    const phone = this.add({ name: `phone-${p}`, role: 'phone', policy: corporate ? 'fixed' : this.phonePolicy(), oui: [...this.pick(corporate ? OUI.apple : OUI.android)], radio: this.phoneRadio(), alwaysOn: false, segment: ap });
    phone.on.set(here);
    // the phone leaves for lunch with its owner; the laptop stays (already in `here`'s gap: put it back)
    const laptopHere = new Uint8Array(this.n);
    for (let i = 0; i < this.n; i++) laptopHere[i] = here[i];
    for (let day = 0; day < this.cal.days; day++) {
      let first = -1;
      let last = -1;
      for (let i = this.at(day, 0); i < this.at(day + 1, 0); i++)
        if (here[i]) {
          if (first < 0) first = i;
          last = i;
        }
      if (first >= 0) laptopHere.fill(1, first, last + 1);
    }
    const wifi = this.add({ name: `laptop-${p}`, role: 'laptop', policy: this.chance(0.2) ? 'fixed' : 'vendor', oui: [...this.pick(OUI.pc)], radio: { awake: 0.97, doze: 0, enter: 0.005, leave: 0.5 }, alwaysOn: false, segment: ap });
    if (this.chance(0.6)) {
      const dock = this.add({ name: `dock-${p}`, role: 'dock', policy: 'vendor', oui: [...this.pick(OUI.dock)], radio: WIRED, alwaysOn: false, segment: `switch-${floor}` });
      dock.on.set(laptopHere);
      // meetings: undocked, on Wi-Fi
      for (let day = 0; day < this.cal.days; day++) {
        for (let m = this.poisson(1.2); m > 0; m--) {
          const s = this.at(day, this.uniform(9, 16.5));
          const e = s + this.int(6, 12);
          for (let i = s; i < e; i++)
            if (laptopHere[i]) {
              dock.on[i] = 0;
              wifi.on[i] = 1;
            }
        }
      }
    } else wifi.on.set(laptopHere);
    if (this.chance(0.6)) this.always(`deskphone-${p}`, 'voip', OUI.voip, WIRED, `switch-${floor}`);
  }

  private visitors(aps: string[]): void {
    const perDay = this.uniform(0.3, 2);
    for (let day = 0; day < this.cal.days; day++) {
      if (this.weekend(day) || day === this.holiday) continue;
      for (let v = this.poisson(perDay); v > 0; v--) {
        const s = this.at(day, this.uniform(9, 16));
        const len = Math.round(this.uniform(1, 4) * PER_HOUR);
        const size = this.int(1, 4);
        for (let g = 0; g < size; g++) {
          const d = this.add({ name: `visitor-${this.devices.length}`, role: 'guest', policy: this.chance(0.5) ? 'fixed' : 'vendor', oui: [...this.pick(OUI.pc)], radio: { awake: 0.95, doze: 0, enter: 0.01, leave: 0.5 }, alwaysOn: false, segment: this.pick(aps) });
          this.setOn(d, s + this.int(0, 2), s + len);
        }
        this.event('visitors', false, s, s + len, `${size} visitors`);
      }
    }
    if (this.chance(0.6)) {
      // an all-hands or training day: colleagues from another site arrive within an hour
      let day = this.int(3, this.cal.days - 2);
      while (this.weekend(day) || day === this.holiday) day = (day + 1) % this.cal.days;
      const size = this.int(10, 30);
      const s = this.at(day, 8.5);
      let end = s;
      for (let g = 0; g < size; g++) {
        const d = this.add({ name: `colleague-${g}`, role: 'guest', policy: this.pick(['vendor', 'fixed', 'fixed'] as const), oui: [...this.pick(OUI.pc)], radio: { awake: 0.95, doze: 0, enter: 0.01, leave: 0.5 }, alwaysOn: false, segment: this.pick(aps) });
        const a = s + this.int(0, PER_HOUR);
        const e = a + Math.round(this.uniform(4, 8) * PER_HOUR);
        this.setOn(d, a, e);
        end = Math.max(end, e);
      }
      this.event('all_hands', false, s, end, `${size} colleagues`);
    }
  }

  private cleaners(aps: string[]): void {
    const crew = Array.from({ length: this.int(1, 3) }, (_, k) =>
      this.add({ name: `cleaner-${k}`, role: 'phone', policy: this.phonePolicy(), oui: [...this.pick(OUI.android)], radio: this.phoneRadio(), alwaysOn: false, segment: this.pick(aps) }),
    );
    for (let day = 0; day < this.cal.days; day++) {
      if (this.weekend(day) || !this.chance(0.8)) continue;
      const s = this.at(day, this.uniform(18, 19));
      const e = this.at(day, this.uniform(20, 21.5));
      for (const c of crew) this.setOn(c, s, e);
      this.event('cleaners', false, s, e, '');
    }
  }

  /** A guard's rounds at night, and another guard at weekends. */
  private guard(aps: string[]): void {
    const mk = (k: number) => this.add({ name: `guard-${k}`, role: 'phone', policy: 'fixed', oui: [...OUI.android[0]], radio: this.phoneRadio(), alwaysOn: false, segment: this.pick(aps) });
    const week = mk(0);
    const weekend = mk(1);
    for (let day = 0; day < this.cal.days; day++) {
      const g = this.weekend(day) ? weekend : week;
      for (const h of [22, 27]) {
        if (!this.chance(0.9)) continue;
        const s = this.at(day, this.normal(h, 0.3));
        this.setOn(g, s, s + this.int(3, 6));
      }
    }
  }

  /** Maybe one announced switch firmware upgrade on a Saturday night: a floor switch (with its APs' clients) down for 1-2 sweeps. */
  private switchMaintenance(): void {
    if (!this.chance(0.5)) return;
    let day = this.int(2, this.cal.days - 2);
    while (this.dow(day) !== 6) day = (day + 1) % this.cal.days;
    const sw = `switch-${this.int(0, this.floors - 1)}`;
    const s = this.at(day, this.uniform(21, 23));
    const down = this.int(1, 2);
    for (const d of this.devicesUnder(sw)) d.on.fill(0, s, s + down + (d.radio === WIRED ? 0 : this.int(0, 2)));
    this.event('switch_maintenance', false, s, s + down + 2, `${sw}, ${down} sweeps`);
  }
}
