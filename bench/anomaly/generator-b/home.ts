/**
 * Generator B: a home. The device mix is drawn from ownership shares in published household surveys,
 * the residents' days from time-use patterns (commuters, hybrid workers, pupils, people at home, a
 * night-shift worker), and the router from two common defaults (see bench/ANOMALY.md, "Generator B").
 */
import { Dhcp, Network, OUI, PER_DAY, PER_HOUR, WIRED, type Device } from './network.js';

type Resident = 'commuter' | 'hybrid' | 'pupil' | 'teen' | 'home' | 'nightshift';

export class Home extends Network {
  readonly name = 'home-b';
  readonly prefix: string;
  readonly gatewayIp: string;
  private readonly router: 'openwrt' | 'isp';
  /** the access points: the router's radio and any mesh satellites */
  readonly aps: string[] = ['router-wifi'];
  residents: { type: Resident; home: Uint8Array }[] = [];
  /** every resident away (trip) */
  private away: Uint8Array = new Uint8Array(0);

  constructor(seed: number, days: number) {
    super(seed, days, 0x686f6d65);
    this.router = this.chance(0.5) ? 'openwrt' : 'isp';
    this.prefix = this.router === 'openwrt' ? '192.168.1' : '192.168.0';
    this.gatewayIp = this.router === 'openwrt' ? '192.168.1.1' : '192.168.0.254';
    this.build();
  }

  dhcp(): Dhcp {
    // OpenWrt: dnsmasq, .100-.249, 12 h leases; the ISP box: .10-.200, lowest free, 1 day
    if (this.router === 'openwrt') return new Dhcp(range(this.prefix, 100, 249), 12 * PER_HOUR, 'hash');
    return new Dhcp(range(this.prefix, 10, 200), PER_DAY, 'lowest');
  }

  /** Wi-Fi clients hang off one access point each (the one nearest to where they stay). */
  private wifiSegment(): string {
    return this.pick(this.aps);
  }

  private build(): void {
    this.always('router', 'router', OUI.infra, WIRED, 'core', { staticIp: this.gatewayIp, known: { name: 'router', class: 'gateway', critical: true } });
    if (this.chance(0.4)) {
      const sats = this.int(1, 2);
      for (let k = 0; k < sats; k++) {
        const name = `mesh-${k + 1}`;
        this.always(name, 'mesh', OUI.infra, WIRED, 'core', { staticIp: `${this.prefix}.${2 + k}` });
        this.aps.push(name);
      }
    }
    const sizes = [1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 5];
    const people = this.pick(sizes);
    this.away = this.trips();
    for (let p = 0; p < people; p++) {
      const adult = p < 2 || people <= 2;
      const type: Resident = adult ? this.pick(['commuter', 'commuter', 'hybrid', 'hybrid', 'home', 'nightshift'] as const) : this.pick(['pupil', 'pupil', 'teen'] as const);
      const home = this.schedule(type);
      for (let i = 0; i < this.n; i++) if (this.away[i]) home[i] = 0;
      this.residents.push({ type, home });
      this.personalDevices(p, type, home, adult);
    }
    this.sharedDevices();
    this.guests();
    this.party();
    this.newGadgets();
    this.routerReboots();
    this.firmwareUpdates();
    this.restarts(this.int(0, 2));
  }

  /** A resident's presence at home, by type. */
  private schedule(type: Resident): Uint8Array {
    const home = new Uint8Array(this.n).fill(1);
    const out = (day: number, from: number, to: number) => home.fill(0, this.at(day, from), this.at(day, to));
    const wfh = new Set<number>();
    if (type === 'hybrid') {
      const k = this.int(2, 3);
      const days = [1, 2, 3, 4, 5].sort(() => this.rng() - 0.5).slice(0, k);
      for (const d of days) wfh.add(d);
    }
    for (let day = 0; day < this.cal.days; day++) {
      const dow = this.dow(day);
      const we = this.weekend(day);
      if (type === 'nightshift') {
        // four nights on, then off
        if (day % 7 < 4) out(day, this.normal(20.75, 0.3), 24 + this.normal(7, 0.3));
        else this.outings(day, out, 1);
        continue;
      }
      if (we || type === 'home' || wfh.has(dow) || (type !== 'pupil' && type !== 'teen' && this.chance(0.08))) {
        this.outings(day, out, type === 'home' ? 2 : 1.3);
        if (type === 'teen' && (dow === 5 || dow === 6) && this.chance(0.6)) out(day, this.normal(19, 0.7), 24 + this.uniform(0, 1.5));
        continue;
      }
      if (type === 'pupil' || type === 'teen') {
        out(day, this.normal(7.6, 0.2), this.normal(15.3, 0.6));
        if (this.chance(0.4)) out(day, this.normal(16.5, 0.4), this.normal(18.5, 0.5));
        continue;
      }
      const leave = this.normal(7.8, 0.6);
      out(day, leave, leave + this.normal(9.5, 0.8));
      if (this.chance(0.2)) {
        const s = this.uniform(18.5, 20);
        out(day, s, s + this.uniform(1, 3));
      }
    }
    return home;
  }

