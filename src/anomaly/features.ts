/**
 * Per-sweep feature vector, computed from the state of PAST sweeps plus the sweep being scored.
 * `FeatureState.step(sweep)` first computes the features (reading only what earlier sweeps left in the
 * state), then folds the sweep into the state. The state is deterministic and independent of any model,
 * so `restore()` can rebuild it from the stored sweep history. Times are unix seconds; windows counted
 * in sweeps come from the sweep interval (sweep-windows.ts).
 */
import { isRandomizedMac, normalizeMac } from '../net/mac.js';
import { catchUp, copyInfo, foldPresence, newInfo, presentBefore, recordGap, type MacInfo } from './device-history.js';
import { FEATURE_INDEX, FEATURE_NAMES } from './feature-names.js';
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
}

export interface FeatureStateOptions {
  windowSeconds: number;
  gatewayIp?: string;
  tzOffsetMinutes: number;
  /** Seconds between sweeps (default 300). */
  intervalSeconds?: number;
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
  private readonly w: SweepWindows;
  private readonly time: TimeContext;
  private readonly gateway: GatewayWatch;

  constructor(private readonly opts: FeatureStateOptions, known: KnownDevice[] = []) {
    this.w = sweepWindows(opts.intervalSeconds ?? 300);
    this.time = new TimeContext(opts, this.w.day);
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
    s.gateway.restore(snap);
    s.time.restore(snap);
    return s;
  }

