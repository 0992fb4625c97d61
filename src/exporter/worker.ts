import { context, trace, SpanStatusCode } from '@opentelemetry/api';
import type { ArpPacket } from '../arp/codec.js';
import { ipv4ToInt } from '../net/ipv4.js';
import { ArpChannel } from '../capture/arp-channel.js';
import { CaptureError, openPacketSource } from '../capture/packet-source.js';
import type { Config, InterfaceConfig } from '../config/schema.js';
import { EVENT_KINDS, Inventory, type DeviceEvent, type EventKind, type InventoryOptions } from '../inventory/inventory.js';
import type { Logger } from '../log.js';
import { defaultGateway, describeInterface, type InterfaceInfo } from '../net/interfaces.js';
import { expandTargets, parseTarget, type TargetRange } from '../net/targets.js';
import type { StoredDevice } from '../store/store.js';
import { sweep, type DeviceReply, type SweepResult } from '../sweep/sweeper.js';
import { Scheduler } from './scheduler.js';
import type { Persister } from './persister.js';

const tracer = trace.getTracer('ghost-hunter');

export interface SweepRecord {
  ts: number; // unix seconds
  devices: { mac: string; ip: string }[];
}

export interface WorkerStats {
  sweeps: number;
  errors: number;
  slow: number;
  up: boolean;
  /** A sweep of the interface is in progress. */
  running: boolean;
  lastStartTs: number | null; // epoch ms, start of the latest sweep
  lastDurationSeconds: number;
  lastAddresses: number;
  lastSuccessTs: number | null; // epoch ms
  requestsSent: number;
  replies: number;
  lastError: string | null;
}

function knownMap(cfg: Config) {
  return new Map(cfg.known_devices.map((k) => [k.mac, k]));
}

/** Everything about one swept interface: capture session, schedule, inventory and counters. */
export class InterfaceWorker {
  readonly inventory: Inventory;
  readonly stats: WorkerStats = {
    sweeps: 0,
    errors: 0,
    slow: 0,
    up: false,
    running: false,
    lastStartTs: null,
    lastDurationSeconds: 0,
    lastAddresses: 0,
    lastSuccessTs: null,
    requestsSent: 0,
    replies: 0,
    lastError: null,
  };
  readonly events = new Map<EventKind, number>(EVENT_KINDS.map((k) => [k, 0]));
  /** Counters of closed capture sessions, so totals survive a re-open. */
  private capturedBase = { frames: 0, dropped: 0, bogus: new Map<string, number>() };
  private channel: ArpChannel | null = null;
  private info: InterfaceInfo | null = null;
  private readonly scheduler: Scheduler;
  private flushTimer: NodeJS.Timeout | null = null;
  onSweep: ((record: SweepRecord) => void) | null = null;
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

