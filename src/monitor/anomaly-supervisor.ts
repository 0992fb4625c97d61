// Runs one anomaly engine per interface off the sweep's path: restores its state at start (from
// the saved snapshot, else from the stored sweep history), scores each completed sweep, retrains
// when due and saves snapshots. Work for one interface runs one step after another on a promise
// chain, each step traced; a sweep never waits for it.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { AnomalyEngine } from '../anomaly/engine.js';
import { decodeSnapshot, encodeSnapshot } from '../anomaly/snapshot-codec.js';
import type { AnomalyOptions, AnomalyResult, KnownDevice, SweepRecord } from '../anomaly/types.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { AnomalyReadout } from './readout.js';

const tracer = trace.getTracer('ghost-hunter');

/**
 * The anomaly state (~3 MB for four weeks of an office) is saved after the first retrain, then at most
 * this often (sweep time), and at shutdown: hourly writes would wear an SD card for little gain, since
 * a crash only costs replaying the sweeps stored since the last save.
 */
const SNAPSHOT_EVERY_SECONDS = 6 * 3600;

interface AnomalySlot {
  engine: AnomalyEngine;
  result: AnomalyResult | null;
  /** sweep time (unix seconds) of the last saved snapshot; -Infinity: none saved by this process */
  savedTsSeconds: number;
  /** Restore, scoring and retraining run one after another on this chain. */
  chain: Promise<void>;
}

/** Engine options from the configuration: durations become sweep counts at scan.interval. */
export function anomalyOptions(cfg: Config): Partial<AnomalyOptions> {
  const a = cfg.anomaly;
  const interval = cfg.scan.interval;
  return {
    intervalSeconds: interval / 1000,
    warmupSweeps: Math.max(1, Math.round(a.warmup / interval)),
    windowSeconds: a.window / 1000,
    retrainEverySweeps: Math.max(1, Math.round(a.retrain_every / interval)),
    falseAlarmsPerWeek: a.false_alarms_per_week,
    seed: a.seed,
  };
}

export class AnomalySupervisor {
  private readonly slots = new Map<string, AnomalySlot>();
  /** Called with each scored sweep. */
  onResult: ((iface: string, result: AnomalyResult) => void) | null = null;

  constructor(
    private readonly db: Store,
    private readonly log: Logger,
  ) {}

  /** The latest result and model state of each interface. */
  readout(): Map<string, AnomalyReadout> {
    const out = new Map<string, AnomalyReadout>();
    for (const [name, slot] of this.slots) out.set(name, { result: slot.result, status: slot.engine.status() });
    return out;
  }

  /** Starts the model of an interface; its state is restored in the background. */
  attach(iface: string, cfg: Config, gatewayIp: string | null): void {
    const engine = new AnomalyEngine(cfg.known_devices, { ...anomalyOptions(cfg), gatewayIp: gatewayIp ?? undefined });
    const resumed = this.resume(engine, iface);
    const sinceMs = resumed ? (engine.lastSweepTsSeconds + 1) * 1000 : Date.now() - cfg.anomaly.window;
    const history = this.db.loadSweeps(iface, sinceMs).map((s): SweepRecord => ({ tsSeconds: Math.floor(s.tsMs / 1000), devices: s.devices }));
    const slot: AnomalySlot = { engine, result: null, savedTsSeconds: -Infinity, chain: Promise.resolve() };
    this.slots.set(iface, slot);
    this.enqueue(slot, iface, 'ghosthunter.anomaly.restore', async () => {
      const replayed = resumed ? await engine.catchUp(history, 100) : await engine.restoreAsync(history, 100);
      this.log.info('anomaly state restored', { interface: iface, from: resumed ? 'snapshot' : 'history', sweeps_replayed: replayed });
      this.enqueueRetrain(slot, iface);
      return { 'ghosthunter.snapshot': resumed, 'ghosthunter.sweeps': replayed };
    });
  }

  detach(iface: string): void {
    this.slots.delete(iface);
  }

  setKnown(iface: string, known: KnownDevice[]): void {
    this.slots.get(iface)?.engine.setKnown(known);
  }

  /** Scores a completed sweep, then retrains if due. */
  observe(iface: string, record: SweepRecord): void {
    const slot = this.slots.get(iface);
    if (!slot) return;
    slot.chain = slot.chain
      .then(() => {
        const result = slot.engine.observe(record);
        slot.result = result;
        if (result.anomalous) this.logAnomaly(iface, result);
        this.onResult?.(iface, result);
      })
      .catch((err: unknown) => this.log.error('anomaly scoring failed', { interface: iface, err: (err as Error).message }));
    slot.chain = slot.chain.then(() => this.enqueueRetrain(slot, iface));
  }

  /** Waits for the queued work and saves every state newer than its last snapshot. */
  async stop(): Promise<void> {
    for (const [iface, slot] of this.slots) {
      await slot.chain;
      if (slot.engine.lastSweepTsSeconds > slot.savedTsSeconds) this.save(slot, iface);
    }
  }

  private logAnomaly(iface: string, result: AnomalyResult): void {
    this.log.warn('anomalous sweep', {
      interface: iface,
      score: result.score?.toFixed(3),
      threshold: result.threshold?.toFixed(3),
      detectors: Object.entries(result.detectors).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(','),
      features: result.contributions.slice(0, 3).map((c) => `${c.feature}=${c.value}`).join(','),
      devices: result.devices.map((d) => `${d.mac}(${d.detector} since ${new Date(d.sinceTsSeconds * 1000).toISOString()})`).join(','),
    });
  }

  /** Loads the saved feature state and window; false (history is replayed instead) when there is none usable. */
  private resume(engine: AnomalyEngine, iface: string): boolean {
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

  /** Saves the feature state so a restart resumes without replaying weeks of sweeps; failures only cost that. */
  private save(slot: AnomalySlot, iface: string): void {
    try {
      this.db.saveAnomalySnapshot(iface, encodeSnapshot(slot.engine.snapshot()));
      slot.savedTsSeconds = slot.engine.lastSweepTsSeconds;
    } catch (err) {
      this.log.warn('cannot save the anomaly snapshot; a restart will replay sweep history instead', { interface: iface, err: (err as Error).message });
    }
  }

  private enqueue(slot: AnomalySlot, iface: string, spanName: string, work: () => Promise<Record<string, number | boolean> | void>): void {
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
    this.enqueue(slot, iface, 'ghosthunter.anomaly.train', async () => {
      const trained = await slot.engine.retrainIfDue();
      if (trained) {
        this.log.debug('anomaly model retrained', { interface: iface, samples: slot.engine.status().samples });
        if (slot.engine.lastSweepTsSeconds - slot.savedTsSeconds >= SNAPSHOT_EVERY_SECONDS) this.save(slot, iface);
      }
      return { 'ghosthunter.retrained': trained };
    });
  }
}