  get sweeps(): number {
    return this.idx;
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

  private alwaysOn(info: MacInfo, mac: string): boolean {
    if (info.age < this.w.day || info.ema < 0.9 * info.norm) return false;
    return !this.known.get(mac)?.can_sleep;
  }

  /**
   * The device's usual longest gap: the 90 % quantile of its daily longest gaps over the window (days
   * without a gap count as 0), i.e. about the 3rd-worst day in four weeks, so earlier outages in the
   * window do not teach the detector to accept the next one.
   */
  private typicalMaxGap(info: MacInfo, ts: number): number {
    const today = Math.floor(ts / DAY);
    const windowDays = Math.floor(this.opts.windowSeconds / DAY);
    const days = Math.max(1, Math.min(windowDays, Math.ceil(info.age / this.w.day)));
    const vals = info.dayMaxGap.filter((g) => g.day > today - windowDays).map((g) => g.len).sort((a, b) => b - a);
    const k = Math.floor(0.1 * days);
    return vals[k] ?? 0;
  }

  /** Compute the feature vector of `sweep` from past state, then fold the sweep into the state. */
  step(sweep: SweepRecord): number[] {
    const ts = sweep.tsSeconds;
    this.time.noteSweep(ts);
    const idx = this.idx;
    const t = this.time.localTime(ts);
    const w = this.w;
    const f = new Array<number>(FEATURE_NAMES.length).fill(0);
    const F = FEATURE_INDEX;

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
    // --- one pass over tracked devices: presence, absence, always-on, randomized churn
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
        catchUp(info, idx, w.emaAlpha);
        this.active.set(mac, info);
      }
    }
    const vanishedLongRandom: MacInfo[] = [];
    let churnVanished = 0;
    let alwaysOnTotal = 0;
    let overdue = 0;
    let worst = 0;
    for (const [mac, info] of this.active) {
      const direct = present.has(mac);
      const here = direct || (!proxyNow.has(mac) && roamed(info));
      info.hereNow = here;
      if (info.random && !info.bootstrap && info.firstIdx >= idx - w.hour + 1) f[F.random_new_1h]++;
      if (info.random && !info.replaced && !direct && info.presentSweeps >= w.recent && info.lastIdx >= idx - w.hour) vanishedLongRandom.push(info);
      const ao = this.alwaysOn(info, mac);
      if (ao) alwaysOnTotal++;
      if (here) continue;
      if (info.random && !info.bootstrap && info.presentSweeps <= w.shortLived && info.lastIdx <= idx - 2 && info.lastIdx >= idx - w.hour) churnVanished++;
      if ((info.bits & 1) === 0 && presentBefore(info, w.hourBits) >= w.hourBitsMost) f[F.gone_recent]++;
      if (ao) {
        const gapNow = info.curGap + 1;
        const typ = this.typicalMaxGap(info, ts);
        if (gapNow >= 2 && gapNow > typ) {
          overdue++;
          const crit = this.known.get(mac)?.critical ? 1.25 : 1;
          worst = Math.max(worst, crit * Math.log2(gapNow / (typ + 1)));
        }
      }
    }
    vanishedLongRandom.sort((a, b) => a.lastIdx - b.lastIdx); // pop() pairs the most recently vanished
    const quietNow = this.time.quietWeight(t.hod, ts);
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
        if (!rotation && !known) f[F.night_new] = Math.max(f[F.night_new], quietNow);
        if (!known) f[F.unfamiliar_present]++;
        continue;
      }
      if (!known && info.days < 3) f[F.unfamiliar_present]++;
      if (!info.bootstrap && info.firstIdx >= idx - w.recent) {
        cohorts.set(info.firstIdx, (cohorts.get(info.firstIdx) ?? 0) + 1);
        f[F.new_recent]++;
        if (!info.random) f[F.new_universal_recent]++;
        if (!info.rotation && !known) f[F.night_new] = Math.max(f[F.night_new], info.quietAtFirst);
      }
    }
    for (const c of cohorts.values()) f[F.new_cohort] = Math.max(f[F.new_cohort], c);

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
        f[F.gateway_conflict] += this.gateway.strangers(macs);
        continue;
      }
      if (nonProxy >= 2) f[F.dup_ip]++;
      const prev = this.ipLast.get(ip);
      if (prev && prev.idx >= idx - w.hour && !macs.has(prev.mac) && !this.isProxy(prev.mac, ts)) {
        for (const m of macs) {
          if (!proxyNow.has(m)) {
            f[F.ip_takeover]++;
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
      if (!this.alwaysOn(info, '')) continue;
      alwaysOnTotal++;
      if (natIps.has(ip) || newestNatFirstTs >= info.lastTs - 3600) continue;
      const gapNow = info.curGap + 1;
      const typ = this.typicalMaxGap(info, ts);
      if (gapNow >= 2 && gapNow > typ) {
        overdue++;
        worst = Math.max(worst, Math.log2(gapNow / (typ + 1)));
      }
    }
    if (!inBootstrap) for (const [mac] of present) if (!this.macs.has(mac) && isRandomizedMac(mac)) f[F.random_new_1h]++;
    // churn only counts while new randomized MACs keep appearing
    let freshRandom = 0;
    for (const [mac, ips] of present) {
      void ips;
      const info = this.macs.get(mac);
      if (isRandomizedMac(mac) && !inBootstrap && (!info || (!info.bootstrap && info.firstIdx >= idx - (w.fresh - 1)))) freshRandom++;
    }
    f[F.random_churn] = freshRandom > 0 ? churnVanished : 0;
    f[F.always_on_missing] = overdue;
    f[F.always_on_gap_ratio] = worst;
    f[F.segment_missing_frac] = alwaysOnTotal > 0 ? overdue / alwaysOnTotal : 0;

    // --- count against the same hour of the week
    const count = present.size;
    f[F.count] = count;
    f[F.count_dev] = this.time.countDeviation(count, t, ts);
    f[F.hour_sin] = Math.sin(2 * Math.PI * t.frac);
    f[F.hour_cos] = Math.cos(2 * Math.PI * t.frac);
    f[F.weekend] = t.dow === 0 || t.dow === 6 ? 1 : 0;

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
          if (info.curGap >= w.hour && !inBootstrap) {
            // back after >= 1 h: an arrival now and a departure when it was last seen
            this.time.addArrival(ts);
            this.time.addArrival(info.lastTs);
          }
        }
        info.curGap = 0;
      } else info.curGap++;
      foldPresence(info, here, w.emaAlpha);
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
        info = newInfo(ts, idx, t.day, w.emaAlpha, { bootstrap: inBootstrap, random, rotation: rotationNow.has(mac), quietAtFirst: quietNow });
        this.macs.set(mac, info);
        this.active.set(mac, info);
        if (!inBootstrap && !info.rotation) this.time.addArrival(ts);
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
      foldPresence(info, here, this.w.emaAlpha);
    }
    for (const ip of natIps) if (!this.nat.has(ip)) this.nat.set(ip, newInfo(ts, idx, day, this.w.emaAlpha));
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
