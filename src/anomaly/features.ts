/**
 * Per-sweep feature vector, computed from the state of PAST sweeps plus the sweep being scored.
 * `FeatureState.step(sweep)` first computes the features (reading only what earlier sweeps left in the
 * state), then folds the sweep into the state. The state is deterministic and independent of any model,
 * so `restore()` can rebuild it from the stored sweep history.
 */
import type { KnownDevice, SweepRecord } from './types.js';
import { isMulticastMac, isRandomizedMac, normalizeMac } from '../net/mac.js';

export const FEATURE_NAMES = [
  'new_devices', // devices never seen before, present now
  'new_cohort', // largest group of present devices first seen in the same sweep, within the last 3 h
  'new_recent', // present devices first seen within the last 3 h
  'new_universal_recent', // ... of those, with a globally administered (vendor) MAC
  'night_new', // rarity (0..1) of the arrival hour of the most unusual unknown device first seen within 3 h
  'unknown_present', // present devices not in known_devices
  'unfamiliar_present', // present, not known, and seen on fewer than 3 distinct days
  'gone_recent', // devices present most of the previous hour, now missing for >= 2 sweeps
  'always_on_missing', // always-on devices missing longer than their own usual longest gap (debounced >= 2 sweeps)
  'always_on_gap_ratio', // log2(current gap / usual longest gap) of the most overdue always-on device
  'segment_missing_frac', // fraction of always-on devices overdue at once
  'random_present', // locally administered (randomized) MACs present
  'random_new_1h', // randomized MACs first seen within the last hour
  'random_churn', // short-lived (<= 6 sweeps) randomized MACs that vanished within the hour, while new ones keep appearing
  'ip_takeover', // IPs now answered by another MAC than the one that had them within the last hour
  'mac_ip_changes', // devices now on another IP than last time (DHCP lease changes)
  'dup_ip', // IPs answered by two or more MACs, Wi-Fi extender MAC-NAT excluded
  'gateway_conflict', // MACs answering for the gateway IP besides the learned gateway MAC(s)
  'proxy_ips', // IPs answered by a proxying MAC (extender MAC-NAT activity; context)
  'count', // devices present
  'count_dev', // robust z-score of the count against the same hour of the week (fallback: hour of day)
  'hour_sin', // time of day (local)
  'hour_cos',
  'weekend', // 1 on Saturday and Sunday
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_INDEX: Record<FeatureName, number> = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as Record<FeatureName, number>;

/** Columns given to the isolation forest (the raw count drifts as a network grows, so only its deviation). */
export const FOREST_FEATURES: FeatureName[] = FEATURE_NAMES.filter((n) => n !== 'count');

const SWEEPS_PER_HOUR = 12;
const RECENT_SWEEPS = 36; // 3 h of 5-minute sweeps
const BOOTSTRAP_SWEEPS = 12; // devices seen in the first hour of history are not "new"
/** a new randomized MAC replaces a long-lived randomized MAC that vanished within this many sweeps (private-MAC rotation) */
const ROTATION_SWEEPS = 12;
const DAY = 86400;
const EMA_ALPHA = Math.LN2 / (7 * 288); // presence average with a one-week half-life

export interface MacInfo {
  firstTs: number;
  firstIdx: number;
  lastIdx: number;
  lastTs: number;
  lastIp: string | null;
  bootstrap: boolean;
  random: boolean;
  rotation: boolean; // a randomized MAC that replaced a long-lived one that just vanished (private-MAC rotation)
  quietAtFirst: number; // rarity weight of the hour it was first seen
  presentSweeps: number;
  curGap: number; // consecutive sweeps missed so far
  dayMaxGap: { day: number; len: number }[]; // longest gap (sweeps) that ended on each day
  bits: number; // presence in the last 32 sweeps, bit 0 = most recent
  ema: number;
  norm: number; // 1 - (1 - alpha)^age, so ema / norm is the presence ratio since first seen
  hereNow: boolean; // present (directly or through an extender) in the sweep being processed
  updIdx: number; // presence statistics are folded in up to (excluding) this sweep index
  age: number; // sweeps since first seen
  days: number; // distinct days seen
  lastDay: number;
  proxySinceTs: number | null;
  proxySweeps: number;
  replaced: boolean;
}

/** FeatureState as plain data (JSON-safe), map entries in iteration order: the order breaks ties. */
export interface FeatureStateSnapshot {
  macs: [string, MacInfo][];
  active: string[];
  nat: [string, MacInfo][];
  ipLast: [string, { mac: string; idx: number }][];
  ipSweeps: [string, number][];
  gwAlone: [string, number][];
  gwLearned: string[];
  arrivals: { ts: number; hod: number; day: number; weekend: number }[];
  /** per slot: ts, count, ts, count, ... */
  slotsHow: number[][];
  slotsHod: number[][];
  recentCounts: number[];
  idx: number;
  startTs: number | null;
  gwCache: { idx: number; ip: string | null };
  quietCache: { key: number; w: number[] };
  countCache: { key: number; med: number; scale: number; n: number };
}

const copyInfo = (i: MacInfo): MacInfo => ({ ...i, dayMaxGap: i.dayMaxGap.map((g) => ({ ...g })) });
const flatCounts = (list: { ts: number; v: number }[]): number[] => list.flatMap((e) => [e.ts, e.v]);
function unflatCounts(flat: number[]): { ts: number; v: number }[] {
  const out: { ts: number; v: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ ts: flat[i], v: flat[i + 1] });
  return out;
}

