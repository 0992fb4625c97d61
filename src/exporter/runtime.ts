import { trace, SpanStatusCode } from '@opentelemetry/api';
import { AnomalyEngine } from '../anomaly/engine.js';
import { registerAnomalyMetrics } from '../anomaly/metrics.js';
import { decodeSnapshot, encodeSnapshot } from '../anomaly/snapshot-codec.js';
import type { AnomalyResult } from '../anomaly/types.js';
import { buildRegistry, type ExporterRegistry } from '../collectors/index.js';
import type { ExporterState } from '../collectors/state.js';
import { loadConfigFile } from '../config/load.js';
import type { Config, InterfaceConfig } from '../config/schema.js';
import type { DeviceView } from '../http/app.js';
import type { Logger } from '../log.js';
import { detectInterfaces } from '../net/interfaces.js';
import { ipv4ToInt } from '../net/ipv4.js';
import { Store } from '../store/store.js';
import { Persister } from './persister.js';
import { InterfaceWorker, type SweepRecord } from './worker.js';

const tracer = trace.getTracer('ghost-hunter');

/** Interfaces to sweep: the configured ones, or every Ethernet interface with IPv4. */
export function resolveInterfaces(cfg: Config, log: Logger): InterfaceConfig[] {
  if (cfg.interfaces.length) return [...cfg.interfaces];
  const found = detectInterfaces();
  if (!found.length) throw new Error('no Ethernet interface with an IPv4 address found; list one under `interfaces:` in the config file');
  log.info('no interfaces configured; sweeping the detected ones', { interfaces: found.map((i) => `${i.name}(${i.addresses.map((a) => a.cidr).join(',')})`).join(' ') });
  return found.map((i) => ({ name: i.name, exclude: [], gateway: 'auto' as const }));
}

/**
 * The anomaly state (~3 MB for four weeks of an office) is saved after the first retrain, then at most
 * this often (sweep time), and at shutdown: hourly writes would wear an SD card for little gain, since
 * a crash only costs replaying the sweeps stored since the last save.
 */
const SNAPSHOT_EVERY_SECONDS = 6 * 3600;

interface AnomalySlot {
  engine: AnomalyEngine;
  result: AnomalyResult | null;
  /** sweep ts of the last saved snapshot (-Infinity: none saved by this process) */
  savedTs: number;
  /** Restore, scoring and retraining run one after another on this chain, off the sweep's path. */
  chain: Promise<void>;
}

/** The long-running exporter: one worker per interface, the store, the anomaly models and the registry. */
export class ExporterRuntime implements ExporterState {
  readonly registry: ExporterRegistry;
  private readonly db: Store;
  private readonly persister: Persister;
  private readonly workerMap = new Map<string, InterfaceWorker>();
  private readonly anomaly = new Map<string, AnomalySlot>();
  private reloadState = { successful: true, lastSuccessTs: Date.now() };
  private firstSweepDone = false;
  private pruneTimer: NodeJS.Timeout | null = null;
  private knownFor: Config | null = null;
  private knownMap: ReadonlyMap<string, Config['known_devices'][number]> = new Map();

  constructor(
    private cfg: Config,
    private readonly configFile: string | undefined,
    private readonly log: Logger,
    opts: { processMetrics: boolean },
  ) {
    this.db = new Store(cfg.storage.path);
    this.persister = new Persister(this.db, log);
    this.registry = buildRegistry(this, opts);
    registerAnomalyMetrics(this.registry, () => {
      const out = new Map<string, { result: AnomalyResult | null; status: ReturnType<AnomalyEngine['status']> }>();
      for (const [name, slot] of this.anomaly) out.set(name, { result: slot.result, status: slot.engine.status() });
      return out;
    });
  }

