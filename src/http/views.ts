// What the HTTP endpoints show (/api/devices, /api/events, /sd, the live page), built from the
// monitor's read-only state.
import type { KnownDeviceConfig } from '../config/schema.js';
import type { Device } from '../inventory/inventory.js';
import type { MonitorReadout, SegmentReadout } from '../monitor/readout.js';
import { ipv4ToInt } from '../net/ipv4.js';
import type { StoredEvent } from '../store/store.js';

export interface DeviceView {
  interface: string;
  mac: string;
  ip: string | null;
  ips: string[];
  vendor: string;
  name: string | null;
  class: string | null;
  known: boolean;
  critical: boolean;
  randomized: boolean;
  present: boolean;
  first_seen: string;
  last_seen: string;
  rtt_ms: number | null;
}

export interface InterfaceView {
  name: string;
  up: boolean;
  /** End of the last successful sweep (epoch ms). */
  lastSuccessMs: number | null;
  lastError: string | null;
}

export interface EventView {
  ts: string;
  interface: string;
  kind: string;
  mac: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

/** Devices of every interface, by interface, then IP (devices without one first), then MAC. */
export function deviceViews(monitor: Pick<MonitorReadout, 'segments' | 'known'>): DeviceView[] {
  const known = monitor.known();
  const out: DeviceView[] = [];
  for (const segment of monitor.segments()) {
    for (const d of segment.inventory.devices.values()) out.push(deviceView(segment.name, d, known));
  }
  const ipOrder = (ip: string | null) => (ip ? ipv4ToInt(ip) : 0);
  return out.sort((a, b) => a.interface.localeCompare(b.interface) || ipOrder(a.ip) - ipOrder(b.ip) || a.mac.localeCompare(b.mac));
}

/** One device of interface `iface`; null when the inventory does not hold it (any more). */
export function findDeviceView(monitor: Pick<MonitorReadout, 'segments' | 'known'>, iface: string, mac: string): DeviceView | null {
  const d = monitor.segments().find((s) => s.name === iface)?.inventory.devices.get(mac);
  return d ? deviceView(iface, d, monitor.known()) : null;
}

export function deviceView(iface: string, d: Readonly<Device>, known: ReadonlyMap<string, KnownDeviceConfig>): DeviceView {
  const k = known.get(d.mac);
  return {
    interface: iface,
    mac: d.mac,
    ip: d.ips[0] ?? null,
    ips: [...d.ips],
    vendor: d.vendor,
    name: k?.name ?? null,
    class: k?.class || null,
    known: !!k,
    critical: k?.critical ?? false,
    randomized: d.randomized,
    present: d.present,
    first_seen: new Date(d.firstSeenMs).toISOString(),
    last_seen: new Date(d.lastSeenMs).toISOString(),
    rtt_ms: d.lastRttMs,
  };
}

export function interfaceViews(segments: readonly SegmentReadout[]): InterfaceView[] {
  return segments.map((s) => ({ name: s.name, up: s.stats.up, lastSuccessMs: s.stats.lastSuccessMs, lastError: s.stats.lastError }));
}

export function eventViews(events: readonly StoredEvent[]): EventView[] {
  return events.map(({ tsMs, ...e }) => ({ ts: new Date(tsMs).toISOString(), ...e }));
}
