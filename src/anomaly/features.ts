/**
 * Per-sweep feature vector, computed from the state of PAST sweeps plus the sweep being scored.
 * `FeatureState.step(sweep)` first computes the features (reading only what earlier sweeps left in the
 * state), then folds the sweep into the state. The state is deterministic and independent of any model,
 * so `restore()` can rebuild it from the stored sweep history. Times are unix seconds; windows counted
 * in sweeps come from the sweep interval (sweep-windows.ts).
 */
import { isRandomizedMac, normalizeMac } from '../net/mac.js';
import { catchUp, copyInfo, foldHour, foldPresence, gapsPerHour, hourCoverage, newInfo, presentBefore, recordGap, type MacInfo } from './device-history.js';
import { FEATURE_INDEX, FEATURE_NAMES } from './feature-names.js';
import { gumbelFromQuartiles } from './gumbel.js';
import { quantileOfSorted } from './quantile.js';
import { DEFAULT_TUNING } from './tuning.js';
import { groupAnswers } from './sweep-answers.js';
import { GatewayWatch, type GatewayWatchSnapshot } from './gateway-watch.js';
import { sweepWindows, type SweepWindows } from './sweep-windows.js';
import { TimeContext, type LocalTime, type TimeContextSnapshot } from './time-context.js';
import type { KnownDevice, SweepRecord } from './types.js';

const DAY = 86_400;

/** FeatureState as plain data (JSON-safe), map entries in iteration order: the order breaks ties. */
export interface FeatureStateSnapshot extends TimeContextSnapshot, GatewayWatchSnapshot {
  macs: [string, MacInfo][];
  active: string[];
  nat: [string, MacInfo][];
  ipLast: [string, { mac: string; idx: number }][];
  idx: number;
  /** local clock hour number of the last sweep, and clock hours ended so far */
  hourNo: number | null;
  hourCount: number;
}

/** A device taking part in what a detector sees (explanations; `group` names the kind of evidence). */
export interface Involved {
  group: InvolvedGroup;
  mac: string;
  /** how much it weighs in that evidence (0..1) */
  weight: number;
  /** since when: first missed sweep of a missing device, first sweep of a new one, else this sweep */
  sinceTs: number;
}
export type InvolvedGroup = 'drop' | 'overdue' | 'new' | 'night' | 'night_random' | 'gateway' | 'ip' | 'churn';

/** Share of clock hours a device must answer in (at least once) to count as always on. */
const ALWAYS_ON_COVERAGE = 0.95;
/** ... over at least this many hours (a phone at home for a whole day is not an always-on device). */
const ALWAYS_ON_HOURS = 72;
/** An always-on device is overdue when a day's longest gap is this long with probability e^-3 (5 %) or less. */
const OVERDUE_Z = 3;
/** always_on_surprise when no always-on device is missing (below any device's surprise at a 2-sweep gap). */
const NONE_MISSING = -5;
/** How much a known device coming back weighs in an hour's activity (a new device arriving weighs 1). */
const RETURN_WEIGHT = 1 / 6;
/** The most a single vanished device weighs in a mass drop (nats: e^-5 is a once-in-150 chance). */
const MAX_SURPRISE = 5;
/** A `critical` device's gap counts as this much more surprising (e times). */
const CRITICAL_BONUS = 1;

export interface FeatureStateOptions {
  windowSeconds: number;
  gatewayIp?: string;
  tzOffsetMinutes: number;
  /** Seconds between sweeps (default 300). */
  intervalSeconds?: number;
  /** Tuning.quietSteepness (default DEFAULT_TUNING's) */
  quietSteepness?: number;
}

const PROXY_CLASSES = /extender|repeater|bridge|mesh|^ap$|access.?point/i;

