import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { SweepRecord } from '../anomaly/types.js';
import type { ArpPacket } from '../arp/codec.js';
import { ArpChannel } from '../capture/arp-channel.js';
import { CaptureError, openPacketSource } from '../capture/packet-source.js';
import { knownDevicesByMac } from '../config/load.js';
import type { Config, InterfaceConfig } from '../config/schema.js';
import { EVENT_KINDS, Inventory, type DeviceEvent, type EventKind, type InventoryOptions } from '../inventory/inventory.js';
import type { Logger } from '../log.js';
import { ipv4ToInt } from '../net/ipv4.js';
import { defaultGateway, describeInterface, type InterfaceInfo } from '../net/interfaces.js';
import { parseTarget, type TargetRange } from '../net/targets.js';
import type { StoredDevice } from '../store/store.js';
import type { LiveFeed } from './live-feed.js';
import { EventLimiter } from './event-limiter.js';
import type { Persister } from './persister.js';
import type { CaptureTotals, SegmentReadout } from './readout.js';
import { REQUESTED_SWEEP_GAP_MS, Scheduler, type RunRequest } from './scheduler.js';
import { runSweepCycle, type SweepCycleResult } from './sweep-cycle.js';
import { SweepStats } from './sweep-stats.js';

const tracer = trace.getTracer('ghost-hunter');

/**
 * One monitored interface (a network segment): its capture session and passive listening, the
 * sweep schedule, the inventory and the counters. Each scheduled sweep runs the sweep cycle
 * (sweep-cycle.ts), then counts, persists, traces and logs what it found.
 */
export class SegmentMonitor implements SegmentReadout {
  readonly inventory: Inventory;
  readonly stats = new SweepStats();
  readonly events = new Map<EventKind, number>(EVENT_KINDS.map((k) => [k, 0]));
  /** Every event is counted above; what is logged and stored is rate-limited per device and kind. */
  private readonly limiter = new EventLimiter();
  /** Counters of closed capture sessions, so totals survive a re-open. */
  private closedCapture = { frames: 0, dropped: 0, bogus: new Map<string, number>() };
  private channel: ArpChannel | null = null;
  private info: InterfaceInfo | null = null;
  private readonly scheduler: Scheduler;
  private flushTimer: NodeJS.Timeout | null = null;
  /** Called with each completed sweep (the anomaly model's input). */
  onSweep: ((record: SweepRecord) => void) | null = null;
  /** Where changes are published as they happen (the live page). */
  live: LiveFeed | null = null;
  /** Host ranges of the swept subnets; derived from config and interface, reset when either changes. */
  private subnets: TargetRange[] | null = null;
  /** Aborted by stop(): a /16 at the polite default rate sweeps for minutes, shutdown must not wait. */
  private readonly stopping = new AbortController();

  constructor(
    private ifaceCfg: InterfaceConfig,
    private cfg: Config,
    private readonly persister: Persister,
    private readonly log: Logger,
    restored: StoredDevice[],
    gatewayMac: string | null,
  ) {
    this.inventory = new Inventory(ifaceCfg.name, this.inventoryOptions(), restored, gatewayMac);
    this.scheduler = new Scheduler(() => this.sweepOnce(), cfg.scan.interval, cfg.scan.jitter);
  }

  get name(): string {
    return this.ifaceCfg.name;
  }

  /** Events counted but not logged or stored one by one (see EventLimiter), by kind. */
  get eventsSuppressed(): ReadonlyMap<string, number> {
    return this.limiter.suppressed;
  }

  private inventoryOptions(): InventoryOptions {
    const p = this.cfg.presence;
    const gw = this.ifaceCfg.gateway;
    return {
      absentAfterMs: p.absent_after,
      sleepyAbsentAfterMs: p.sleepy_absent_after,
      retentionMs: p.retention,
      maxDevices: p.max_devices,
      known: knownDevicesByMac(this.cfg),
      gatewayIp: gw === 'none' ? null : gw === 'auto' ? defaultGateway(this.ifaceCfg.name) : gw,
    };
  }

  /** Opens the capture session; throws CaptureError (e.g. missing CAP_NET_RAW) to the caller. */
  open(): void {
    if (this.channel) return;
    this.setInfo(describeInterface(this.ifaceCfg.name));
    this.channel = new ArpChannel(openPacketSource(this.ifaceCfg.name));
    this.channel.onArp((p, tsMs) => this.observeArp(p, tsMs));
  }

