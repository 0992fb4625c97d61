import { SpanStatusCode, trace } from '@opentelemetry/api';
import { knownDevicesByMac, loadConfigFile } from '../config/load.js';
import type { Config, InterfaceConfig, KnownDeviceConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { detectInterfaces } from '../net/interfaces.js';
import { Store, type StoredEvent } from '../store/store.js';
import { AnomalySupervisor } from './anomaly-supervisor.js';
import { LiveFeed } from './live-feed.js';
import { Persister } from './persister.js';
import type { AnomalyReadout, MonitorReadout } from './readout.js';
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
    this.persister = new Persister(this.db, log);
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

  /** Re-reads the config; a bad file is rejected and the running configuration stays. */
  async reloadConfig(): Promise<{ ok: boolean; error?: string }> {
    return tracer.startActiveSpan('ghosthunter.reload', async (span) => {
      try {
        const next = loadConfigFile(this.configFile);
        if (next.storage.path !== this.cfg.storage.path) throw new Error('storage.path cannot change on reload; restart the exporter');
        const interfaces = resolveInterfaces(next, this.log);
        const wanted = new Map(interfaces.map((i) => [i.name, i]));
        for (const [name, segment] of this.segmentMap) {
          if (!wanted.has(name)) {
            await segment.stop();
            this.segmentMap.delete(name);
            this.anomalies.detach(name);
          }
        }
        const prev = this.cfg;
        this.cfg = next;
        for (const [name, ic] of wanted) {
          const existing = this.segmentMap.get(name);
          if (existing) {
            existing.reconfigure(ic, next);
            this.anomalies.setKnown(name, next.known_devices);
            continue;
          }
          try {
            const segment = new SegmentMonitor(ic, next, this.persister, this.log, this.db.loadDevices().filter((d) => d.interface === name), null);
            segment.open();
            this.attach(segment);
            segment.start();
          } catch (err) {
            this.cfg = prev;
            throw err;
          }
        }
        this.reloadState = { successful: true, lastSuccessMs: Date.now() };
        this.live.publish({ type: 'reset' });
        this.log.info('configuration reloaded', { file: this.configFile ?? '(defaults)' });
        return { ok: true };
      } catch (err) {
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

  async triggerSweep(iface?: string): Promise<{ ok: boolean; error?: string }> {
    const targets = iface ? [this.segmentMap.get(iface)].filter((s): s is SegmentMonitor => !!s) : this.segments();
    if (!targets.length) return { ok: false, error: `unknown interface "${iface}"` };
    await Promise.all(targets.map((s) => s.triggerSweep()));
    return { ok: true };
  }

  /** The event log, newest first (what is still queued for the store included). */
  recentEvents(limit: number): StoredEvent[] {
    this.persister.flush();
    return this.db.recentEvents(limit);
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