export class FeatureState {
  private macs = new Map<string, MacInfo>();
  /**
   * The devices whose presence statistics are updated every sweep. A device missing for a day that is
   * not always-on goes dormant: nothing about it changes but the passing of time, which `catchUp`
   * applies in one step when it comes back (keeps a sweep's cost proportional to the live network, not
   * to every guest phone of the last four weeks).
   */
  private active = new Map<string, MacInfo>();
  /** IPs answered by a proxying MAC (clients behind a Wi-Fi extender's MAC-NAT), tracked like devices */
  private nat = new Map<string, MacInfo>();
  private ipLast = new Map<string, { mac: string; idx: number }>();
  private known = new Map<string, KnownDevice>();
  private idx = 0;
  private hourNo: number | null = null;
  private hourCount = 0;
  /** the devices behind the last step's features, by the evidence they are part of */
  involved: Involved[] = [];
  private readonly w: SweepWindows;
  private readonly time: TimeContext;
  private readonly gateway: GatewayWatch;

  constructor(private readonly opts: FeatureStateOptions, known: KnownDevice[] = []) {
    this.w = sweepWindows(opts.intervalSeconds ?? 300);
    this.time = new TimeContext({ ...opts, quietSteepness: opts.quietSteepness ?? DEFAULT_TUNING.quietSteepness }, this.w.day);
    this.gateway = new GatewayWatch(opts.gatewayIp, this.w.hour);
    this.setKnown(known);
  }

  setKnown(known: KnownDevice[]): void {
    this.known = new Map(known.map((k) => [normalizeMac(k.mac), { ...k, mac: normalizeMac(k.mac) }]));
  }

  snapshot(): FeatureStateSnapshot {
    return {
      macs: [...this.macs].map(([m, i]) => [m, copyInfo(i)]),
      active: [...this.active.keys()],
      nat: [...this.nat].map(([ip, i]) => [ip, copyInfo(i)]),
      ipLast: [...this.ipLast].map(([ip, l]) => [ip, { ...l }]),
      idx: this.idx,
      hourNo: this.hourNo,
      hourCount: this.hourCount,
      ...this.gateway.snapshot(),
      ...this.time.snapshot(),
    };
  }

  /** The state a snapshot() was taken of; continues exactly as the original would have. */
  static fromSnapshot(opts: FeatureStateOptions, known: KnownDevice[], snap: FeatureStateSnapshot): FeatureState {
    const s = new FeatureState(opts, known);
    s.macs = new Map(snap.macs.map(([m, i]) => [m, copyInfo(i)]));
    for (const mac of snap.active) {
      const info = s.macs.get(mac);
      if (info) s.active.set(mac, info);
    }
    s.nat = new Map(snap.nat.map(([ip, i]) => [ip, copyInfo(i)]));
    s.ipLast = new Map(snap.ipLast.map(([ip, l]) => [ip, { ...l }]));
    s.idx = snap.idx;
    s.hourNo = snap.hourNo;
    s.hourCount = snap.hourCount;
    s.gateway.restore(snap);
    s.time.restore(snap);
    return s;
  }

  get sweeps(): number {
    return this.idx;
  }

  /** Time of the first sweep this state has seen (its history starts there). */
  get firstSweepTs(): number | null {
    return this.time.firstSweepTs;
  }

  trackedDevices(): number {
    return this.macs.size;
  }

  activeDevices(): number {
    return this.active.size;
  }

  private isProxy(mac: string, ts: number): boolean {
    const k = this.known.get(mac);
    if (k?.class && PROXY_CLASSES.test(k.class)) return true;
    const info = this.macs.get(mac);
    return !!info && info.proxySinceTs !== null && info.proxySweeps >= 3 && ts - info.proxySinceTs >= DAY && ts - info.firstTs >= DAY;
  }

  /** Seen in nearly every clock hour for at least three days (brief misses inside an hour do not count), and not allowed to sleep. */
  private alwaysOn(info: MacInfo, mac: string): boolean {
    if (info.hours < ALWAYS_ON_HOURS || hourCoverage(info) < ALWAYS_ON_COVERAGE) return false;
    return !this.known.get(mac)?.can_sleep;
  }

