// The live page's stream (/api/stream): the monitor's changes (LiveFeed) become SSE messages.
// Changes are gathered for a quarter of a second and sent as one batch: a sweep that touches
// 10 000 devices is a few messages, not 10 000. A device whose only news is its last-seen time
// goes out as a compact `seen` pair; anything else as its whole view.
//
// Messages (event name: JSON data):
//   hello     {boot, version, metrics_path, heartbeat_ms, resumed}  first on every connection
//   reset     {interfaces, events, anomaly, devices_total}   a snapshot begins: forget everything
//   devices   {devices: DeviceView[]}                        upserts (snapshot chunks and live)
//   ready     {}                                             the snapshot is complete
//   removed   {devices: {interface, mac}[]}                  dropped from the inventory
//   seen      {interface, seen: [mac, lastSeenMs, rttMs][]}  only the last-seen time changed
//   events    {events: EventView[], skipped}                 oldest first; skipped: not sent (a flood)
//   sweep     {interfaces, points: {interface, ts, present}[]}
//   anomaly   {anomaly: AnomalyView}
//   heartbeat {ts}
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveChange, LiveFeed } from '../monitor/live-feed.js';
import type { AnomalyReadout } from '../monitor/readout.js';
import { anomalyView } from './history-views.js';
import { SseHub, type SseMessage } from './sse.js';
import { eventViews, type DeviceView, type EventView, type InterfaceView } from './views.js';

/** What the stream reads of the monitor, at the moment it sends. */
export interface LiveSource {
  version: string;
  /** where /metrics is served (--web.telemetry-path) */
  telemetryPath: string;
  devices(): DeviceView[];
  device(iface: string, mac: string): DeviceView | null;
  interfaces(): InterfaceView[];
  recentEvents(limit: number): EventView[];
  anomaly(): ReadonlyMap<string, AnomalyReadout>;
}

const FLUSH_MS = 250;
const SNAPSHOT_EVENTS = 200;
const DEVICES_PER_MESSAGE = 1000;
/** Events per batch; a flood beyond it is counted, not sent (the store and /api/events keep all). */
const MAX_EVENTS_PER_FLUSH = 500;
/** With nobody connected, the stream keeps its resume ring this long, then stops working for nobody. */
const IDLE_MS = 120_000;

const key = (iface: string, mac: string): string => `${iface}\u0000${mac}`;
const json = (event: string, data: unknown): SseMessage => ({ event, data: JSON.stringify(data) });

/** The part of a device's view that is more than its last-seen time. */
function signature(v: DeviceView): string {
  const { last_seen, rtt_ms, ...rest } = v;
  return JSON.stringify(rest);
}

export class LiveStream {
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | null = null;
  /** What the clients were last told of each device (its signature), to tell news from a last-seen tick. */
  private readonly told = new Map<string, string>();
  private pending = LiveStream.empty();

  private static empty() {
    return {
      events: [] as EventView[],
      skipped: 0,
      /** devices that raised events: sent whole */
      touched: new Map<string, { iface: string; mac: string }>(),
      changed: new Map<string, { iface: string; mac: string }>(),
      removed: new Map<string, { iface: string; mac: string }>(),
      sweeps: new Map<string, { interface: string; ts: number; present: number }>(),
      anomaly: new Set<string>(),
      reset: false,
    };
  }

  constructor(
    feed: LiveFeed,
    private readonly source: LiveSource,
    readonly hub = new SseHub(),
  ) {
    this.unsubscribe = feed.subscribe((c) => this.gather(c));
  }

  /** Serves /api/stream; false when the hub is full. */
  open(req: IncomingMessage, res: ServerResponse, lastEventId: string | undefined): boolean {
    this.flush(); // what is gathered goes out (and into the ring) first, so the snapshot and the ring agree
    const hello = (resumed: boolean) => json('hello', { boot: this.hub.boot, version: this.source.version, metrics_path: this.source.telemetryPath, heartbeat_ms: this.hub.heartbeatMs, resumed });
    return this.hub.open(req, res, lastEventId, hello, () => this.snapshot());
  }

