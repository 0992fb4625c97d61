// The network work of one scheduled sweep of an interface and the inventory update it feeds:
// sweep each subnet (a traced child span each), re-probe the devices gone silent, then apply the
// answers, mark the still-silent gone and expire the retained. Counting, persisting, logging and
// the sweep's own span are the caller's (SegmentMonitor).
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ArpChannel } from '../capture/arp-channel.js';
import type { Config } from '../config/schema.js';
import type { DeviceEvent, Inventory } from '../inventory/inventory.js';
import { ipv4ToInt } from '../net/ipv4.js';
import type { InterfaceInfo } from '../net/interfaces.js';
import { planSweep } from '../net/targets.js';
import { sweep, type DeviceReply, type SweepResult } from '../sweep/sweeper.js';
import type { SweepTotals } from './sweep-stats.js';

const tracer = trace.getTracer('ghost-hunter');

export interface SweepCycleContext {
  channel: ArpChannel;
  /** The interface as described at the start of this sweep; `own` is the address requests come from. */
  info: InterfaceInfo;
  own: string;
  /** CIDRs or ranges to sweep, each on its own (one span each); overlaps are asked once. */
  specs: readonly string[];
  scan: Config['scan'];
  exclude: readonly string[];
  reprobe: boolean;
  inventory: Inventory;
  /** Aborted at shutdown: a /16 at the polite default rate sweeps for minutes. */
  signal: AbortSignal;
  /** Counts, logs and queues events for the store as they happen. */
  record(events: DeviceEvent[]): void;
}

export interface SweepCycleResult {
  /** Every address/MAC pair that answered, the scanning host included. */
  answers: DeviceReply[];
  /** Devices added while their subnet was being swept (already recorded). */
  admitted: DeviceEvent[];
  /** Events of the completed sweep: presence, IP changes, conflicts, the gateway, devices gone (recorded). */
  events: DeviceEvent[];
  totals: SweepTotals;
  /** The time (epoch ms) the answers were applied to the inventory at. */
  appliedMs: number;
}

export async function runSweepCycle(ctx: SweepCycleContext): Promise<SweepCycleResult> {
  const admitted: DeviceEvent[] = [];
  const results = await sweepSubnets(ctx, admitted);
  const answers: DeviceReply[] = results.flatMap((r) => r.devices);
  if (!answers.some((d) => d.self)) answers.push({ ip: ctx.own, mac: ctx.info.mac, rttMs: null, self: true });
  const appliedMs = Date.now();
  const events = ctx.inventory.applySweep(answers, appliedMs);
  events.push(...(await reprobeAndExpire(ctx, appliedMs)));
  ctx.record(events);
  const totals = results.reduce(
    (acc, r) => ({ addresses: acc.addresses + r.stats.addresses, requests: acc.requests + r.stats.requestsSent, replies: acc.replies + r.stats.replies }),
    { addresses: 0, requests: 0, replies: 0 },
  );
  return { answers, admitted, events, totals, appliedMs };
}

/** `admitted` collects the events of devices added while their subnet was being swept. */
async function sweepSubnets(ctx: SweepCycleContext, admitted: DeviceEvent[]): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  const { info, scan } = ctx;
  // Overlapping specs must not ask (and hear) an address twice: the same MAC answering twice for
  // one IP would look like two claims on it. max_addresses bounds the sweep as a whole.
  const plan = planSweep(ctx.specs, { maxAddresses: scan.max_addresses, exclude: ctx.exclude });
  for (const { spec, targets } of plan) {
    await tracer.startActiveSpan('ghosthunter.sweep.subnet', { attributes: { 'ghosthunter.interface': info.name, 'ghosthunter.subnet': spec } }, async (span) => {
      try {
        const r = await sweep(ctx.channel, { name: info.name, mac: info.mac, ip: ctx.own }, targets, {
          rate: scan.rate,
          retries: scan.retries,
          timeoutMs: scan.timeout,
          adaptive: scan.adaptive_timeout,
          onReply: admitNewDevice(ctx, admitted),
          signal: ctx.signal,
        });
        span.setAttributes({
          'ghosthunter.addresses_probed': r.stats.addresses,
          'ghosthunter.requests_sent': r.stats.requestsSent,
          'ghosthunter.replies': r.stats.replies,
          'ghosthunter.devices_found': r.devices.length,
        });
        results.push(r);
      } catch (err) {
        if (ctx.signal.aborted) span.setAttribute('ghosthunter.interrupted', true);
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
function admitNewDevice(ctx: SweepCycleContext, admitted: DeviceEvent[]): (ip: string, mac: string) => void {
  const sweepContext = context.active(); // the new_device log lines keep the sweep's trace_id
  const inventory = ctx.inventory;
  return (ip, mac) => {
    if (inventory.devices.has(mac) || inventory.full) return;
    const events = inventory.observe(mac, ip, Date.now(), null);
    context.with(sweepContext, () => ctx.record(events));
    admitted.push(...events);
  };
}

/** Re-probes (unicast) the present devices silent past their absent_after, marks the rest gone, expires the retained. */
async function reprobeAndExpire(ctx: SweepCycleContext, nowMs: number): Promise<DeviceEvent[]> {
  const { inventory, info } = ctx;
  const candidates = inventory.absentCandidates(nowMs).filter((d) => d.mac !== info.mac);
  const answered = new Set<string>();
  const events: DeviceEvent[] = [];
  const probeable = candidates.filter((d) => d.ips[0]);
  if (ctx.reprobe && probeable.length) {
    const unicast = new Map(probeable.map((d) => [d.ips[0], d.mac]));
    const targets = Uint32Array.from(new Set(probeable.map((d) => ipv4ToInt(d.ips[0])))).sort();
    const r = await sweep(ctx.channel, { name: info.name, mac: info.mac, ip: ctx.own }, targets, {
      rate: ctx.scan.rate,
      retries: 1,
      timeoutMs: ctx.scan.timeout,
      adaptive: false,
      signal: ctx.signal,
      unicast,
    });
    const replies = r.devices.filter((d) => unicast.get(d.ip) === d.mac);
    for (const d of replies) answered.add(d.mac);
    for (const d of replies) events.push(...inventory.observe(d.mac, d.ip, Date.now(), d.rttMs));
  }
  events.push(...inventory.markGone(candidates.filter((d) => !answered.has(d.mac)).map((d) => d.mac), nowMs));
  inventory.expire(nowMs);
  return events;
}
