import { SpanStatusCode, trace } from '@opentelemetry/api';
import { knownDevicesByMac, loadConfigFile } from '../config/load.js';
import type { Config, InterfaceConfig, KnownDeviceConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { describeInterface, detectInterfaces } from '../net/interfaces.js';
import { planSweep } from '../net/targets.js';
import { Store, type StoredDevice, type StoredEvent } from '../store/store.js';
import { AnomalySupervisor } from './anomaly-supervisor.js';
import { LiveFeed } from './live-feed.js';
import { Persister } from './persister.js';
import type { AnomalyReadout, MonitorReadout } from './readout.js';
import type { RunRequest } from './scheduler.js';
import { SegmentMonitor } from './segment-monitor.js';

const tracer = trace.getTracer('ghost-hunter');

/** The live page charts up to a week; its compact history is kept that long (or the anomaly window, if longer). */
const HISTORY_KEPT_MS = 7 * 86_400_000;

/** Interfaces to sweep: the configured ones, or every Ethernet interface with IPv4. */
export function resolveInterfaces(cfg: Config, log: Logger): InterfaceConfig[] {
  if (cfg.interfaces.length) return [...cfg.interfaces];
  const found = detectInterfaces();
  if (!found.length) throw new Error('no Ethernet interface with an IPv4 address found; list one under `interfaces:` in the config file');
  log.info('no interfaces configured; sweeping the detected ones', { interfaces: found.map((i) => `${i.name}(${i.addresses.map((a) => a.cidr).join(',')})`).join(' ') });
  return found.map((i) => ({ name: i.name, exclude: [], gateway: 'auto' as const }));
}

/**
 * The long-running presence monitor: one SegmentMonitor per interface, the state store, the
 * anomaly models and configuration reloads. Collectors and HTTP views read it as a MonitorReadout.
 */
export class Monitor implements MonitorReadout {
  private readonly db: Store;
  private readonly persister: Persister;
  private readonly anomalies: AnomalySupervisor;
  private readonly segmentMap = new Map<string, SegmentMonitor>();
  /** Changes as they happen (the live page follows them). */
  readonly live = new LiveFeed();
  private reloadState = { successful: true, lastSuccessMs: Date.now() };
  private firstSweepDone = false;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(
    private cfg: Config,
    private readonly configFile: string | undefined,
    private readonly log: Logger,
  ) {
    this.db = new Store(cfg.storage.path);
    this.persister = new Persister(this.db, log, () => this.memoryState());
    this.anomalies = new AnomalySupervisor(this.db, log);
    this.anomalies.onResult = (iface, r) => {
      this.persister.enqueue({ scores: [{ interface: iface, tsMs: r.tsSeconds * 1000, score: r.score, threshold: r.threshold, anomalous: r.anomalous }] });
      this.live.publish({ type: 'anomaly', interface: iface });
    };
  }

  segments(): readonly SegmentMonitor[] {
    return [...this.segmentMap.values()];
  }
  known(): ReadonlyMap<string, KnownDeviceConfig> {
    return knownDevicesByMac(this.cfg);
  }
  anomaly(): ReadonlyMap<string, AnomalyReadout> {
    return this.anomalies.readout();
  }
  reload(): { successful: boolean; lastSuccessMs: number } {
    return this.reloadState;
  }
  ready(): boolean {
    return this.firstSweepDone;
  }
  store(): { writable: boolean; errors: number } {
    return { writable: this.persister.writable, errors: this.persister.errors };
  }

  /** Opens every interface first, so a missing capability fails the start-up, not a sweep later. */
  start(): void {
    const interfaces = resolveInterfaces(this.cfg, this.log);
    const devices = this.db.loadDevices();
    const gateways = new Map(this.db.loadGateways().map((g) => [g.interface, g.mac]));
    for (const ic of interfaces) {
      const segment = new SegmentMonitor(ic, this.cfg, this.persister, this.log, devices.filter((d) => d.interface === ic.name), gateways.get(ic.name) ?? null);
      segment.open();
      this.attach(segment);
    }
    for (const segment of this.segmentMap.values()) segment.start();
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
    this.log.info('sweeping', { interfaces: [...this.segmentMap.keys()].join(','), interval: `${this.cfg.scan.interval / 1000}s`, devices_restored: devices.length });
  }

  private attach(segment: SegmentMonitor): void {
    segment.live = this.live;
    segment.onSweep = (record) => {
      this.firstSweepDone = true;
      this.anomalies.observe(segment.name, record);
    };
    if (this.cfg.anomaly.enabled) this.anomalies.attach(segment.name, this.cfg, segment.inventory.gatewayIp);
    this.segmentMap.set(segment.name, segment);
  }

  /**
   * Re-reads the config. Everything is checked before anything changes (the file, every interface
   * and its targets, new capture sessions opened, and `check`, e.g. the web config): a rejected
   * reload leaves the running configuration exactly as it was. Reloads never overlap.
   */
  reloadConfig(check?: () => void): Promise<{ ok: boolean; error?: string }> {
    const run = this.reloading.then(() => this.reloadNow(check));
    this.reloading = run.then(() => undefined);
    return run;
  }
  private reloading: Promise<void> = Promise.resolve();

  private async reloadNow(check?: () => void): Promise<{ ok: boolean; error?: string }> {
    return tracer.startActiveSpan('ghosthunter.reload', async (span) => {
      const opened: SegmentMonitor[] = [];
      try {
        const next = loadConfigFile(this.configFile);
        if (next.storage.path !== this.cfg.storage.path) throw new Error('storage.path cannot change on reload; restart the exporter');
        check?.();
        const wanted = new Map(resolveInterfaces(next, this.log).map((i) => [i.name, i]));
        for (const ic of wanted.values()) {
          const info = describeInterface(ic.name);
          planSweep(ic.cidrs?.length ? ic.cidrs : info.addresses.map((a) => a.cidr), { maxAddresses: next.scan.max_addresses, exclude: ic.exclude });
        }
        const devices = this.db.loadDevices();
        for (const [name, ic] of wanted) {
          if (this.segmentMap.has(name)) continue;
          const segment = new SegmentMonitor(ic, next, this.persister, this.log, devices.filter((d) => d.interface === name), null);
          opened.push(segment);
          segment.open();
        }
        // Nothing above changed the running exporter; from here on nothing can fail.
        for (const [name, segment] of this.segmentMap) {
          if (wanted.has(name)) continue;
          await segment.stop();
          this.segmentMap.delete(name);
          this.anomalies.detach(name);
        }
        this.cfg = next;
        for (const [name, segment] of this.segmentMap) {
          segment.reconfigure(wanted.get(name)!, next);
          this.anomalies.setKnown(name, next.known_devices);
        }
        for (const segment of opened) {
          this.attach(segment);
          segment.start();
        }
        this.reloadState = { successful: true, lastSuccessMs: Date.now() };
        this.live.publish({ type: 'reset' });
        this.log.info('configuration reloaded', { file: this.configFile ?? '(defaults)' });
        return { ok: true };
      } catch (err) {
        for (const segment of opened) await segment.stop();
        const error = (err as Error).message;
        this.reloadState = { ...this.reloadState, successful: false };
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        this.log.error('configuration reload failed; keeping the running configuration', { file: this.configFile ?? '(defaults)', err: error });
        return { ok: false, error };
      } finally {
        span.end();
      }
    });
  }

  /** POST /-/sweep: asks for a sweep of one interface (or all) and answers at once; see Scheduler.request. */
  requestSweep(iface?: string): { ok: true; sweeps: ({ interface: string } & RunRequest)[] } | { ok: false; error: string } {
    const targets = iface === undefined ? this.segments() : [this.segmentMap.get(iface)].filter((s): s is SegmentMonitor => !!s);
    if (!targets.length) return { ok: false, error: iface === undefined ? 'no interface is being swept' : `unknown interface "${iface}"` };
    return { ok: true, sweeps: targets.map((s) => ({ interface: s.name, ...s.requestSweep() })) };
  }

  /** The event log, newest first (what is still queued for the store included); see eventLog(). */
  recentEvents(limit: number): StoredEvent[] {
    return this.eventLog(limit).events;
  }

  /**
   * The event log, newest first, with what is still queued for the store. When the store cannot be
   * read (a full or failed disk), the events held in memory, and a warning saying so.
   */
  eventLog(limit: number): { events: StoredEvent[]; warning?: string } {
    // No flush here: reading the log must not make clients able to force writes.
    const pending = this.persister.pendingEvents();
    try {
      const events = [...pending, ...this.db.recentEvents(limit)].slice(0, limit);
      this.eventsReadError = null;
      if (this.persister.writable) return { events };
      return { events, warning: `cannot write the state store (${this.persister.lastError}); the ${pending.length} newest events are held in memory only` };
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.eventsReadError) {
        this.log.error('cannot read events from the state store; serving the events held in memory', { file: this.db.file, err: message });
      }
      this.eventsReadError = message;
      const events = this.persister.recentEvents(limit);
      return { events, warning: `cannot read the state store (${message}); showing the ${events.length} most recent events held in memory` };
    }
  }
  private eventsReadError: string | null = null;

  /** Everything the store should hold about devices and gateways, from memory (to refill a recreated store). */
  private memoryState(): { devices: StoredDevice[]; gateways: { interface: string; ip: string; mac: string }[] } {
    const segments = this.segments();
    return {
      devices: segments.flatMap((s) => [...s.inventory.devices.values()].map((d) => ({ ...d, ips: [...d.ips] }))),
      gateways: segments.flatMap((s) => (s.inventory.gatewayIp && s.inventory.gatewayMac ? [{ interface: s.name, ip: s.inventory.gatewayIp, mac: s.inventory.gatewayMac }] : [])),
    };
  }

  /** The exporter's own history for the live page (what is still queued for the store included). */
  history(): Pick<Store, 'deviceEvents' | 'presenceHistory' | 'scoreHistory'> {
    this.persister.flush();
    return this.db;
  }

  /** Keeps the store bounded: sweep history for the anomaly window, events for the retention. */
  private prune(): void {
    const now = Date.now();
    try {
      this.db.prune(now - Math.max(this.cfg.anomaly.window, this.cfg.scan.interval * 2), now - this.cfg.presence.retention);
      this.db.pruneHistory(now - Math.max(this.cfg.anomaly.window, HISTORY_KEPT_MS));
    } catch (err) {
      this.log.warn('pruning the state store failed', { err: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all(this.segments().map((s) => s.stop()));
    await this.anomalies.stop();
    this.persister.flush();
    this.db.close();
  }
}
