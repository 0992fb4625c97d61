// What the live page's charts and device detail show, from the exporter's own store: devices
// present and anomaly scores over the last day or week, and one device's events, addresses and
// presence over the last days (both derived from its events).
import type { AnomalyReadout } from '../monitor/readout.js';
import type { PresencePoint, ScorePoint, StoredEvent } from '../store/store.js';
import type { Anomaly as AnomalyView, History } from '../web/types.js';
import { eventViews, type DeviceView, type EventView } from './views.js';

// What the page receives is defined once, with the page (src/web/types.ts).
export type { AnomalyView };
/** Column arrays (uPlot's data layout), times in unix seconds. */
export type HistoryView = History & { range: HistoryRange };

export const HISTORY_RANGES = { '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;

/** About this many points per chart line, whatever the sweep interval. */
const POINTS_PER_CHART = 720;

export interface HistorySource {
  presenceHistory(sinceMs: number, bucketMs: number): PresencePoint[];
  scoreHistory(sinceMs: number, bucketMs: number): ScorePoint[];
}

export function historyView(store: HistorySource, range: HistoryRange, nowMs: number): HistoryView {
  const spanMs = HISTORY_RANGES[range];
  const bucketMs = spanMs / POINTS_PER_CHART;
  const sinceMs = nowMs - spanMs;
  const presence: HistoryView['presence'] = {};
  for (const p of store.presenceHistory(sinceMs, bucketMs)) {
    const line = (presence[p.interface] ??= { t: [], present: [] });
    line.t.push(p.tsMs / 1000);
    line.present.push(p.present);
  }
  const anomaly: HistoryView['anomaly'] = {};
  for (const p of store.scoreHistory(sinceMs, bucketMs)) {
    const line = (anomaly[p.interface] ??= { t: [], score: [], threshold: [], anomalous: [] });
    line.t.push(p.tsMs / 1000);
    line.score.push(p.score);
    line.threshold.push(p.threshold);
    line.anomalous.push(p.anomalous);
  }
  return { range, from: sinceMs / 1000, to: nowMs / 1000, bucket_seconds: bucketMs / 1000, presence, anomaly };
}

export function anomalyView(iface: string, a: AnomalyReadout): AnomalyView {
  const r = a.result;
  return {
    interface: iface,
    state: a.status.state,
    samples: a.status.samples,
    ts: r ? r.tsSeconds : null,
    score: r?.score ?? null,
    threshold: r?.threshold ?? a.status.threshold,
    anomalous: r?.anomalous ?? false,
    detectors: Object.entries(r?.detectors ?? {})
      .filter(([, v]) => v > 0)
      .sort((x, y) => y[1] - x[1])
      .map(([name, value]) => ({ name, value })),
    top: (r?.contributions ?? []).slice(0, 5).map((c) => ({ feature: c.feature, value: c.value, weight: c.weight })),
    devices: (r?.devices ?? []).map((d) => ({ mac: d.mac, detector: d.detector, weight: d.weight, since: d.sinceTsSeconds })),
  };
}

export interface IpHistoryEntry {
  ip: string;
  /** epoch ms; null when the event log (kept for presence.retention) does not go back that far */
  first_seen: number | null;
  last_seen: number | null;
  current: boolean;
}

export interface DeviceDetailView {
  device: DeviceView;
  /** newest first */
  events: EventView[];
  ip_history: IpHistoryEntry[];
  /** present spans over the last days (epoch ms), oldest first */
  presence: { from: number; to: number; spans: { from: number; to: number }[] };
  /** the latest result of the device's interface, when anomaly detection runs there */
  anomaly: AnomalyView | null;
}

export const DETAIL_DAYS = 7;
export const DETAIL_EVENTS = 500;

/**
 * `events`: the device's events since `sinceMs`, newest first; `before`: its last presence event
 * before then (new, gone or back), which tells whether the window starts present.
 */
export function deviceDetailView(
  device: DeviceView,
  log: { events: StoredEvent[]; before: StoredEvent | null },
  anomaly: AnomalyView | null,
  sinceMs: number,
  nowMs: number,
): DeviceDetailView {
  const ascending = [...log.events].reverse();
  return {
    device,
    events: eventViews(log.events),
    ip_history: ipHistory(device, ascending),
    presence: { from: sinceMs, to: nowMs, spans: presenceSpans(device, ascending, log.before, sinceMs, nowMs) },
    anomaly,
  };
}

/** Present intervals in [sinceMs, nowMs] from new/gone/back events (oldest first). */
export function presenceSpans(device: DeviceView, ascending: StoredEvent[], before: StoredEvent | null, sinceMs: number, nowMs: number): { from: number; to: number }[] {
  const firstSeen = Date.parse(device.first_seen);
  const presence = ascending.filter((e) => e.kind === 'new_device' || e.kind === 'device_gone' || e.kind === 'device_back');
  let presentAtStart: boolean;
  if (before) presentAtStart = before.kind !== 'device_gone';
  else if (presence.length) presentAtStart = presence[0].kind === 'device_gone';
  else presentAtStart = device.present;
  const spans: { from: number; to: number }[] = [];
  let openFrom: number | null = presentAtStart ? Math.max(sinceMs, firstSeen) : null;
  for (const e of presence) {
    if (e.kind === 'device_gone') {
      if (openFrom !== null) spans.push({ from: openFrom, to: e.tsMs });
      openFrom = null;
    } else if (openFrom === null) {
      openFrom = Math.max(sinceMs, e.tsMs);
    }
  }
  if (openFrom !== null && device.present) spans.push({ from: openFrom, to: nowMs });
  return spans.filter((s) => s.to > s.from);
}

/** The addresses the device had, from its events (oldest first) and its current list. */
export function ipHistory(device: DeviceView, ascending: StoredEvent[]): IpHistoryEntry[] {
  const byIp = new Map<string, IpHistoryEntry>();
  const seen = (ip: unknown, tsMs: number, ended = false) => {
    if (typeof ip !== 'string' || !ip) return;
    const entry = byIp.get(ip) ?? { ip, first_seen: tsMs, last_seen: tsMs, current: false };
    entry.last_seen = Math.max(entry.last_seen ?? tsMs, tsMs);
    if (!ended) byIp.delete(ip); // re-insert: the map stays in order of last use
    byIp.set(ip, entry);
  };
  for (const e of ascending) {
    if (e.kind === 'ip_changed' && typeof e.detail.old_ip === 'string') {
      seen(e.detail.old_ip, e.tsMs, true);
      seen(e.detail.new_ip, e.tsMs);
    } else if (e.kind !== 'device_gone') {
      seen(e.ip, e.tsMs);
    }
  }
  // device.ips: the current address first, then up to three earlier ones
  for (const ip of device.ips) {
    const entry = byIp.get(ip) ?? { ip, first_seen: null, last_seen: null, current: false };
    if (ip === device.ip) {
      entry.current = true;
      entry.last_seen = Date.parse(device.last_seen);
    }
    byIp.set(ip, entry);
  }
  return [...byIp.values()].sort((a, b) => Number(b.current) - Number(a.current) || (b.last_seen ?? 0) - (a.last_seen ?? 0));
}