  /** A clock hour ended: every tracked device folds whether it answered in it. */
  private endHour(hod: number): void {
    for (const info of this.active.values()) foldHour(info, hod);
    for (const info of this.nat.values()) foldHour(info, hod);
    this.hourCount++;
  }

  /**
   * How surprising a gap of `gap` sweeps is for this device: a Gumbel law fitted to its daily longest
   * gaps over the window (days without a gap count as 0) through their median and 75 % quantile gives
   * z = (gap - mu) / beta, and a day's longest gap is that long with probability about e^-z. Earlier
   * outages in the window (up to a quarter of the days) do not teach it to accept the next one.
   */
  private gapSurprise(info: MacInfo, gap: number, ts: number): number {
    const today = Math.floor(ts / DAY);
    const windowDays = Math.floor(this.opts.windowSeconds / DAY);
    const days = Math.max(1, Math.min(windowDays, Math.ceil(info.age / this.w.day)));
    const vals: number[] = [];
    for (const g of info.dayMaxGap) if (g.day > today - windowDays) vals.push(g.len);
    while (vals.length < days) vals.push(0);
    const sorted = Float64Array.from(vals).sort();
    const g = gumbelFromQuartiles(quantileOfSorted(sorted, 0.5), quantileOfSorted(sorted, 0.75), 1);
    return (gap - g.mu) / g.beta;
  }