  /** Passive listening: what the capture session hears between (and during) sweeps. Public for fuzzing. */
  observeArp(p: ArpPacket, tsMs: number): void {
    if (!this.cfg.scan.passive || p.senderMac === this.info?.mac) return;
    // Replies to our own requests are the sweep's business.
    if (this.stats.running && p.op === 'reply' && p.targetMac === this.info?.mac) return;
    if (p.senderIp === '0.0.0.0' || !this.inSubnet(p.senderIp)) return;
    this.record(this.inventory.observePassive(p.senderMac, p.senderIp, Math.min(tsMs, Date.now())));
  }

  /** Host addresses of the swept subnets only: a sender claiming the network or broadcast address is no device. */
  private inSubnet(ip: string): boolean {
    const n = ipv4ToInt(ip);
    this.subnets ??= (this.ifaceCfg.cidrs ?? this.info?.addresses.map((a) => a.cidr) ?? []).map(parseTarget);
    return this.subnets.some((r) => n >= r.first && n <= r.last);
  }

  private setInfo(info: InterfaceInfo): void {
    this.info = info;
    this.subnets = null;
  }

  private closeChannel(): void {
    if (!this.channel) return;
    const c = this.channel;
    this.closedCapture = this.captureWith(c);
    this.channel = null;
    try {
      c.close();
    } catch {
      // closing a session on a vanished interface can fail; it is released either way
    }
  }

  capture(): CaptureTotals {
    return this.channel ? this.captureWith(this.channel) : { ...this.closedCapture, bogus: new Map(this.closedCapture.bogus) };
  }

  /** The closed sessions' totals plus those of `c`. */
  private captureWith(c: ArpChannel): { frames: number; dropped: number; bogus: Map<string, number> } {
    const bogus = new Map(this.closedCapture.bogus);
    for (const [reason, n] of c.bogus) bogus.set(reason, (bogus.get(reason) ?? 0) + n);
    let dropped = this.closedCapture.dropped;
    try {
      dropped += c.stats().dropped;
    } catch {
      // stats fail while the interface is down or gone
    }
    return { frames: this.closedCapture.frames + c.framesReceived, dropped, bogus };
  }

  /** Feeds frames through the production decode path (fuzzing and tests). */
  get arpChannel(): ArpChannel | null {
    return this.channel;
  }

  start(): void {
    this.scheduler.start();
    this.flushTimer = setInterval(() => this.persistPassive(), 10_000);
    this.flushTimer.unref();
  }

  requestSweep(): RunRequest {
    return this.scheduler.request(REQUESTED_SWEEP_GAP_MS);
  }