export interface FeatureStateOptions {
  windowSeconds: number;
  gatewayIp?: string;
  tzOffsetMinutes: number;
}

function recordGap(info: MacInfo, ts: number, windowSeconds: number): void {
  const day = Math.floor(ts / DAY);
  const last = info.dayMaxGap[info.dayMaxGap.length - 1];
  if (last && last.day === day) last.len = Math.max(last.len, info.curGap);
  else info.dayMaxGap.push({ day, len: info.curGap });
  const oldest = day - Math.ceil(windowSeconds / DAY);
  while (info.dayMaxGap.length && info.dayMaxGap[0].day <= oldest) info.dayMaxGap.shift();
}

/** Apply the sweeps a dormant device missed (absent in all of them) in one step. */
function catchUp(info: MacInfo, idx: number): void {
  const k = idx - info.updIdx;
  if (k <= 0) return;
  const decay = Math.pow(1 - EMA_ALPHA, k);
  info.ema *= decay;
  info.norm = 1 - (1 - info.norm) * decay;
  info.age += k;
  info.curGap += k;
  info.bits = k >= 32 ? 0 : (info.bits << k) >>> 0;
  info.updIdx = idx;
}

function newInfo(ts: number, idx: number, day: number, o: Partial<MacInfo> = {}): MacInfo {
  return {
    firstTs: ts,
    firstIdx: idx,
    lastIdx: idx,
    lastTs: ts,
    lastIp: null,
    bootstrap: false,
    random: false,
    rotation: false,
    quietAtFirst: 0,
    presentSweeps: 1,
    curGap: 0,
    dayMaxGap: [],
    bits: 1,
    ema: EMA_ALPHA,
    norm: EMA_ALPHA,
    hereNow: true,
    updIdx: idx + 1,
    age: 1,
    days: 1,
    lastDay: day,
    proxySinceTs: null,
    proxySweeps: 0,
    replaced: false,
    ...o,
  };
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function median(sorted: number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  return n % 2 ? sorted[(n - 1) >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
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
  private ipSweeps = new Map<string, number>();
  private gwAlone = new Map<string, number>();
  private gwLearned = new Set<string>();
  private arrivals: { ts: number; hod: number; day: number; weekend: number }[] = [];
  private slotsHow: { ts: number; v: number }[][] = Array.from({ length: 168 }, () => []);
  private slotsHod: { ts: number; v: number }[][] = Array.from({ length: 24 }, () => []);
  private recentCounts: { ts: number; v: number }[] = [];
  private known = new Map<string, KnownDevice>();
  private idx = 0;
  private startTs: number | null = null;
  private gwCache: { idx: number; ip: string | null } = { idx: -1, ip: null };
  private quietCache: { key: number; w: number[] } = { key: -1, w: [] };
  private countCache: { key: number; med: number; scale: number; n: number } = { key: -1, med: 0, scale: 1, n: 0 };

  constructor(private readonly opts: FeatureStateOptions, known: KnownDevice[] = []) {
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
      ipSweeps: [...this.ipSweeps],
      gwAlone: [...this.gwAlone],
      gwLearned: [...this.gwLearned],
      arrivals: this.arrivals.map((a) => ({ ...a })),
      slotsHow: this.slotsHow.map(flatCounts),
      slotsHod: this.slotsHod.map(flatCounts),
      recentCounts: flatCounts(this.recentCounts),
      idx: this.idx,
      startTs: this.startTs,
      gwCache: { ...this.gwCache },
      quietCache: { key: this.quietCache.key, w: [...this.quietCache.w] },
      countCache: { ...this.countCache },
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
    s.ipSweeps = new Map(snap.ipSweeps);
    s.gwAlone = new Map(snap.gwAlone);
    s.gwLearned = new Set(snap.gwLearned);
    s.arrivals = snap.arrivals.map((a) => ({ ...a }));
    s.slotsHow = Array.from({ length: 168 }, (_, i) => unflatCounts(snap.slotsHow[i] ?? []));
    s.slotsHod = Array.from({ length: 24 }, (_, i) => unflatCounts(snap.slotsHod[i] ?? []));
    s.recentCounts = unflatCounts(snap.recentCounts);
    s.idx = snap.idx;
    s.startTs = snap.startTs;
    s.gwCache = { ...snap.gwCache };
    s.quietCache = { key: snap.quietCache.key, w: [...snap.quietCache.w] };
    s.countCache = { ...snap.countCache };
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

  private localTime(ts: number) {
    const local = ts + this.opts.tzOffsetMinutes * 60;
    const days = Math.floor(local / DAY);
    const secOfDay = local - days * DAY;
    const hod = Math.floor(secOfDay / 3600);
    const dow = (((days + 4) % 7) + 7) % 7; // 0 = Sunday (1970-01-01 was a Thursday)
    return { hod, dow, how: dow * 24 + hod, frac: secOfDay / DAY, day: days };
  }

  private isProxy(mac: string, ts: number): boolean {
    const k = this.known.get(mac);
    if (k?.class && PROXY_CLASSES.test(k.class)) return true;
    const info = this.macs.get(mac);
    return !!info && info.proxySinceTs !== null && info.proxySweeps >= 3 && ts - info.proxySinceTs >= DAY && ts - info.firstTs >= DAY;
  }

  gatewayIp(): string | null {
    if (this.opts.gatewayIp) return this.opts.gatewayIp;
    if (this.gwCache.idx >= 0 && this.idx - this.gwCache.idx < SWEEPS_PER_HOUR) return this.gwCache.ip;
    let best: string | null = null;
    let bestN = 0;
    let bestDot1: string | null = null;
    let bestDot1N = 0;
    for (const [ip, n] of this.ipSweeps) {
      if (n > bestN) {
        best = ip;
        bestN = n;
      }
      if (ip.endsWith('.1') && n > bestDot1N) {
        bestDot1 = ip;
        bestDot1N = n;
      }
    }
    const ip = bestDot1 && bestDot1N >= 0.8 * bestN ? bestDot1 : best;
    this.gwCache = { idx: this.idx, ip };
    return ip;
  }

  private alwaysOn(info: MacInfo, mac: string): boolean {
    if (info.age < 288 || info.ema < 0.9 * info.norm) return false;
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
    const days = Math.max(1, Math.min(windowDays, Math.ceil(info.age / 288)));
    const vals = info.dayMaxGap.filter((g) => g.day > today - windowDays).map((g) => g.len).sort((a, b) => b - a);
    const k = Math.floor(0.1 * days);
    return vals[k] ?? 0;
  }

  /**
   * Rarity of comings and goings at this hour of day: exp(-4 * r), where r is the larger of the weekday
   * and the weekend share of days in the window on which some device arrived (first seen, or back after
   * >= 1 h) or left (for >= 1 h) in this hour, smoothed over +-1 h. Counting days, not devices, keeps one
   * burst in the history from making its hour look busy; taking the larger of the two day types makes
   * "quiet" mean night, not "nobody home on weekdays".
   */
  private quietWeight(hod: number, ts: number): number {
    // recomputed once per local hour (deterministic: depends only on the sweeps folded in so far)
    const key = Math.floor((ts + this.opts.tzOffsetMinutes * 60) / 3600);
    if (this.quietCache.key !== key) this.quietCache = { key, w: this.computeQuiet(ts) };
    return this.quietCache.w[hod];
  }

  private addArrival(ts: number): void {
    const t = this.localTime(ts);
    this.arrivals.push({ ts, hod: t.hod, day: t.day, weekend: t.dow === 0 || t.dow === 6 ? 1 : 0 });
  }

  private computeQuiet(ts: number): number[] {
    const from = ts - this.opts.windowSeconds;
    const days: Set<number>[][] = [0, 1].map(() => Array.from({ length: 24 }, () => new Set<number>()));
    for (const a of this.arrivals) if (a.ts >= from) days[a.weekend][a.hod].add(a.day);
    const start = Math.max(this.startTs ?? ts, from);
    let weekdays = 0;
    let weekends = 0;
    for (let d = this.localTime(start).day; d <= this.localTime(ts).day; d++) {
      const dow = (((d + 4) % 7) + 7) % 7;
      dow === 0 || dow === 6 ? weekends++ : weekdays++;
    }
    const out: number[] = [];
    for (let hod = 0; hod < 24; hod++) {
      const rate = (k: 0 | 1, n: number) => {
        const c = (h: number) => days[k][(h + 24) % 24].size;
        return (0.25 * c(hod - 1) + 0.5 * c(hod) + 0.25 * c(hod + 1)) / Math.max(1, n);
      };
      out.push(Math.exp(-4 * Math.max(rate(0, weekdays), rate(1, weekends))));
    }
    return out;
  }

  /** Compute the feature vector of `sweep` from past state, then fold the sweep into the state. */
  step(sweep: SweepRecord): number[] {
    const ts = sweep.ts;
    if (this.startTs === null) this.startTs = ts;
    const idx = this.idx;
    const t = this.localTime(ts);
    const f = new Array<number>(FEATURE_NAMES.length).fill(0);
    const F = FEATURE_INDEX;

    // --- the sweep itself
    const ipToMacs = new Map<string, Set<string>>();
    const macToIps = new Map<string, Set<string>>();
    for (const d of sweep.devices) {
      if (!d || typeof d.mac !== 'string' || typeof d.ip !== 'string') continue;
      const mac = normalizeMac(d.mac);
      if (isMulticastMac(mac) || mac === '00:00:00:00:00:00') continue;
      let s = ipToMacs.get(d.ip);
      if (!s) ipToMacs.set(d.ip, (s = new Set()));
      s.add(mac);
      let m = macToIps.get(mac);
      if (!m) macToIps.set(mac, (m = new Set()));
      m.add(d.ip);
    }
    const present = macToIps;
    const gw = this.gatewayIp();
    const proxyNow = new Set<string>();
    for (const mac of present.keys()) if (this.isProxy(mac, ts)) proxyNow.add(mac);
    const inBootstrap = idx < BOOTSTRAP_SWEEPS;
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
        catchUp(info, idx);
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
      if (info.random && !info.bootstrap && info.firstIdx >= idx - SWEEPS_PER_HOUR + 1) f[F.random_new_1h]++;
      if (info.random && !info.replaced && !direct && info.presentSweeps >= RECENT_SWEEPS && info.lastIdx >= idx - ROTATION_SWEEPS) vanishedLongRandom.push(info);
      const ao = this.alwaysOn(info, mac);
      if (ao) alwaysOnTotal++;
      if (here) continue;
      if (info.random && !info.bootstrap && info.presentSweeps <= 6 && info.lastIdx <= idx - 2 && info.lastIdx >= idx - SWEEPS_PER_HOUR) churnVanished++;
      if ((info.bits & 1) === 0 && popcount((info.bits >>> 1) & 0xfff) >= 9) f[F.gone_recent]++;
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
    const quietNow = this.quietWeight(t.hod, ts);
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
      if (!info.bootstrap && info.firstIdx >= idx - RECENT_SWEEPS) {
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
      for (const m of macs) proxyNow.has(m) ? proxies++ : nonProxy++;
      if (proxies > 0) f[F.proxy_ips]++;
      if (ip === gw) {
        if (this.gwLearned.size > 0) {
          for (const m of macs) if (!this.gwLearned.has(m)) f[F.gateway_conflict]++;
        } else f[F.gateway_conflict] += Math.max(0, macs.size - 1);
        continue;
      }
      if (nonProxy >= 2) f[F.dup_ip]++;
      const prev = this.ipLast.get(ip);
      if (prev && prev.idx >= idx - SWEEPS_PER_HOUR && !macs.has(prev.mac) && !this.isProxy(prev.mac, ts)) {
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
    // churn only counts while new randomized MACs keep appearing (one within the last 4 sweeps)
    let freshRandom = 0;
    for (const [mac, ips] of present) {
      void ips;
      const info = this.macs.get(mac);
      if (isRandomizedMac(mac) && !inBootstrap && (!info || (!info.bootstrap && info.firstIdx >= idx - 3))) freshRandom++;
    }
    f[F.random_churn] = freshRandom > 0 ? churnVanished : 0;
    f[F.always_on_missing] = overdue;
    f[F.always_on_gap_ratio] = worst;
    f[F.segment_missing_frac] = alwaysOnTotal > 0 ? overdue / alwaysOnTotal : 0;

    // --- count against the same hour of the week
    const count = present.size;
    f[F.count] = count;
    f[F.count_dev] = this.countDeviation(count, t.how, t.hod, ts);
    f[F.hour_sin] = Math.sin(2 * Math.PI * t.frac);
    f[F.hour_cos] = Math.cos(2 * Math.PI * t.frac);
    f[F.weekend] = t.dow === 0 || t.dow === 6 ? 1 : 0;

    this.update(ts, t, present, ipToMacs, proxyNow, rotationNow, quietNow);
    this.updateNat(ts, t.day, natIps);
    return f;
  }

  private countDeviation(count: number, how: number, hod: number, ts: number): number {
    // the typical value for this hour of the week is computed once per local hour
    const key = Math.floor((ts + this.opts.tzOffsetMinutes * 60) / 3600);
    if (this.countCache.key !== key) this.countCache = { key, ...this.typicalCount(how, hod, ts) };
    const c = this.countCache;
    if (c.n < 3) return 0;
    return (count - c.med) / c.scale;
  }

  private typicalCount(how: number, hod: number, ts: number): { med: number; scale: number; n: number } {
    const from = ts - this.opts.windowSeconds;
    let vals = this.slotsHow[how].filter((e) => e.ts >= from).map((e) => e.v);
    if (vals.length < 6) vals = this.slotsHod[hod].filter((e) => e.ts >= from).map((e) => e.v);
    if (vals.length < 6) vals = this.recentCounts.map((e) => e.v);
    if (vals.length < 3) return { med: 0, scale: 1, n: vals.length };
    vals.sort((a, b) => a - b);
    const med = median(vals);
    const dev = vals.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
    return { med, scale: Math.max(1, 1.4826 * median(dev)), n: vals.length };
  }

  private update(
    ts: number,
    t: { hod: number; how: number; day: number },
    present: Map<string, Set<string>>,
    ipToMacs: Map<string, Set<string>>,
    proxyNow: Set<string>,
    rotationNow: Set<string>,
    quietNow: number,
  ): void {
    const idx = this.idx;
    const inBootstrap = idx < BOOTSTRAP_SWEEPS;
    for (const [mac, info] of this.active) {
      const direct = present.has(mac);
      const here = info.hereNow;
      if (here) {
        if (info.curGap > 0) {
          recordGap(info, ts, this.opts.windowSeconds);
          if (info.curGap >= SWEEPS_PER_HOUR && !inBootstrap) {
            // back after >= 1 h: an arrival now and a departure when it was last seen
            this.addArrival(ts);
            this.addArrival(info.lastTs);
          }
        }
        info.curGap = 0;
      } else info.curGap++;
      info.bits = ((info.bits << 1) | (here ? 1 : 0)) >>> 0;
      info.ema = info.ema * (1 - EMA_ALPHA) + (here ? EMA_ALPHA : 0);
      info.norm = info.norm * (1 - EMA_ALPHA) + EMA_ALPHA;
      info.age++;
      info.updIdx = idx + 1;
      if (!here && info.curGap >= 288 && !this.alwaysOn(info, mac)) this.active.delete(mac);
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
        info = newInfo(ts, idx, t.day, { bootstrap: inBootstrap, random, rotation: rotationNow.has(mac), quietAtFirst: quietNow });
        this.macs.set(mac, info);
        this.active.set(mac, info);
        if (!inBootstrap && !info.rotation) this.addArrival(ts);
      }
      if (ips.size >= 2) {
        info.proxySinceTs ??= ts;
        info.proxySweeps++;
      }
      if (ips.size === 1 && !proxyNow.has(mac)) info.lastIp = ips.values().next().value as string;
    }
    for (const [ip, macs] of ipToMacs) {
      this.ipSweeps.set(ip, (this.ipSweeps.get(ip) ?? 0) + 1);
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
    const gw = this.gatewayIp();
    if (gw) {
      const macs = ipToMacs.get(gw);
      if (macs && macs.size === 1) {
        const m = [...macs][0];
        const n = (this.gwAlone.get(m) ?? 0) + 1;
        this.gwAlone.clear();
        this.gwAlone.set(m, n);
        if (n >= SWEEPS_PER_HOUR) this.gwLearned.add(m);
      } else if (macs && macs.size > 1) this.gwAlone.clear();
    }
    const entry = { ts, v: present.size };
    this.slotsHow[t.how].push(entry);
    this.slotsHod[t.hod].push(entry);
    this.recentCounts.push(entry);
    if (this.recentCounts.length > 288) this.recentCounts.shift();
    this.idx++;
    if (this.idx % 288 === 0) this.prune(ts);
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
      info.bits = ((info.bits << 1) | (here ? 1 : 0)) >>> 0;
      info.ema = info.ema * (1 - EMA_ALPHA) + (here ? EMA_ALPHA : 0);
      info.norm = info.norm * (1 - EMA_ALPHA) + EMA_ALPHA;
      info.age++;
    }
    for (const ip of natIps) if (!this.nat.has(ip)) this.nat.set(ip, newInfo(ts, idx, day));
  }

  private prune(ts: number): void {
    for (const [ip, info] of this.nat) if (info.lastTs < ts - this.opts.windowSeconds) this.nat.delete(ip);
    const from = ts - this.opts.windowSeconds;
    for (const [mac, info] of this.macs)
      if (info.lastTs < from) {
        this.macs.delete(mac);
        this.active.delete(mac);
      }
    for (const [ip, last] of this.ipLast) if (last.idx < this.idx - 2 * 288) this.ipLast.delete(ip);
    this.arrivals = this.arrivals.filter((a) => a.ts >= from);
    for (const s of this.slotsHow) while (s.length && s[0].ts < from) s.shift();
    for (const s of this.slotsHod) while (s.length && s[0].ts < from) s.shift();
  }
}

export function featureRecord(f: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  FEATURE_NAMES.forEach((n, i) => (out[n] = Math.round(f[i] * 1000) / 1000));
  return out;
}
