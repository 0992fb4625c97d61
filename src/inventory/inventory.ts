import type { KnownDeviceConfig } from '../config/schema.js';
import type { StoredDevice, StoredEvent } from '../store/store.js';
import { vendorOf } from '../arp/vendor.js';
import { isRandomizedMac } from '../net/mac.js';

export const EVENT_KINDS = ['new_device', 'device_gone', 'device_back', 'ip_changed', 'ip_conflict', 'gateway_mac_changed'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
export type DeviceEvent = StoredEvent & { kind: EventKind };

export interface InventoryOptions {
  absentAfterMs: number;
  sleepyAbsentAfterMs: number;
  retentionMs: number;
  maxDevices: number;
  known: ReadonlyMap<string, KnownDeviceConfig>;
  gatewayIp: string | null;
}

export type Device = StoredDevice;

/**
 * Change counters per kind of device field, so /metrics re-renders only what changed:
 * passive ARP moves last-seen times all the time, the rest changes rarely.
 */
export interface InventoryVersions {
  presence: number;
  info: number;
  firstSeen: number;
  lastSeen: number;
  rtt: number;
}

const MAX_IPS_PER_DEVICE = 4;

/**
 * Devices of one interface keyed by MAC, and the events their changes raise.
 * Pure bookkeeping: time comes in as arguments, nothing here touches the network or disk.
 */
export class Inventory {
  readonly devices = new Map<string, Device>();
  private readonly ipOwner = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private readonly removed = new Set<string>();
  private conflictIps = new Set<string>();
  private gatewayAlertedMac: string | null = null;
  gatewayMac: string | null;
  overflow = 0;
  readonly versions: InventoryVersions = { presence: 0, info: 0, firstSeen: 0, lastSeen: 0, rtt: 0 };

  private bumpAll(): void {
    for (const k of Object.keys(this.versions) as (keyof InventoryVersions)[]) this.versions[k]++;
  }

  constructor(
    readonly iface: string,
    private opts: InventoryOptions,
    restored: StoredDevice[] = [],
    gatewayMac: string | null = null,
  ) {
    for (const d of restored) {
      this.devices.set(d.mac, { ...d });
      if (d.ips[0]) this.ipOwner.set(d.ips[0], d.mac);
    }
    this.gatewayMac = gatewayMac;
  }

  setOptions(opts: InventoryOptions): void {
    if (opts.gatewayIp !== this.opts.gatewayIp) this.gatewayMac = null;
    this.opts = opts;
  }

  get gatewayIp(): string | null {
    return this.opts.gatewayIp;
  }

  /** At max_devices: a new MAC would need an eviction (or be refused and counted). */
  get full(): boolean {
    return this.devices.size >= this.opts.maxDevices;
  }

  known(mac: string): KnownDeviceConfig | undefined {
    return this.opts.known.get(mac);
  }

  absentAfter(mac: string): number {
    const k = this.opts.known.get(mac);
    return k?.absent_after ?? (k?.can_sleep ? this.opts.sleepyAbsentAfterMs : this.opts.absentAfterMs);
  }

  private event(tsMs: number, kind: EventKind, mac: string | null, ip: string | null, detail: Record<string, unknown> = {}): DeviceEvent {
    return { tsMs, interface: this.iface, kind, mac, ip, detail };
  }

  /**
   * Makes room for a new MAC; known devices and present devices are never evicted. A known
   * device is always admitted (the list is bounded by the config), so a flood of random MACs
   * cannot hide the devices the user cares about; the cap bounds the unknown ones.
   */
  private admit(mac: string): boolean {
    if (!this.full || this.opts.known.has(mac)) return true;
    let oldest: Device | null = null;
    for (const d of this.devices.values()) {
      if (d.present || this.opts.known.has(d.mac)) continue;
      if (!oldest || d.lastSeenMs < oldest.lastSeenMs) oldest = d;
    }
    if (!oldest) {
      this.overflow++;
      return false;
    }
    this.forget(oldest.mac);
    return !this.full || this.admit(mac);
  }

  private forget(mac: string): void {
    const d = this.devices.get(mac);
    if (!d) return;
    this.devices.delete(mac);
    if (d.ips[0] && this.ipOwner.get(d.ips[0]) === mac) this.ipOwner.delete(d.ips[0]);
    this.dirty.delete(mac);
    this.removed.add(mac);
    this.bumpAll();
  }

  /** A MAC answered a sweep or was heard on the wire with `ip`. */
  observe(mac: string, ip: string, tsMs: number, rttMs: number | null): DeviceEvent[] {
    const events: DeviceEvent[] = [];
    const hasIp = ip !== '0.0.0.0';
    let d = this.devices.get(mac);
    if (!d) {
      if (!this.admit(mac)) return events;
      d = {
        interface: this.iface,
        mac,
        ips: hasIp ? [ip] : [],
        vendor: vendorOf(mac),
        randomized: isRandomizedMac(mac),
        firstSeenMs: tsMs,
        lastSeenMs: tsMs,
        lastRttMs: rttMs,
        present: true,
        absentSinceMs: null,
      };
      this.devices.set(mac, d);
      this.removed.delete(mac);
      this.bumpAll();
      events.push(this.event(tsMs, 'new_device', mac, hasIp ? ip : null, { vendor: d.vendor, randomized: d.randomized }));
    } else {
      if (!d.present) {
        events.push(this.event(tsMs, 'device_back', mac, hasIp ? ip : d.ips[0] ?? null, { absent_seconds: Math.round((tsMs - (d.absentSinceMs ?? tsMs)) / 1000) }));
        d.present = true;
        d.absentSinceMs = null;
        this.versions.presence++;
      }
      if (hasIp && d.ips[0] !== ip) {
        if (d.ips[0]) events.push(this.event(tsMs, 'ip_changed', mac, ip, { old_ip: d.ips[0], new_ip: ip }));
        d.ips = [ip, ...d.ips.filter((x) => x !== ip)].slice(0, MAX_IPS_PER_DEVICE);
        this.versions.info++;
      }
      d.lastSeenMs = Math.max(d.lastSeenMs, tsMs);
      this.versions.lastSeen++;
      if (rttMs !== null && rttMs !== d.lastRttMs) {
        d.lastRttMs = rttMs;
        this.versions.rtt++;
      }
    }
    this.dirty.add(mac);
    return events;
  }

  /** Presence and events from one completed sweep (`answers`: every ip→MACs pair that replied). */
  applySweep(answers: { ip: string; mac: string; rttMs: number | null }[], tsMs: number): DeviceEvent[] {
    const events: DeviceEvent[] = [];
    const macsByIp = new Map<string, string[]>();
    for (const a of answers) {
      const macs = macsByIp.get(a.ip) ?? [];
      macs.push(a.mac);
      macsByIp.set(a.ip, macs);
    }
    const changedMacs = new Set<string>();
    for (const a of answers) {
      for (const e of this.observe(a.mac, a.ip, tsMs, a.rttMs)) {
        if (e.kind === 'ip_changed') changedMacs.add(a.mac);
        events.push(e);
      }
    }
    const conflicts = new Set<string>();
    for (const [ip, macs] of macsByIp) {
      if (macs.length > 1) {
        conflicts.add(ip);
        if (!this.conflictIps.has(ip)) events.push(this.event(tsMs, 'ip_conflict', macs[0], ip, { macs: [...macs].sort() }));
        continue;
      }
      const mac = macs[0];
      const owner = this.ipOwner.get(ip);
      if (owner && owner !== mac && !changedMacs.has(mac)) {
        events.push(this.event(tsMs, 'ip_changed', mac, ip, { old_mac: owner, new_mac: mac }));
      }
      this.ipOwner.set(ip, mac);
    }
    this.conflictIps = conflicts;
    const gw = this.opts.gatewayIp;
    if (gw && macsByIp.has(gw)) events.push(...this.checkGateway(macsByIp.get(gw)!, tsMs, true));
    return events;
  }

  /** Passive ARP: refreshes presence and watches the gateway's address between sweeps. */
  observePassive(mac: string, ip: string, tsMs: number): DeviceEvent[] {
    const events = this.observe(mac, ip, tsMs, null);
    if (ip === this.opts.gatewayIp) events.push(...this.checkGateway([mac], tsMs, false));
    return events;
  }

  private checkGateway(macs: string[], tsMs: number, fromSweep: boolean): DeviceEvent[] {
    const gw = this.opts.gatewayIp!;
    if (this.gatewayMac === null) {
      this.gatewayMac = macs[0];
      return [];
    }
    const stranger = macs.find((m) => m !== this.gatewayMac);
    if (!stranger) {
      // Only a sweep that hears the gateway alone closes the incident.
      if (fromSweep) this.gatewayAlertedMac = null;
      return [];
    }
    const events: DeviceEvent[] = [];
    // One incident per sweep: a flood of forged gateway claims between sweeps raises one event.
    if (this.gatewayAlertedMac === null || (fromSweep && this.gatewayAlertedMac !== stranger)) {
      events.push(this.event(tsMs, 'gateway_mac_changed', stranger, gw, { old_mac: this.gatewayMac, new_mac: stranger }));
      this.gatewayAlertedMac = stranger;
    }
    // The gateway really moved when a sweep hears only the new MAC; otherwise keep watching the old one.
    if (fromSweep && !macs.includes(this.gatewayMac)) {
      this.gatewayMac = stranger;
      this.gatewayAlertedMac = null;
    }
    return events;
  }

  /** Present devices silent for longer than their absent_after: re-probe them before calling them gone. */
  absentCandidates(nowMs: number): Device[] {
    return [...this.devices.values()].filter((d) => d.present && nowMs - d.lastSeenMs > this.absentAfter(d.mac));
  }

  markGone(macs: Iterable<string>, nowMs: number): DeviceEvent[] {
    const events: DeviceEvent[] = [];
    for (const mac of macs) {
      const d = this.devices.get(mac);
      if (!d || !d.present) continue;
      d.present = false;
      d.absentSinceMs = nowMs;
      this.dirty.add(mac);
      this.versions.presence++;
      events.push(this.event(nowMs, 'device_gone', mac, d.ips[0] ?? null, { last_seen: new Date(d.lastSeenMs).toISOString() }));
    }
    return events;
  }

  /** Drops absent devices past the retention; known devices stay listed. */
  expire(nowMs: number): string[] {
    const dropped: string[] = [];
    for (const d of this.devices.values()) {
      if (!d.present && !this.opts.known.has(d.mac) && nowMs - d.lastSeenMs > this.opts.retentionMs) dropped.push(d.mac);
    }
    for (const mac of dropped) this.forget(mac);
    return dropped;
  }

  conflictCount(): number {
    return this.conflictIps.size;
  }

  /** Changes since the last call, for the store (which keeps them queued until a write succeeds). */
  takeChanges(): { devices: Device[]; removed: string[] } {
    const devices = [...this.dirty].map((mac) => this.devices.get(mac)).filter((d): d is Device => d !== undefined).map((d) => ({ ...d }));
    const removed = [...this.removed];
    this.dirty.clear();
    this.removed.clear();
    return { devices, removed };
  }
}