  private outings(day: number, out: (d: number, a: number, b: number) => void, mean: number): void {
    const k = this.poisson(mean);
    for (let j = 0; j < k; j++) {
      const s = this.uniform(8.5, 19.5);
      out(day, s, s + this.logUniform(0.5, 4));
    }
  }

  /** At most one trip of 2-6 days on which the whole household is away. */
  private trips(): Uint8Array {
    const away = new Uint8Array(this.n);
    if (!this.chance(0.5)) return away;
    const len = this.int(2, 6);
    const d = this.int(2, this.cal.days - len - 1);
    const s = this.at(d, this.uniform(7, 12));
    const e = this.at(d + len, this.uniform(14, 21));
    away.fill(1, s, e);
    this.event('trip', false, s, e, `${len} days`);
    return away;
  }

  private personalDevices(p: number, type: Resident, home: Uint8Array, adult: boolean): void {
    const apple = this.chance(0.5);
    if (this.chance(0.96)) {
      const phone = this.add({ name: `phone-${p}`, role: 'phone', policy: this.phonePolicy(), oui: [...this.pick(apple ? OUI.apple : OUI.android)], radio: this.phoneRadio(), alwaysOn: false, segment: this.wifiSegment(), known: { name: `phone-${p}`, class: 'phone', can_sleep: true } });
      phone.on.set(home);
    }
    if (this.chance(adult ? 0.75 : 0.4)) {
      const laptop = this.add({ name: `laptop-${p}`, role: 'laptop', policy: this.chance(0.3) ? 'fixed' : 'vendor', oui: [...this.pick(OUI.pc)], radio: { awake: 0.97, doze: 0, enter: 0.005, leave: 0.5 }, alwaysOn: false, segment: this.wifiSegment() });
      for (let day = 0; day < this.cal.days; day++) {
        const we = this.weekend(day);
        if ((type === 'hybrid' || type === 'home') && !we && this.chance(0.7)) {
          this.onWhere(laptop, home, this.at(day, this.normal(8.5, 0.4)), this.at(day, this.normal(17.5, 0.6)));
        }
        const sessions = this.poisson(we ? 1.2 : 0.8);
        for (let j = 0; j < sessions; j++) {
          const s = this.uniform(we ? 10 : 18, 22.5);
          this.onWhere(laptop, home, this.at(day, s), this.at(day, s + this.logUniform(0.5, 3)));
        }
      }
    }
    if (adult && this.chance(0.25)) {
      // a watch joins the home Wi-Fi now and then while its owner is home
      const watch = this.add({ name: `watch-${p}`, role: 'watch', policy: 'fixed', oui: [...OUI.apple[0]], radio: { awake: 0.6, doze: 0, enter: 0.08, leave: 0.25 }, alwaysOn: false, segment: this.wifiSegment() });
      watch.on.set(home);
    }
    if (type === 'commuter' && this.chance(0.15)) {
      // a car with Wi-Fi, parked in reach of the house while its owner is home
      const car = this.add({ name: `car-${p}`, role: 'car', policy: 'vendor', oui: [...OUI.espressif[0]], radio: { awake: 0.8, doze: 0, enter: 0.02, leave: 0.3 }, alwaysOn: false, segment: this.wifiSegment() });
      car.on.set(home);
    }
  }