  private gather(c: LiveChange): void {
    const p = this.pending;
    switch (c.type) {
      case 'events':
        for (const e of c.events) if (e.mac) p.touched.set(key(c.interface, e.mac), { iface: c.interface, mac: e.mac });
        p.events.push(...eventViews(c.events));
        if (p.events.length > MAX_EVENTS_PER_FLUSH) {
          p.skipped += p.events.length - MAX_EVENTS_PER_FLUSH;
          p.events.splice(0, p.events.length - MAX_EVENTS_PER_FLUSH);
        }
        break;
      case 'devices':
        for (const mac of c.changed) p.changed.set(key(c.interface, mac), { iface: c.interface, mac });
        for (const mac of c.removed) p.removed.set(key(c.interface, mac), { iface: c.interface, mac });
        break;
      case 'sweep':
        p.sweeps.set(c.interface, { interface: c.interface, ts: c.tsMs / 1000, present: c.present });
        break;
      case 'anomaly':
        p.anomaly.add(c.interface);
        break;
      case 'reset':
        p.reset = true;
        break;
    }
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Sends what was gathered as one batch of messages. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const p = this.pending;
    this.pending = LiveStream.empty();
    const emptySince = this.hub.emptySinceMs;
    if (emptySince !== null && Date.now() - emptySince > IDLE_MS) {
      // Nobody has followed for a while: stop preparing messages; whoever comes gets a snapshot.
      this.hub.forgetHistory();
      this.told.clear();
      return;
    }
    if (p.reset) {
      this.told.clear();
      this.hub.reset(() => this.snapshot());
      return;
    }
    this.hub.broadcast(this.messages(p));
  }

  private messages(p: ReturnType<typeof LiveStream.empty>): SseMessage[] {
    const out: SseMessage[] = [];
    const whole: DeviceView[] = [];
    const seen = new Map<string, [string, number, number | null][]>();
    const gone: { interface: string; mac: string }[] = [];
    for (const [k, { iface, mac }] of new Map([...p.changed, ...p.touched])) {
      const v = this.source.device(iface, mac);
      if (!v) {
        p.removed.set(k, { iface, mac });
        continue;
      }
      const sig = signature(v);
      if (!p.touched.has(k) && this.told.get(k) === sig) {
        const list = seen.get(iface) ?? [];
        list.push([mac, Date.parse(v.last_seen), v.rtt_ms]);
        seen.set(iface, list);
      } else {
        this.told.set(k, sig);
        whole.push(v);
      }
    }
    for (const [k, { iface, mac }] of p.removed) {
      if (this.source.device(iface, mac)) continue; // removed, then seen again within the batch
      this.told.delete(k);
      gone.push({ interface: iface, mac });
    }
    if (gone.length) out.push(json('removed', { devices: gone }));
    for (let i = 0; i < whole.length; i += DEVICES_PER_MESSAGE) out.push(json('devices', { devices: whole.slice(i, i + DEVICES_PER_MESSAGE) }));
    for (const [iface, list] of seen) out.push(json('seen', { interface: iface, seen: list }));
    if (p.events.length) out.push(json('events', { events: p.events, skipped: p.skipped }));
    if (p.sweeps.size) out.push(json('sweep', { interfaces: this.source.interfaces(), points: [...p.sweeps.values()] }));
    const anomaly = this.source.anomaly();
    for (const iface of p.anomaly) {
      const a = anomaly.get(iface);
      if (a) out.push(json('anomaly', { anomaly: anomalyView(iface, a) }));
    }
    return out;
  }

  /** Everything a client needs to start from nothing. */
  private snapshot(): SseMessage[] {
    const devices = this.source.devices();
    const out = [
      json('reset', {
        interfaces: this.source.interfaces(),
        events: this.source.recentEvents(SNAPSHOT_EVENTS),
        anomaly: [...this.source.anomaly()].map(([iface, a]) => anomalyView(iface, a)),
        devices_total: devices.length,
      }),
    ];
    for (let i = 0; i < devices.length; i += DEVICES_PER_MESSAGE) out.push(json('devices', { devices: devices.slice(i, i + DEVICES_PER_MESSAGE) }));
    out.push(json('ready', {}));
    return out;
  }

  close(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.hub.close();
  }
}