  /** Compute the feature vector of `sweep` from past state, then fold the sweep into the state. */
  step(sweep: SweepRecord): number[] {
    const ts = sweep.tsSeconds;
    this.time.noteSweep(ts);
    const idx = this.idx;
    const t = this.time.localTime(ts);
    const hourNo = Math.floor(t.day * 24 + t.hod);
    if (this.hourNo !== null && hourNo !== this.hourNo) this.endHour(((this.hourNo % 24) + 24) % 24);
    this.hourNo = hourNo;
    const w = this.w;
    const f = new Array<number>(FEATURE_NAMES.length).fill(0);
    const F = FEATURE_INDEX;
    const involved: Involved[] = [];

    // --- the sweep itself
    const { ipToMacs, macToIps: present } = groupAnswers(sweep);
    const gw = this.gateway.ip(idx);
    const proxyNow = new Set<string>();
    for (const mac of present.keys()) if (this.isProxy(mac, ts)) proxyNow.add(mac);
    const inBootstrap = idx < w.hour; // devices seen in the first hour of history are not "new"
    const natIps = new Set<string>();
    for (const [ip, macs] of ipToMacs) if (ip !== gw) for (const m of macs) if (proxyNow.has(m)) natIps.add(ip);

    // --- new devices, cohorts, night arrivals, rotations
    const cohorts = new Map<number, number>();
    const rotationNow = new Set<string>();
    // --- one pass over tracked devices: presence, absence, always-on, randomized churn, mass drops
    const roamed = (info: MacInfo) => {
      if (info.lastIp === null) return false;
      const macs = ipToMacs.get(info.lastIp);
      if (!macs) return false;
      for (const m of macs) if (proxyNow.has(m)) return true;
      return false;
    };
    for (const mac of present.keys()) {
      const info = this.macs.get(mac);
      if (info && !this.active.has(mac)) {
        catchUp(info, idx, this.hourCount);
        this.active.set(mac, info);
      }
    }
    const vanishedLongRandom: MacInfo[] = [];
    const usual = new UsualPresence(t.hod, w.quarter / w.hour);
    let churnVanished = 0;
    let alwaysOnTotal = 0;
    // always-on devices missing for >= 2 sweeps, with how surprising their gap is
    const aoMissing: { mac: string | null; z: number; sinceTs: number }[] = [];
    for (const [mac, info] of this.active) {
      const direct = present.has(mac);
      const here = direct || (!proxyNow.has(mac) && roamed(info));
      info.hereNow = here;
      usual.count(info);
      if (info.random && !info.bootstrap && info.firstIdx >= idx - w.hour + 1) f[F.random_new_1h]++;
      if (info.random && !info.replaced && !direct && info.presentSweeps >= w.recent && info.lastIdx >= idx - w.hour) vanishedLongRandom.push(info);
      const ao = this.alwaysOn(info, mac);
      if (ao) alwaysOnTotal++;
      if (here) continue;
      if (info.random && !info.bootstrap && info.presentSweeps <= w.shortLived && info.lastIdx <= idx - 2 && info.lastIdx >= idx - w.hour) churnVanished++;
      if ((info.bits & 1) === 0 && presentBefore(info, w.hourBits) >= w.hourBitsMost) f[F.gone_recent]++;
      const gapNow = info.curGap + 1;
      if (gapNow >= 2 && gapNow <= w.halfHour) usual.vanished(mac, info, idx - gapNow, gapNow, ts);
      if (ao && gapNow >= 2) aoMissing.push({ mac, z: this.gapSurprise(info, gapNow, ts) + (this.known.get(mac)?.critical ? CRITICAL_BONUS : 0), sinceTs: info.missSinceTs || ts });
    }
    vanishedLongRandom.sort((a, b) => a.lastIdx - b.lastIdx); // pop() pairs the most recently vanished
    const quietNow = this.time.quietWeight(t.hod, ts);
    // the most unusual arrival hour of a new unknown device, vendor and randomized MACs apart
    const night: Record<'night' | 'night_random', Involved | null> = { night: null, night_random: null };
    const noteNight = (mac: string, random: boolean, rarity: number, sinceTs: number) => {
      const group = random ? 'night_random' : 'night';
      const col = random ? F.night_new_random : F.night_new;
      if (rarity <= f[col]) return;
      f[col] = rarity;
      night[group] = { group, mac, weight: rarity, sinceTs };
    };
    const fresh: Involved[] = [];
    for (const [mac] of present) {
      const info = this.macs.get(mac);
      const known = this.known.has(mac);
      if (!known) f[F.unknown_present]++;
      if (isRandomizedMac(mac)) f[F.random_present]++;
      if (!info) {
        if (inBootstrap) continue;
        f[F.new_devices]++;
        cohorts.set(idx, (cohorts.get(idx) ?? 0) + 1);
        f[F.new_recent]++;
        if (!isRandomizedMac(mac)) f[F.new_universal_recent]++;
        let rotation = false;
        if (isRandomizedMac(mac) && vanishedLongRandom.length > 0) {
          rotation = true;
          rotationNow.add(mac);
          vanishedLongRandom.pop()!.replaced = true; // paired with its successor
        }
        if (!rotation && !known) {
          f[F.new_30m]++;
          fresh.push({ group: 'new', mac, weight: 1, sinceTs: ts });
          noteNight(mac, isRandomizedMac(mac), quietNow, ts);
        }
        if (!known) f[F.unfamiliar_present]++;
        continue;
      }
      if (!known && info.days < 3) f[F.unfamiliar_present]++;
      if (!info.bootstrap && info.firstIdx >= idx - w.recent) {
        cohorts.set(info.firstIdx, (cohorts.get(info.firstIdx) ?? 0) + 1);
        f[F.new_recent]++;
        if (!info.random) f[F.new_universal_recent]++;
        if (!info.rotation && !known) {
          if (info.firstIdx > idx - w.halfHour) {
            f[F.new_30m]++;
            fresh.push({ group: 'new', mac, weight: 1, sinceTs: info.firstTs });
          }
          noteNight(mac, info.random, info.quietAtFirst, info.firstTs);
        }
      }
    }
    for (const c of cohorts.values()) f[F.new_cohort] = Math.max(f[F.new_cohort], c);
    if (fresh.length >= 2) involved.push(...fresh);
    for (const n of [night.night, night.night_random]) if (n) involved.push(n);

    // --- IP <-> MAC bindings
    for (const [ip, macs] of ipToMacs) {
      let nonProxy = 0;
      let proxies = 0;
      for (const m of macs) {
        if (proxyNow.has(m)) proxies++;
        else nonProxy++;
      }
      if (proxies > 0) f[F.proxy_ips]++;
      if (ip === gw) {
        for (const m of this.gateway.strangers(macs)) {
          f[F.gateway_conflict]++;
          involved.push({ group: 'gateway', mac: m, weight: 1, sinceTs: ts });
        }
        continue;
      }
      if (nonProxy >= 2) {
        f[F.dup_ip]++;
        for (const m of macs) if (!proxyNow.has(m)) involved.push({ group: 'ip', mac: m, weight: 1, sinceTs: ts });
      }
      const prev = this.ipLast.get(ip);
      if (prev && prev.idx >= idx - w.hour && !macs.has(prev.mac) && !this.isProxy(prev.mac, ts)) {
        for (const m of macs) {
          if (!proxyNow.has(m)) {
            f[F.ip_takeover]++;
            involved.push({ group: 'ip', mac: m, weight: 1, sinceTs: ts });
            break;
          }
        }
      }
    }
    for (const [mac, ips] of present) {
      if (proxyNow.has(mac) || ips.size !== 1) continue;
      const info = this.macs.get(mac);
      const ip = ips.values().next().value as string;
      if (info && info.lastIp !== null && info.lastIp !== ip) f[F.mac_ip_changes]++;
    }

    // clients only seen through an extender's MAC-NAT, tracked by IP. A NAT'd client whose IP vanished
    // while another NAT'd IP appeared has most likely just got a new DHCP lease: not counted missing.
    let newestNatFirstTs = -Infinity;
    for (const ip of natIps) newestNatFirstTs = Math.max(newestNatFirstTs, this.nat.get(ip)?.firstTs ?? ts);
    for (const [ip, info] of this.nat) {
      usual.count(info);
      if (!this.alwaysOn(info, '')) continue;
      alwaysOnTotal++;
      if (natIps.has(ip) || newestNatFirstTs >= info.lastTs - 3600) continue;
      const gapNow = info.curGap + 1;
      if (gapNow < 2) continue;
      if (gapNow <= w.halfHour) usual.vanished(null, info, idx - gapNow, gapNow, ts);
      aoMissing.push({ mac: null, z: this.gapSurprise(info, gapNow, ts), sinceTs: info.missSinceTs || ts });
    }
    if (!inBootstrap) for (const [mac] of present) if (!this.macs.has(mac) && isRandomizedMac(mac)) f[F.random_new_1h]++;
    // churn only counts while new randomized MACs keep appearing
    let freshRandom = 0;
    for (const [mac] of present) {
      const info = this.macs.get(mac);
      if (isRandomizedMac(mac) && !inBootstrap && (!info || (!info.bootstrap && info.firstIdx >= idx - (w.fresh - 1)))) {
        freshRandom++;
        if (churnVanished > 0) involved.push({ group: 'churn', mac, weight: 1, sinceTs: info?.firstTs ?? ts });
      }
    }
    f[F.random_churn] = freshRandom > 0 ? churnVanished : 0;
    // the most surprising gap, less ln(number of always-on devices): one of many devices having an odd day is not news
    const manyDevices = Math.log(Math.max(1, alwaysOnTotal));
    let overdue = 0;
    let worst = aoMissing.length > 0 ? -Infinity : NONE_MISSING;
    for (const m of aoMissing) {
      if (m.z >= OVERDUE_Z) overdue++;
      worst = Math.max(worst, m.z - manyDevices);
    }
    f[F.always_on_missing] = overdue;
    f[F.always_on_surprise] = Math.max(NONE_MISSING, worst);
    f[F.segment_missing_frac] = alwaysOnTotal > 0 ? overdue / alwaysOnTotal : 0;
    const drop = usual.drop(w.quarter);
    f[F.drop_sync] = drop.weight;
    f[F.drop_share] = usual.expected > 0 ? drop.usual / Math.max(1, usual.expected) : 0;
    for (const d of drop.devices) involved.push({ group: 'drop', mac: d.mac, weight: d.weight, sinceTs: d.sinceTs });
    for (const m of aoMissing) if (m.mac !== null && m.z >= OVERDUE_Z) involved.push({ group: 'overdue', mac: m.mac, weight: worst > 0 ? Math.min(1, Math.max(0, m.z - manyDevices) / worst) : 1, sinceTs: m.sinceTs });

    // --- count against the same hour of the week
    const count = present.size;
    f[F.count] = count;
    f[F.count_dev] = this.time.countDeviation(count, t, ts);
    f[F.hour_sin] = Math.sin(2 * Math.PI * t.frac);
    f[F.hour_cos] = Math.cos(2 * Math.PI * t.frac);
    f[F.weekend] = t.dow === 0 || t.dow === 6 ? 1 : 0;

    this.involved = involved;
    this.update(ts, t, present, ipToMacs, proxyNow, rotationNow, quietNow);
    this.updateNat(ts, t.day, natIps);
    return f;
  }