  reconfigure(ifaceCfg: InterfaceConfig, cfg: Config): void {
    this.ifaceCfg = ifaceCfg;
    this.cfg = cfg;
    this.subnets = null;
    this.inventory.setOptions(this.inventoryOptions());
    this.scheduler.setInterval(cfg.scan.interval, cfg.scan.jitter);
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('shutting down'));
    await this.scheduler.stop();
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.logAndQueue(this.limiter.drain());
    this.persistPassive();
    this.closeChannel();
  }

  /**
   * Where every event is recorded: each is counted, and logged and queued for the store within
   * the per-device, per-kind limits (a flood of one device's events becomes a summary).
   */
  private record(events: DeviceEvent[]): void {
    for (const e of events) this.events.set(e.kind, (this.events.get(e.kind) ?? 0) + 1);
    this.logAndQueue(this.limiter.admit(events, Date.now()));
  }

  private logAndQueue(events: DeviceEvent[]): void {
    for (const e of events) this.log.info('event', { event: e.kind, interface: e.interface, mac: e.mac ?? undefined, ip: e.ip ?? undefined, ...e.detail });
    if (events.length) {
      this.persister.enqueue({ events });
      this.live?.publish({ type: 'events', interface: this.name, events });
    }
  }

  /** What passive listening changed since the last write, and the summaries of event floods that have ended. */
  private persistPassive(): void {
    this.logAndQueue(this.limiter.due(Date.now()));
    this.persister.enqueue(this.inventoryChanges());
    this.persister.flush();
  }

  private inventoryChanges(): { devices: StoredDevice[]; removed: { interface: string; mac: string }[] } {
    const changes = this.inventory.takeChanges();
    if (changes.devices.length || changes.removed.length) {
      this.live?.publish({ type: 'devices', interface: this.name, changed: changes.devices.map((d) => d.mac), removed: changes.removed });
    }
    return { devices: changes.devices, removed: changes.removed.map((mac) => ({ interface: this.name, mac })) };
  }

  /** One scheduled run: the sweep cycle, then its counters, store write, span attributes and log line. */
  private sweepOnce(): Promise<void> {
    return tracer.startActiveSpan('ghosthunter.sweep', { root: true, attributes: { 'ghosthunter.interface': this.name } }, async (span) => {
      const started = performance.now();
      this.stats.started(Date.now());
      try {
        const result = await this.sweepCycle();
        const durationMs = performance.now() - started;
        if (this.stats.succeeded(result.totals, durationMs, Date.now(), this.cfg.scan.interval)) {
          this.log.warn('sweep took longer than the interval', { interface: this.name, duration_seconds: durationMs / 1000 });
        }
        const record: SweepRecord = { tsSeconds: Math.floor(result.appliedMs / 1000), devices: result.answers.map((a) => ({ mac: a.mac, ip: a.ip })) };
        this.persistSweep(result, record, durationMs);
        span.setAttributes(this.spanAttributes(result));
        this.log.debug('sweep finished', { interface: this.name, duration_seconds: (durationMs / 1000).toFixed(3), ...result.totals, events: result.admitted.length + result.events.length });
        this.onSweep?.(record);
      } catch (err) {
        this.sweepFailed(err as Error, span);
      } finally {
        this.stats.ended();
        span.end();
      }
    });
  }

  private async sweepCycle(): Promise<SweepCycleResult> {
    const info = describeInterface(this.name);
    const own = info.addresses[0]?.address;
    if (!own) throw new Error(`interface "${this.name}" has no IPv4 address`);
    this.setInfo(info);
    if (!this.channel) this.open();
    return runSweepCycle({
      channel: this.channel!,
      info,
      own,
      specs: this.ifaceCfg.cidrs?.length ? this.ifaceCfg.cidrs : info.addresses.map((a) => a.cidr),
      scan: this.cfg.scan,
      exclude: this.ifaceCfg.exclude,
      reprobe: this.cfg.presence.reprobe,
      inventory: this.inventory,
      signal: this.stopping.signal,
      record: (events) => this.record(events),
    });
  }

  /** The inventory's changes, the sweep (history for the anomaly model) and the gateway, in one write. */
  private persistSweep(result: SweepCycleResult, record: SweepRecord, durationMs: number): void {
    const inv = this.inventory;
    let present = 0;
    for (const d of inv.devices.values()) if (d.present) present++;
    this.persister.enqueue({
      ...this.inventoryChanges(),
      sweeps: [{ interface: this.name, tsMs: result.appliedMs, durationMs, ok: true, devices: record.devices, present }],
      gateways: inv.gatewayIp && inv.gatewayMac ? [{ interface: this.name, ip: inv.gatewayIp, mac: inv.gatewayMac }] : [],
    });
    this.persister.flush();
    this.live?.publish({ type: 'sweep', interface: this.name, tsMs: result.appliedMs, present });
  }

  private spanAttributes(result: SweepCycleResult): Record<string, number> {
    const heardSince = result.appliedMs - this.cfg.scan.interval;
    let present = 0;
    for (const d of this.inventory.devices.values()) if (d.present && d.lastSeenMs >= heardSince) present++;
    const count = (kind: EventKind) => result.events.filter((e) => e.kind === kind).length;
    return {
      'ghosthunter.addresses_probed': result.totals.addresses,
      'ghosthunter.requests_sent': result.totals.requests,
      'ghosthunter.replies': result.totals.replies,
      'ghosthunter.devices_present': present,
      'ghosthunter.new_devices': result.admitted.length + count('new_device'),
      'ghosthunter.gone_devices': count('device_gone'),
    };
  }

  private sweepFailed(err: Error, span: Span): void {
    if (this.stopping.signal.aborted) {
      this.log.info('sweep interrupted by shutdown', { interface: this.name });
      span.setAttribute('ghosthunter.interrupted', true);
      return;
    }
    this.stats.failed(err.message);
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    this.log.error('sweep failed', { interface: this.name, err: err.message });
    // A vanished or downed interface leaves a dead capture session: open a fresh one next time.
    if (!(err instanceof CaptureError && err.kind === 'permission')) this.closeChannel();
  }
}