  private sharedDevices(): void {
    const anyoneHome = new Uint8Array(this.n);
    for (const r of this.residents) for (let i = 0; i < this.n; i++) anyoneHome[i] |= r.home[i];
    const tvs = this.chance(0.69) ? this.int(1, 2) : 0;
    for (let k = 0; k < tvs; k++) {
      const seg = this.wifiSegment();
      const standby = this.chance(0.5);
      const tv = this.add({ name: `tv-${k}`, role: 'tv', policy: 'vendor', oui: [...this.pick(OUI.tv)], radio: this.iotRadio(), alwaysOn: standby, segment: seg });
      if (standby) tv.on.fill(1);
      else this.watching(tv, anyoneHome);
      if (this.chance(0.5)) {
        // a streaming stick powered from the TV's USB port: on while the TV is on
        const stick = this.add({ name: `stick-${k}`, role: 'streamer', policy: 'vendor', oui: [...this.pick(OUI.speaker)], radio: this.iotRadio(), alwaysOn: standby, segment: seg });
        if (standby) stick.on.fill(1);
        else stick.on.set(tv.on);
      }
    }
    if (this.chance(0.62)) {
      const rest = this.chance(0.5);
      const c = this.add({ name: 'console', role: 'console', policy: 'vendor', oui: [...this.pick(OUI.pc)], radio: rest ? WIRED : this.iotRadio(), alwaysOn: rest, segment: rest ? 'core' : this.wifiSegment() });
      if (rest) c.on.fill(1);
      else this.watching(c, anyoneHome);
    }
    const speakers = this.chance(0.42) ? this.int(1, 4) : 0;
    for (let k = 0; k < speakers; k++) this.always(`speaker-${k}`, 'speaker', OUI.speaker, this.iotRadio(), this.wifiSegment());
    const plugs = this.chance(0.35) ? this.int(2, 8) : 0;
    for (let k = 0; k < plugs; k++) {
      const plug = this.always(`plug-${k}`, 'plug', OUI.espressif, this.iotRadio(), this.wifiSegment());
      // cheap Wi-Fi modules drop off and reconnect every few days
      for (let i = this.int(0, 3 * PER_DAY); i < this.n; i += this.int(PER_DAY, 5 * PER_DAY)) plug.on.fill(0, i, i + this.int(1, 2));
    }
    const garage = this.chance(0.3);
    const cams = this.chance(0.3) ? this.int(1, 3) : 0;
    for (let k = 0; k < cams; k++)
      this.always(`camera-${k}`, 'camera', OUI.camera, { ...this.iotRadio(), awake: this.uniform(0.97, 0.995) }, garage && k > 0 ? 'garage-switch' : this.wifiSegment(), {
        known: { name: `camera-${k}`, class: 'camera', critical: true },
      });
    if (this.chance(0.25)) this.always('thermostat', 'thermostat', OUI.espressif, this.iotRadio(), this.wifiSegment());
    if (this.chance(0.3)) this.always('hub', 'hub', OUI.pi, WIRED, garage ? 'garage-switch' : 'core');
    if (this.chance(0.25)) this.always('nas', 'nas', OUI.nas, WIRED, garage ? 'garage-switch' : 'core', { staticIp: `${this.prefix}.${this.router === 'openwrt' ? this.int(20, 60) : this.int(5, 9)}`, known: { name: 'nas', class: 'storage', critical: true } });
    if (this.chance(0.6)) {
      const deepSleep = this.chance(0.5);
      const printer = this.always('printer', 'printer', OUI.printer, this.iotRadio(), this.wifiSegment(), { alwaysOn: !deepSleep, known: { name: 'printer', class: 'printer', can_sleep: true } });
      // deep sleep turns the radio off at night
      if (deepSleep) for (let day = 0; day < this.cal.days; day++) printer.on.fill(0, this.at(day, 0), this.at(day, this.uniform(6.5, 8)));
    }
    if (this.chance(0.2)) {
      // a robot vacuum: connected, but loses Wi-Fi in far rooms during its daily run
      const vac = this.always('vacuum', 'vacuum', OUI.espressif, this.iotRadio(), this.wifiSegment(), { alwaysOn: false });
      for (let day = 0; day < this.cal.days; day++) if (this.chance(0.7)) vac.on.fill(0, this.at(day, this.uniform(10, 11)), this.at(day, 11) + this.int(2, 8));
    }
    if (this.chance(0.2)) {
      const reader = this.add({ name: 'ereader', role: 'ereader', policy: 'vendor', oui: [...OUI.speaker[1]], radio: WIRED, alwaysOn: false, segment: this.wifiSegment() });
      for (let day = 0; day < this.cal.days; day++) for (let j = this.poisson(1.5); j > 0; j--) this.onWhere(reader, anyoneHome, this.at(day, this.uniform(7, 23)), this.at(day, 0) + this.int(1, 2));
    }
    if (this.chance(0.7)) {
      const tab = this.add({ name: 'tablet', role: 'tablet', policy: 'fixed', oui: [...OUI.apple[1]], radio: { awake: 0.9, doze: 0, enter: 0.05, leave: 0.15 }, alwaysOn: false, segment: this.wifiSegment() });
      tab.on.set(anyoneHome);
    }
  }

