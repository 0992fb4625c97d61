import type { KnownDeviceConfig } from '../config/schema.js';
import type { Device, InventoryVersions } from '../inventory/inventory.js';
import type { TextFamilies } from '../metrics/registry.js';
import type { InventoryReadout, MonitorReadout, SegmentReadout } from '../monitor/readout.js';

/** What the renderer reads: each interface's name and inventory, and the known devices. */
export interface DeviceFamiliesSource {
  segments(): readonly Pick<SegmentReadout, 'name' | 'inventory'>[];
  known: MonitorReadout['known'];
}

// The five per-device families are rendered straight to exposition text (TextFamilies) and
// cached per interface and family until that part of the inventory changes: through
// prom-client, 10 000 devices (50 000 series) cost ~400 ms and ~50 000 short-lived objects per
// scrape. Passive ARP keeps moving last-seen times, so usually only that family is re-rendered.

type VersionKey = keyof InventoryVersions;
type Family = {
  name: string;
  help: string;
  version: VersionKey;
  line: (prefix: string, d: Readonly<Device>, k: KnownDeviceConfig | undefined) => string | null;
};

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export const DEVICE_FAMILIES: readonly Family[] = [
  {
    name: 'ghosthunter_device_present',
    help: '1 if the device is present, 0 if it is absent (kept until the retention expires).',
    version: 'presence',
    line: (p, d) => `ghosthunter_device_present{${p}} ${d.present ? 1 : 0}`,
  },
  {
    name: 'ghosthunter_device_info',
    help: 'Always 1: the current IPv4 address, vendor and configured name of each device, joined on (interface, mac).',
    version: 'info',
    line: (p, d, k) =>
      `ghosthunter_device_info{${p},ip="${d.ips[0] ?? ''}",vendor="${escape(d.vendor)}",name="${escape(k?.name ?? '')}",class="${escape(k?.class ?? '')}",` +
      `known="${k ? 'true' : 'false'}",critical="${k?.critical ? 'true' : 'false'}",randomized="${d.randomized ? 'true' : 'false'}"} 1`,
  },
  {
    name: 'ghosthunter_device_first_seen_timestamp_seconds',
    help: 'When the device was first seen (Unix time).',
    version: 'firstSeen',
    line: (p, d) => `ghosthunter_device_first_seen_timestamp_seconds{${p}} ${d.firstSeenMs / 1000}`,
  },
  {
    name: 'ghosthunter_device_last_seen_timestamp_seconds',
    help: 'When the device last answered or was heard (Unix time).',
    version: 'lastSeen',
    line: (p, d) => `ghosthunter_device_last_seen_timestamp_seconds{${p}} ${d.lastSeenMs / 1000}`,
  },
  {
    name: 'ghosthunter_device_rtt_seconds',
    help: "ARP round-trip time of the device's last reply to a sweep.",
    version: 'rtt',
    line: (p, d) => (d.lastRttMs === null ? null : `ghosthunter_device_rtt_seconds{${p}} ${d.lastRttMs / 1000}`),
  },
];

interface Cached {
  version: number;
  known: ReadonlyMap<string, KnownDeviceConfig>;
  text: Buffer;
}

export class DeviceFamiliesRenderer implements TextFamilies {
  private readonly cache = new Map<string, Cached>(); // by `${interface}\0${family}`
  private readonly headers = DEVICE_FAMILIES.map((f) => Buffer.from(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} gauge\n`));
  private readonly separator = Buffer.from('\n');

  constructor(private readonly monitor: DeviceFamiliesSource) {}

  private family(i: number, name: string, inventory: InventoryReadout, known: ReadonlyMap<string, KnownDeviceConfig>): Buffer {
    const f = DEVICE_FAMILIES[i];
    const key = `${name}\0${f.name}`;
    const version = inventory.versions[f.version];
    const hit = this.cache.get(key);
    if (hit && hit.version === version && hit.known === known) return hit.text;
    const iface = escape(name);
    let text = '';
    for (const d of inventory.devices.values()) {
      const line = f.line(`interface="${iface}",mac="${d.mac}"`, d, known.get(d.mac));
      if (line !== null) text += line + '\n';
    }
    const buf = Buffer.from(text);
    this.cache.set(key, { version, known, text: buf });
    return buf;
  }

  /** The five families in exposition format (each after its HELP/TYPE), as the cached buffers. */
  render(): Buffer[] {
    const known = this.monitor.known();
    const segments = this.monitor.segments();
    const parts: Buffer[] = [];
    DEVICE_FAMILIES.forEach((_, i) => {
      if (i > 0) parts.push(this.separator);
      parts.push(this.headers[i]);
      for (const s of segments) parts.push(this.family(i, s.name, s.inventory, known));
    });
    const names = new Set(segments.map((s) => s.name));
    for (const key of this.cache.keys()) if (!names.has(key.split('\0')[0])) this.cache.delete(key);
    return parts;
  }
}