  private update(
    ts: number,
    t: LocalTime,
    present: Map<string, Set<string>>,
    ipToMacs: Map<string, Set<string>>,
    proxyNow: Set<string>,
    rotationNow: Set<string>,
    quietNow: number,
  ): void {
    const idx = this.idx;
    const w = this.w;
    const inBootstrap = idx < w.hour;
    for (const [mac, info] of this.active) {
      const direct = present.has(mac);
      const here = info.hereNow;
      if (here) {
        if (info.curGap > 0) {
          recordGap(info, ts, this.opts.windowSeconds);
          // back after >= 1 h: a known device arriving
          if (info.curGap >= w.hour && !inBootstrap) this.time.addArrival(ts, RETURN_WEIGHT);
        }
        info.curGap = 0;
      } else info.curGap++;
      foldPresence(info, here, ts);
      info.updIdx = idx + 1;
      if (!here && info.curGap >= w.day && !this.alwaysOn(info, mac)) this.active.delete(mac);
      if (direct) {
        info.lastIdx = idx;
        info.lastTs = ts;
        info.presentSweeps++;
        if (t.day !== info.lastDay) {
          info.days++;
          info.lastDay = t.day;
        }
      }
    }
    for (const [mac, ips] of present) {
      let info = this.macs.get(mac);
      if (!info) {
        const random = isRandomizedMac(mac);
        info = newInfo(ts, idx, t.day, this.hourCount, { bootstrap: inBootstrap, random, rotation: rotationNow.has(mac), quietAtFirst: quietNow });
        this.macs.set(mac, info);
        this.active.set(mac, info);
        if (!inBootstrap && !info.rotation) this.time.addArrival(ts, 1);
      }
      if (ips.size >= 2) {
        info.proxySinceTs ??= ts;
        info.proxySweeps++;
      }
      if (ips.size === 1 && !proxyNow.has(mac)) info.lastIp = ips.values().next().value as string;
    }
    for (const [ip, macs] of ipToMacs) {
      let owner: string | null = null;
      if (macs.size === 1) owner = macs.values().next().value as string;
      else {
        let n = 0;
        for (const m of macs)
          if (!proxyNow.has(m)) {
            owner = m;
            n++;
          }
        if (n !== 1) owner = null;
      }
      if (owner) this.ipLast.set(ip, { mac: owner, idx });
    }
    this.gateway.learn(ipToMacs, idx);
    this.time.recordCount(t, ts, present.size);
    this.idx++;
    if (this.idx % w.day === 0) this.prune(ts);
  }