  private inventoryOptions(): InventoryOptions {
    const p = this.cfg.presence;
    const gw = this.ifaceCfg.gateway;
    return {
      absentAfterMs: p.absent_after,
      sleepyAbsentAfterMs: p.sleepy_absent_after,
      retentionMs: p.retention,
      maxDevices: p.max_devices,
      known: knownMap(this.cfg),
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
    this.capturedBase.frames += c.framesReceived;
    try {
      this.capturedBase.dropped += c.stats().dropped;
    } catch {
      // the interface may be gone already
    }
    for (const [reason, n] of c.bogus) this.capturedBase.bogus.set(reason, (this.capturedBase.bogus.get(reason) ?? 0) + n);
    this.channel = null;
    try {
      c.close();
    } catch {
      // closing a session on a vanished interface can fail; it is released either way
    }
  }

  capture(): { frames: number; dropped: number; bogus: Map<string, number> } {
    const bogus = new Map(this.capturedBase.bogus);
    let frames = this.capturedBase.frames;
    let dropped = this.capturedBase.dropped;
    if (this.channel) {
      frames += this.channel.framesReceived;
      for (const [reason, n] of this.channel.bogus) bogus.set(reason, (bogus.get(reason) ?? 0) + n);
      try {
        dropped += this.channel.stats().dropped;
      } catch {
        // stats fail while the interface is down
      }
    }
    return { frames, dropped, bogus };
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

  triggerSweep(): Promise<void> {
    return this.scheduler.trigger();
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
    this.persistPassive();
    this.closeChannel();
  }

  private record(events: DeviceEvent[]): void {
    for (const e of events) {
      this.events.set(e.kind, (this.events.get(e.kind) ?? 0) + 1);
      this.log.info('event', { event: e.kind, interface: e.interface, mac: e.mac ?? undefined, ip: e.ip ?? undefined, ...e.detail });
    }
    if (events.length) this.persister.enqueue({ events });
  }

  private persistPassive(): void {
    const changes = this.inventory.takeChanges();
    this.persister.enqueue({ devices: changes.devices, removed: changes.removed.map((mac) => ({ interface: this.name, mac })) });
    this.persister.flush();
  }

  /** `admitted` collects the events of devices added while their subnet was being swept. */
  private async sweepSubnets(info: InterfaceInfo, own: string, specs: string[], admitted: DeviceEvent[]): Promise<SweepResult[]> {
    const results: SweepResult[] = [];
    const scan = this.cfg.scan;
    for (const spec of specs) {
      await tracer.startActiveSpan('ghosthunter.sweep.subnet', { attributes: { 'ghosthunter.interface': info.name, 'ghosthunter.subnet': spec } }, async (span) => {
        try {
          const targets = expandTargets([spec], { maxAddresses: scan.max_addresses, exclude: this.ifaceCfg.exclude });
          const r = await sweep(this.channel!, { name: info.name, mac: info.mac, ip: own }, targets, {
            rate: scan.rate,
            retries: scan.retries,
            timeoutMs: scan.timeout,
            adaptive: scan.adaptive_timeout,
            onReply: this.admitNewDevice(admitted),
            signal: this.stopping.signal,
          });
          span.setAttributes({
            'ghosthunter.addresses_probed': r.stats.addresses,
            'ghosthunter.requests_sent': r.stats.requestsSent,
            'ghosthunter.replies': r.stats.replies,
            'ghosthunter.devices_found': r.devices.length,
          });
          results.push(r);
        } catch (err) {
          if (this.stopping.signal.aborted) span.setAttribute('ghosthunter.interrupted', true);
          else {
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          }
          throw err;
        } finally {
          span.end();
        }
      });
    }
    return results;
  }

  /**
   * Adds a never-seen device as soon as it answers: a first sweep of a /16 at the polite default
   * rate takes minutes, and nobody should wait for its end to see a device. Everything else
   * (presence, IP changes, conflicts, the gateway, evictions at max_devices) still follows the
   * completed sweep, which observes these devices again.
   */
  private admitNewDevice(admitted: DeviceEvent[]): (ip: string, mac: string) => void {
    const sweepContext = context.active(); // the new_device log lines keep the sweep's trace_id
    return (ip, mac) => {
      if (this.inventory.devices.has(mac) || this.inventory.full) return;
      const events = this.inventory.observe(mac, ip, Date.now(), null);
      context.with(sweepContext, () => this.record(events));
      admitted.push(...events);
    };
  }

  /** One scheduled run: sweep, re-probe the silent, update the inventory, persist. */
  private sweepOnce(): Promise<void> {
    return tracer.startActiveSpan('ghosthunter.sweep', { root: true, attributes: { 'ghosthunter.interface': this.name } }, async (span) => {
      const started = performance.now();
      this.stats.sweeps++;
      this.stats.running = true;
      this.stats.lastStartTs = Date.now();
      try {
        const info = describeInterface(this.name);
        const own = info.addresses[0]?.address;
        if (!own) throw new Error(`interface "${this.name}" has no IPv4 address`);
        this.setInfo(info);
        if (!this.channel) this.open();
        const specs = this.ifaceCfg.cidrs?.length ? [...this.ifaceCfg.cidrs] : info.addresses.map((a) => a.cidr);
        const admitted: DeviceEvent[] = [];
        const results = await this.sweepSubnets(info, own, specs, admitted);
        const answers: DeviceReply[] = results.flatMap((r) => r.devices);
        if (!answers.some((d) => d.self)) answers.push({ ip: own, mac: info.mac, rttMs: null, self: true });
        const now = Date.now();
        const events = this.inventory.applySweep(answers, now);
        events.push(...(await this.reprobeAndExpire(info, own, now)));
        this.record(events);

        const stats = results.reduce(
          (acc, r) => ({ addresses: acc.addresses + r.stats.addresses, requests: acc.requests + r.stats.requestsSent, replies: acc.replies + r.stats.replies }),
          { addresses: 0, requests: 0, replies: 0 },
        );
        const durationMs = performance.now() - started;
        this.stats.requestsSent += stats.requests;
        this.stats.replies += stats.replies;
        this.stats.lastAddresses = stats.addresses;
        this.stats.lastDurationSeconds = durationMs / 1000;
        this.stats.lastSuccessTs = Date.now();
        this.stats.up = true;
        this.stats.lastError = null;
        if (durationMs > this.cfg.scan.interval) {
          this.stats.slow++;
          this.log.warn('sweep took longer than the interval', { interface: this.name, duration_seconds: durationMs / 1000 });
        }
        const present = [...this.inventory.devices.values()].filter((d) => d.present && d.lastSeen >= now - this.cfg.scan.interval);
        const record: SweepRecord = { ts: Math.floor(now / 1000), devices: answers.map((a) => ({ mac: a.mac, ip: a.ip })) };
        const changes = this.inventory.takeChanges();
        this.persister.enqueue({
          devices: changes.devices,
          removed: changes.removed.map((mac) => ({ interface: this.name, mac })),
          sweeps: [{ interface: this.name, ts: now, durationMs, ok: true, devices: record.devices }],
          gateways: this.inventory.gatewayIp && this.inventory.gatewayMac ? [{ interface: this.name, ip: this.inventory.gatewayIp, mac: this.inventory.gatewayMac }] : [],
        });
        this.persister.flush();
        span.setAttributes({
          'ghosthunter.addresses_probed': stats.addresses,
          'ghosthunter.requests_sent': stats.requests,
          'ghosthunter.replies': stats.replies,
          'ghosthunter.devices_present': present.length,
          'ghosthunter.new_devices': admitted.length + events.filter((e) => e.kind === 'new_device').length,
          'ghosthunter.gone_devices': events.filter((e) => e.kind === 'device_gone').length,
        });
        this.log.debug('sweep finished', { interface: this.name, duration_seconds: (durationMs / 1000).toFixed(3), ...stats, events: admitted.length + events.length });
        this.onSweep?.(record);
      } catch (err) {
        if (this.stopping.signal.aborted) {
          this.log.info('sweep interrupted by shutdown', { interface: this.name });
          span.setAttribute('ghosthunter.interrupted', true);
          return;
        }
        this.stats.errors++;
        this.stats.up = false;
        const message = (err as Error).message;
        this.stats.lastError = message;
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        this.log.error('sweep failed', { interface: this.name, err: message });
        // A vanished or downed interface leaves a dead capture session: open a fresh one next time.
        if (!(err instanceof CaptureError && err.kind === 'permission')) this.closeChannel();
      } finally {
        this.stats.running = false;
        span.end();
      }
    });
  }

  private async reprobeAndExpire(info: InterfaceInfo, own: string, now: number): Promise<DeviceEvent[]> {
    const candidates = this.inventory.absentCandidates(now).filter((d) => d.mac !== info.mac);
    const answered = new Set<string>();
    const events: DeviceEvent[] = [];
    const probeable = candidates.filter((d) => d.ips[0]);
    if (this.cfg.presence.reprobe && probeable.length && this.channel) {
      const unicast = new Map(probeable.map((d) => [d.ips[0], d.mac]));
      const targets = Uint32Array.from(new Set(probeable.map((d) => ipv4ToInt(d.ips[0])))).sort();
      const r = await sweep(this.channel, { name: info.name, mac: info.mac, ip: own }, targets, {
        rate: this.cfg.scan.rate,
        retries: 1,
        timeoutMs: this.cfg.scan.timeout,
        adaptive: false,
        signal: this.stopping.signal,
        unicast,
      });
      const replies = r.devices.filter((d) => unicast.get(d.ip) === d.mac);
      for (const d of replies) answered.add(d.mac);
      for (const d of replies) events.push(...this.inventory.observe(d.mac, d.ip, Date.now(), d.rttMs));
    }
    events.push(...this.inventory.markGone(candidates.filter((d) => !answered.has(d.mac)).map((d) => d.mac), now));
    this.inventory.expire(now);
    return events;
  }
}