  workers(): readonly InterfaceWorker[] {
    return [...this.workerMap.values()];
  }
  /** Same object until a reload changes the config, so renderers can cache on it. */
  known(): ReadonlyMap<string, Config['known_devices'][number]> {
    if (this.knownFor !== this.cfg) {
      this.knownFor = this.cfg;
      this.knownMap = new Map(this.cfg.known_devices.map((k) => [k.mac, k]));
    }
    return this.knownMap;
  }
  reload(): { successful: boolean; lastSuccessTs: number } {
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
      const w = new InterfaceWorker(ic, this.cfg, this.persister, this.log, devices.filter((d) => d.interface === ic.name), gateways.get(ic.name) ?? null);
      w.open();
      this.attachAnomaly(w);
      this.workerMap.set(ic.name, w);
    }
    for (const w of this.workerMap.values()) w.start();
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
    this.log.info('sweeping', { interfaces: [...this.workerMap.keys()].join(','), interval: `${this.cfg.scan.interval / 1000}s`, devices_restored: devices.length });
  }

  private anomalyOptions() {
    const a = this.cfg.anomaly;
    return {
      warmupSweeps: Math.max(1, Math.round(a.warmup / this.cfg.scan.interval)),
      windowSeconds: a.window / 1000,
      retrainEverySweeps: Math.max(1, Math.round(a.retrain_every / this.cfg.scan.interval)),
      falseAlarmsPerWeek: a.false_alarms_per_week,
      seed: a.seed,
    };
  }

  private attachAnomaly(w: InterfaceWorker): void {
    w.onSweep = (record) => {
      this.firstSweepDone = true;
      this.scoreSweep(w.name, record);
    };
    if (!this.cfg.anomaly.enabled) return;
    const engine = new AnomalyEngine(this.cfg.known_devices, { ...this.anomalyOptions(), gatewayIp: w.inventory.gatewayIp ?? undefined });
    const resumed = this.resumeAnomaly(engine, w.name);
    const since = resumed ? (engine.lastSweepTs + 1) * 1000 : Date.now() - this.cfg.anomaly.window;
    const history = this.db.loadSweeps(w.name, since).map((s) => ({ ts: Math.floor(s.ts / 1000), devices: s.devices }));
    const slot: AnomalySlot = { engine, result: null, savedTs: -Infinity, chain: Promise.resolve() };
    this.anomaly.set(w.name, slot);
    this.enqueueAnomaly(slot, w.name, 'ghosthunter.anomaly.restore', async () => {
      const replayed = resumed ? await engine.catchUp(history, 100) : await engine.restoreAsync(history, 100);
      this.log.info('anomaly state restored', { interface: w.name, from: resumed ? 'snapshot' : 'history', sweeps_replayed: replayed });
      this.enqueueRetrain(slot, w.name);
      return { 'ghosthunter.snapshot': resumed, 'ghosthunter.sweeps': replayed };
    });
  }

  /** Load the saved feature state and window; false (history is replayed instead) when there is none usable. */
  private resumeAnomaly(engine: AnomalyEngine, iface: string): boolean {
    try {
      const stored = this.db.loadAnomalySnapshot(iface);
      if (!stored) return false;
      const snap = decodeSnapshot(stored);
      const why = engine.snapshotMismatch(snap);
      if (why) {
        this.log.info('anomaly snapshot not used; replaying sweep history', { interface: iface, reason: why });
        return false;
      }
      engine.restoreSnapshot(snap);
      return true;
    } catch (err) {
      this.log.warn('anomaly snapshot unreadable; replaying sweep history', { interface: iface, err: (err as Error).message });
      return false;
    }
  }

  /** Save the feature state so a restart resumes without replaying weeks of sweeps; failures only cost that. */
  private saveAnomaly(slot: AnomalySlot, iface: string): void {
    try {
      this.db.saveAnomalySnapshot(iface, encodeSnapshot(slot.engine.snapshot()));
      slot.savedTs = slot.engine.lastSweepTs;
    } catch (err) {
      this.log.warn('cannot save the anomaly snapshot; a restart will replay sweep history instead', { interface: iface, err: (err as Error).message });
    }
  }

  private enqueueAnomaly(slot: AnomalySlot, iface: string, spanName: string, work: () => Promise<Record<string, number | boolean> | void>): void {
    slot.chain = slot.chain.then(() =>
      tracer.startActiveSpan(spanName, { attributes: { 'ghosthunter.interface': iface } }, async (span) => {
        try {
          const attributes = await work();
          if (attributes) span.setAttributes(attributes);
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          this.log.error('anomaly model failed', { interface: iface, step: spanName, err: (err as Error).message });
        } finally {
          span.end();
        }
      }),
    );
  }

  /** Retraining yields to the event loop between small forests; a sweep never waits for it. */
  private enqueueRetrain(slot: AnomalySlot, iface: string): void {
    if (!slot.engine.isRetrainDue()) return;
    this.enqueueAnomaly(slot, iface, 'ghosthunter.anomaly.train', async () => {
      const trained = await slot.engine.retrainIfDue();
      if (trained) {
        this.log.debug('anomaly model retrained', { interface: iface, samples: slot.engine.status().samples });
        if (slot.engine.lastSweepTs - slot.savedTs >= SNAPSHOT_EVERY_SECONDS) this.saveAnomaly(slot, iface);
      }
      return { 'ghosthunter.retrained': trained };
    });
  }

  private scoreSweep(iface: string, record: SweepRecord): void {
    const slot = this.anomaly.get(iface);
    if (!slot) return;
    slot.chain = slot.chain.then(() => {
      const result = slot.engine.observe(record);
      slot.result = result;
      if (result.anomalous) {
        this.log.warn('anomalous sweep', {
          interface: iface,
          score: result.score?.toFixed(3),
          threshold: result.threshold?.toFixed(3),
          detectors: Object.entries(result.detectors).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(','),
          features: result.contributions.slice(0, 3).map((c) => `${c.feature}=${c.value}`).join(','),
        });
      }
    }).catch((err: unknown) => this.log.error('anomaly scoring failed', { interface: iface, err: (err as Error).message }));
    slot.chain = slot.chain.then(() => this.enqueueRetrain(slot, iface));
  }

  /** Re-reads the config; a bad file is rejected and the running configuration stays. */
  async reloadConfig(): Promise<{ ok: boolean; error?: string }> {
    return tracer.startActiveSpan('ghosthunter.reload', async (span) => {
      try {
        const next = loadConfigFile(this.configFile);
        if (next.storage.path !== this.cfg.storage.path) throw new Error('storage.path cannot change on reload; restart the exporter');
        const interfaces = resolveInterfaces(next, this.log);
        const wanted = new Map(interfaces.map((i) => [i.name, i]));
        for (const [name, w] of this.workerMap) {
          if (!wanted.has(name)) {
            await w.stop();
            this.workerMap.delete(name);
            this.anomaly.delete(name);
          }
        }
        const prev = this.cfg;
        this.cfg = next;
        for (const [name, ic] of wanted) {
          const existing = this.workerMap.get(name);
          if (existing) {
            existing.reconfigure(ic, next);
            this.anomaly.get(name)?.engine.setKnown(next.known_devices);
            continue;
          }
          try {
            const w = new InterfaceWorker(ic, next, this.persister, this.log, this.db.loadDevices().filter((d) => d.interface === name), null);
            w.open();
            this.attachAnomaly(w);
            this.workerMap.set(name, w);
            w.start();
          } catch (err) {
            this.cfg = prev;
            throw err;
          }
        }
        this.reloadState = { successful: true, lastSuccessTs: Date.now() };
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
    const targets = iface ? [this.workerMap.get(iface)].filter((w): w is InterfaceWorker => !!w) : this.workers();
    if (!targets.length) return { ok: false, error: `unknown interface "${iface}"` };
    await Promise.all(targets.map((w) => w.triggerSweep()));
    return { ok: true };
  }

  /** The event log, newest first (what is still queued for the store included). */
  recentEvents(limit: number): { ts: string; interface: string; kind: string; mac: string | null; ip: string | null; detail: Record<string, unknown> }[] {
    this.persister.flush();
    return this.db.recentEvents(limit).map((e) => ({ ...e, ts: new Date(e.ts).toISOString() }));
  }

  deviceViews(): DeviceView[] {
    const known = this.known();
    const out: DeviceView[] = [];
    for (const w of this.workerMap.values()) {
      for (const d of w.inventory.devices.values()) {
        const k = known.get(d.mac);
        out.push({
          interface: w.name,
          mac: d.mac,
          ip: d.ips[0] ?? null,
          ips: d.ips,
          vendor: d.vendor,
          name: k?.name ?? null,
          class: k?.class || null,
          known: !!k,
          critical: k?.critical ?? false,
          randomized: d.randomized,
          present: d.present,
          first_seen: new Date(d.firstSeen).toISOString(),
          last_seen: new Date(d.lastSeen).toISOString(),
          rtt_ms: d.lastRttMs,
        });
      }
    }
    return out.sort((a, b) => a.interface.localeCompare(b.interface) || ipOrder(a.ip) - ipOrder(b.ip) || a.mac.localeCompare(b.mac));
  }

  /** Keeps the store bounded: sweep history for the anomaly window, events for the retention. */
  private prune(): void {
    const now = Date.now();
    try {
      this.db.prune(now - Math.max(this.cfg.anomaly.window, this.cfg.scan.interval * 2), now - this.cfg.presence.retention);
    } catch (err) {
      this.log.warn('pruning the state store failed', { err: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all(this.workers().map((w) => w.stop()));
    for (const [iface, slot] of this.anomaly) {
      await slot.chain;
      if (slot.engine.lastSweepTs > slot.savedTs) this.saveAnomaly(slot, iface);
    }
    this.persister.flush();
    this.db.close();
  }
}

/** Devices without an address sort first. */
function ipOrder(ip: string | null): number {
  return ip ? ipv4ToInt(ip) : 0;
}