  private updateNat(ts: number, day: number, natIps: Set<string>): void {
    const idx = this.idx - 1; // update() already advanced the index
    for (const [ip, info] of this.nat) {
      const here = natIps.has(ip);
      if (here) {
        if (info.curGap > 0) recordGap(info, ts, this.opts.windowSeconds);
        info.curGap = 0;
        info.lastIdx = idx;
        info.lastTs = ts;
        info.presentSweeps++;
      } else info.curGap++;
      foldPresence(info, here, ts);
    }
    for (const ip of natIps) if (!this.nat.has(ip)) this.nat.set(ip, newInfo(ts, idx, day, this.hourCount));
  }

  private prune(ts: number): void {
    for (const [ip, info] of this.nat) if (info.lastTs < ts - this.opts.windowSeconds) this.nat.delete(ip);
    const from = ts - this.opts.windowSeconds;
    for (const [mac, info] of this.macs)
      if (info.lastTs < from) {
        this.macs.delete(mac);
        this.active.delete(mac);
      }
    for (const [ip, last] of this.ipLast) if (last.idx < this.idx - 2 * this.w.day) this.ipLast.delete(ip);
    this.time.prune(from);
  }
}

/**
 * Mass drops: devices that vanished within the last half hour (missing for at least 2 sweeps). Each
 * weighs by how surprising its absence is: -ln p, where p is the chance it is simply not here at this
 * hour (1 - its usual presence at this hour and the next, from its own hour-of-day profile) plus the
 * chance that a gap this long of its own started in the same quarter of an hour (from how often it has
 * such gaps per hour present). A phone dozing or a worker going home weighs little, an always-on device
 * that never misses a sweep weighs a lot. The drop is the heaviest group that vanished within a quarter
 * of an hour of each other, less its heaviest device (one device is not a mass drop; see
 * always_on_missing). `expected` is how many devices are usually present at this hour, so that the
 * group can be read as a share of them.
 */