  /** Evening (and weekend afternoon) viewing sessions while someone is home. */
  private watching(d: Device, anyoneHome: Uint8Array): void {
    for (let day = 0; day < this.cal.days; day++) {
      if (this.chance(0.8)) {
        const s = this.uniform(18, 21);
        this.onWhere(d, anyoneHome, this.at(day, s), this.at(day, s + this.logUniform(1, 4)));
      }
      if (this.weekend(day) && this.chance(0.5)) {
        const s = this.uniform(11, 16);
        this.onWhere(d, anyoneHome, this.at(day, s), this.at(day, s + this.logUniform(1, 3)));
      }
    }
  }

  /** Visitors: mostly evenings and weekends, groups of 1-6, some of them regulars (same MACs). */
  private guests(): void {
    const perWeek = this.uniform(0.5, 4);
    const regulars: Device[] = [];
    for (let day = 0; day < this.cal.days; day++) {
      const visits = this.poisson((perWeek / 7) * (this.weekend(day) ? 1.8 : 0.7));
      for (let v = 0; v < visits; v++) {
        const s = this.at(day, this.weekend(day) ? this.uniform(10, 20) : this.uniform(16.5, 20.5));
        const len = Math.round(this.logUniform(1, 5) * PER_HOUR);
        const size = Math.min(6, 1 + Math.floor(-Math.log(Math.max(1e-9, this.rng())) * 1.2));
        for (let g = 0; g < size; g++) {
          let d: Device;
          if (regulars.length > 0 && this.chance(0.3)) d = this.pick(regulars);
          else {
            d = this.add({ name: `guest-${this.devices.length}`, role: 'guest', policy: this.chance(0.85) ? 'fixed' : 'vendor', oui: [...this.pick(OUI.android)], radio: this.phoneRadio(), alwaysOn: false, segment: this.wifiSegment() });
            if (this.chance(0.3)) regulars.push(d);
          }
          const a = s + this.int(0, 3);
          this.setOn(d, a, a + len + this.int(-2, 2));
        }
        this.event('guests', false, s, s + len, `${size} guests`);
      }
    }
  }

  /** Maybe one party: guests arrive over an hour or two in the evening and leave after midnight. */
  private party(): void {
    if (!this.chance(0.5)) return;
    let day = this.int(2, this.cal.days - 2);
    while (this.dow(day) !== 6 && day < this.cal.days - 1) day++;
    const size = this.int(8, 25);
    const s = this.at(day, this.uniform(18.5, 20));
    let end = s;
    for (let g = 0; g < size; g++) {
      const d = this.add({ name: `party-${g}`, role: 'guest', policy: this.chance(0.85) ? 'fixed' : 'vendor', oui: [...this.pick(OUI.apple)], radio: this.phoneRadio(), alwaysOn: false, segment: this.wifiSegment() });
      const a = s + this.int(0, 2 * PER_HOUR);
      const e = this.at(day, this.uniform(22.5, 26));
      this.setOn(d, a, e);
      end = Math.max(end, e);
    }
    this.event('party', false, s, end, `${size} guests`);
  }

  /** Gadgets bought in sets: 2-4 smart bulbs of one vendor set up together, in daytime. */
  private newGadgets(): void {
    const sets = this.poisson(0.8);
    for (let k = 0; k < sets; k++) {
      const s = this.at(this.int(2, this.cal.days - 1), this.uniform(10, 20));
      const size = this.int(2, 4);
      const oui = this.pick(OUI.espressif);
      for (let j = 0; j < size; j++) {
        const d = this.add({ name: `bulb-${k}-${j}`, role: 'plug', policy: 'vendor', oui: [...oui], radio: this.iotRadio(), alwaysOn: true, segment: this.wifiSegment() });
        this.setOn(d, s + this.int(0, 2), this.n);
      }
      this.event('new_gadgets', false, s, s + 3 * PER_HOUR, `${size} bulbs`);
    }
  }

  /** Automatic router updates at night: every device is gone for a sweep or two, Wi-Fi clients come back over a few sweeps. */
  private routerReboots(): void {
    for (let w = 0; w * 7 < this.cal.days; w++) {
      if (!this.chance(0.5)) continue;
      const s = this.at(Math.min(this.cal.days - 1, w * 7 + this.int(0, 6)), this.uniform(3, 5));
      const down = this.int(1, 2);
      for (const d of this.devices) d.on.fill(0, s, s + down + (d.radio === WIRED ? 0 : this.int(0, 2)));
      this.event('router_reboot', false, s, s + down + 2, `${down} sweeps`);
    }
  }
}

function range(prefix: string, lo: number, hi: number): string[] {
  const out: string[] = [];
  for (let k = lo; k <= hi; k++) out.push(`${prefix}.${k}`);
  return out;
}
