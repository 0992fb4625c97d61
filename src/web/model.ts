// The page's copy of the inventory, kept current by the stream, and the table's view of it:
// search, filters and sorting over up to tens of thousands of devices. No DOM here.
import type { Device } from './types.js';

export interface Row {
  key: string;
  d: Device;
  firstMs: number;
  lastMs: number;
  /** the current IPv4 address as a number, for sorting (-1: none) */
  ipNum: number;
  /** everything search looks at, lower-case */
  haystack: string;
}

export interface Filter {
  text: string;
  present: boolean;
  unknown: boolean;
  newToday: boolean;
  /** '' = every interface */
  iface: string;
}

export const SORT_KEYS = ['name', 'kind', 'os', 'vendor', 'ip', 'mac', 'interface', 'present', 'first', 'last', 'known'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export interface Sort {
  key: SortKey;
  dir: 1 | -1;
}

export const deviceKey = (iface: string, mac: string): string => `${iface}|${mac}`;

export function ipNumber(ip: string | null): number {
  if (!ip) return -1;
  const p = ip.split('.');
  if (p.length !== 4) return -1;
  return ((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]);
}

/** What the page calls the device's kind: the identified kind, else the class given in known_devices. */
export const kindOf = (d: Device): string => d.kind || d.class || '';

function rowOf(d: Device): Row {
  return {
    key: deviceKey(d.interface, d.mac),
    d,
    firstMs: Date.parse(d.first_seen),
    lastMs: Date.parse(d.last_seen),
    ipNum: ipNumber(d.ip),
    haystack: [d.name ?? '', kindOf(d), d.os ?? '', d.vendor, d.mac, d.interface, ...d.ips].join('\n').toLowerCase(),
  };
}

/** The text a column sorts by; empty texts sort last in either direction (a sort by name shows named devices first). */
const TEXT: Partial<Record<SortKey, (r: Row) => string>> = {
  name: (r) => r.d.name ?? '',
  kind: (r) => kindOf(r.d),
  os: (r) => r.d.os ?? '',
  vendor: (r) => r.d.vendor,
  interface: (r) => r.d.interface,
};
const COMPARE: Record<SortKey, (a: Row, b: Row) => number> = {
  name: byText('name'),
  kind: byText('kind'),
  os: byText('os'),
  vendor: byText('vendor'),
  ip: (a, b) => a.ipNum - b.ipNum,
  mac: (a, b) => (a.d.mac < b.d.mac ? -1 : a.d.mac > b.d.mac ? 1 : 0),
  interface: byText('interface'),
  present: (a, b) => Number(b.d.present) - Number(a.d.present),
  first: (a, b) => a.firstMs - b.firstMs,
  last: (a, b) => a.lastMs - b.lastMs,
  known: (a, b) => Number(b.d.known) - Number(a.d.known),
};

function byText(key: SortKey): (a: Row, b: Row) => number {
  const text = TEXT[key]!;
  return (a, b) => {
    const x = text(a);
    const y = text(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

export class DeviceModel {
  private readonly rows = new Map<string, Row>();
  /** Bumped on every change, so views recompute only when needed. */
  version = 0;

  get size(): number {
    return this.rows.size;
  }

  get(key: string): Row | undefined {
    return this.rows.get(key);
  }

  clear(): void {
    this.rows.clear();
    this.version++;
  }

  upsert(devices: readonly Device[]): void {
    for (const d of devices) {
      const row = rowOf(d);
      this.rows.set(row.key, row);
    }
    this.version++;
  }

  remove(devices: readonly { interface: string; mac: string }[]): void {
    for (const d of devices) this.rows.delete(deviceKey(d.interface, d.mac));
    this.version++;
  }

  /** Only the last-seen time (and round-trip time) of these devices changed. */
  seen(iface: string, seen: readonly [string, number, number | null][]): void {
    for (const [mac, lastMs, rtt] of seen) {
      const row = this.rows.get(deviceKey(iface, mac));
      if (!row) continue;
      row.lastMs = lastMs;
      row.d = { ...row.d, last_seen: new Date(lastMs).toISOString(), rtt_ms: rtt };
    }
    this.version++;
  }

  interfaces(): string[] {
    const names = new Set<string>();
    for (const r of this.rows.values()) names.add(r.d.interface);
    return [...names].sort();
  }

  counts(): { total: number; present: number; unknown: number } {
    let present = 0;
    let unknown = 0;
    for (const r of this.rows.values()) {
      if (r.d.present) present++;
      if (!r.d.known) unknown++;
    }
    return { total: this.rows.size, present, unknown };
  }

  /** The rows the table shows, in order. `startOfTodayMs`: local midnight, for "new today". */
  query(f: Filter, sort: Sort, startOfTodayMs: number): Row[] {
    const terms = f.text.toLowerCase().split(/\s+/).filter(Boolean);
    const out: Row[] = [];
    for (const r of this.rows.values()) {
      if (f.present && !r.d.present) continue;
      if (f.unknown && r.d.known) continue;
      if (f.newToday && r.firstMs < startOfTodayMs) continue;
      if (f.iface && r.d.interface !== f.iface) continue;
      if (terms.length && !terms.every((t) => r.haystack.includes(t))) continue;
      out.push(r);
    }
    const cmp = COMPARE[sort.key];
    const text = TEXT[sort.key];
    const empty = (r: Row) => (text && !text(r) ? 1 : 0);
    // ties: by address, then key, so the order is stable as rows change
    return out.sort((a, b) => empty(a) - empty(b) || cmp(a, b) * sort.dir || a.ipNum - b.ipNum || (a.key < b.key ? -1 : 1));
  }
}