class UsualPresence {
  expected = 0;
  private gone: { mac: string | null; at: number; weight: number; usual: number; sinceTs: number }[] = [];
  private readonly next: number;

  constructor(
    private readonly hod: number,
    private readonly quarterHours: number,
  ) {
    this.next = (hod + 1) % 24;
  }

  /** How usually `info` is present now: the lower of its presence at this hour and at the next (0 when not known for a day). */
  private usual(info: MacInfo): number {
    if (info.hours < 24) return 0;
    return Math.max(0, Math.min(info.profile[this.hod], info.profile[this.next]));
  }

  count(info: MacInfo): void {
    this.expected += this.usual(info);
  }

  /** `info` was last present at sweep `at` and has missed `gap` sweeps. */
  vanished(mac: string | null, info: MacInfo, at: number, gap: number, ts: number): void {
    const usual = this.usual(info);
    if (usual <= 0) return;
    const p = Math.min(1, 1 - usual + gapsPerHour(info, gap, ts) * this.quarterHours);
    const weight = Math.min(MAX_SURPRISE, -Math.log(Math.max(p, Math.exp(-MAX_SURPRISE))));
    if (weight > 0) this.gone.push({ mac, at, weight, usual, sinceTs: info.missSinceTs || ts });
  }

  /** The heaviest group of devices that vanished within `span` sweeps of each other, less its heaviest device. */
  drop(span: number): { weight: number; usual: number; devices: { mac: string; weight: number; sinceTs: number }[] } {
    const g = this.gone.sort((a, b) => a.at - b.at);
    let best = 0;
    let bestFrom = 0;
    let bestTo = 0;
    for (let lo = 0, hi = 0; hi < g.length; hi++) {
      while (g[hi].at - g[lo].at >= span) lo++;
      let sum = 0;
      let top = 0;
      for (let k = lo; k <= hi; k++) {
        sum += g[k].weight;
        top = Math.max(top, g[k].weight);
      }
      if (sum - top > best) {
        best = sum - top;
        bestFrom = lo;
        bestTo = hi + 1;
      }
    }
    const group = g.slice(bestFrom, bestTo);
    const top = Math.max(1e-9, ...group.map((d) => d.weight));
    const devices: { mac: string; weight: number; sinceTs: number }[] = [];
    for (const d of group) if (d.mac !== null) devices.push({ mac: d.mac, weight: d.weight / top, sinceTs: d.sinceTs });
    return { weight: best, usual: group.reduce((a, d) => a + d.usual, 0), devices };
  }
}
