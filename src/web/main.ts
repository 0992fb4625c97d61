// The live page: follows /api/stream and keeps the device table, the events feed, the charts and
// the open device's details current, without reloading.
import { Charts } from './charts.js';
import { DetailDialog } from './detail.js';
import { byId, el, replaceChildren, setText } from './dom.js';
import { EventFeed } from './feed.js';
import { formatAgo } from './format.js';
import { DeviceModel, deviceKey, type Filter, type Sort, type SortKey } from './model.js';
import { LiveConnection, type StreamState } from './stream.js';
import { DeviceTable } from './table.js';
import type { Anomaly, Device, EventItem, InterfaceStatus } from './types.js';

let model = new DeviceModel();
/** While a snapshot arrives, devices gather here; the page switches to it when the snapshot is complete. */
let staging: DeviceModel | null = null;
let interfaces: InterfaceStatus[] = [];
const anomalies = new Map<string, Anomaly>();

const search = byId<HTMLInputElement>('search');
const onlyPresent = byId<HTMLInputElement>('f-present');
const onlyUnknown = byId<HTMLInputElement>('f-unknown');
const onlyNew = byId<HTMLInputElement>('f-new');
const ifaceFilter = byId<HTMLSelectElement>('f-iface');
const shown = byId('shown');
const counts = byId('counts');
const status = byId('status');
const ifaceList = byId('interfaces');

const sort: Sort = { key: 'ip', dir: 1 };
const table = new DeviceTable(byId('table-scroll'), (r) => detail.open(r.d), (key) => sortBy(key));
const detail = new DetailDialog(() => undefined);
const feed = new EventFeed(
  byId('feed'),
  (iface, mac) => model.get(deviceKey(iface, mac))?.d.name ?? null,
  (iface, mac) => {
    const row = model.get(deviceKey(iface, mac));
    if (row) detail.open(row.d);
  },
);
const charts = new Charts(
  byId('chart-presence'),
  byId('chart-anomaly'),
  [...document.querySelectorAll<HTMLButtonElement>('[data-range]')],
  byId<HTMLSelectElement>('anomaly-iface'),
  { presence: byId('presence-summary'), anomaly: byId('anomaly-summary') },
);

// ---------------------------------------------------------------- the table's view

function filter(): Filter {
  return { text: search.value.trim(), present: onlyPresent.checked, unknown: onlyUnknown.checked, newToday: onlyNew.checked, iface: ifaceFilter.value };
}

function startOfToday(): number {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

let snapshotShown = false;
let queryFrame = 0;
let lastQueryMs = 0;
let throttle: number | undefined;
let announce: number | undefined;

/** Recomputes the table: at once for the user's actions, at most twice a second for the stream's. */
function refresh(user = false): void {
  if (queryFrame) return;
  const wait = user ? 0 : Math.max(0, 500 - (performance.now() - lastQueryMs));
  clearTimeout(throttle);
  throttle = window.setTimeout(() => {
    queryFrame = requestAnimationFrame(() => {
      queryFrame = 0;
      lastQueryMs = performance.now();
      const rows = model.query(filter(), sort, startOfToday());
      table.setRows(rows, sort);
      if (snapshotShown && !performance.getEntriesByName('ghosthunter:table-shown').length) performance.mark('ghosthunter:table-shown'); // the bench reads it
      const c = model.counts();
      counts.textContent = `${c.total} devices · ${c.present} present · ${c.unknown} unknown`;
      // screen readers hear the count once typing pauses, not on every keystroke or stream tick
      clearTimeout(announce);
      announce = window.setTimeout(() => setText(shown, `${rows.length} of ${c.total} devices shown`), user ? 400 : 2000);
      updateIfaceFilter();
    });
  }, wait);
}

function sortBy(key: SortKey): void {
  sort.dir = sort.key === key ? (sort.dir === 1 ? -1 : 1) : 1;
  sort.key = key;
  refresh(true);
}

function updateIfaceFilter(): void {
  const names = [...new Set([...interfaces.map((i) => i.name), ...model.interfaces()])].sort();
  const have = [...ifaceFilter.options].slice(1).map((o) => o.value);
  if (have.join('\n') === names.join('\n')) return;
  const value = ifaceFilter.value;
  replaceChildren(ifaceFilter, el('option', { value: '' }, 'all interfaces'), ...names.map((n) => el('option', { value: n }, n)));
  ifaceFilter.value = names.includes(value) ? value : '';
}

for (const input of [search, onlyPresent, onlyUnknown, onlyNew, ifaceFilter]) input.addEventListener('input', () => refresh(true));

// ---------------------------------------------------------------- header

function renderInterfaces(): void {
  replaceChildren(
    ifaceList,
    ...interfaces.map((i) =>
      el(
        'li',
        { class: i.up ? 'up' : 'down' },
        el('strong', {}, i.name),
        ` ${i.up ? 'up' : 'down'}`,
        i.lastSuccessMs ? `, swept ${formatAgo(i.lastSuccessMs)}` : ', not swept yet',
        anomalyText(anomalies.get(i.name)),
        i.lastError ? el('span', { class: 'error' }, ` — ${i.lastError}`) : null,
      ),
    ),
  );
}
setInterval(renderInterfaces, 10_000);

function anomalyText(a: Anomaly | undefined): HTMLElement | null {
  if (!a) return null;
  if (a.score === null) return el('span', { class: 'muted' }, ` · anomaly model ${a.state} (${a.samples} sweeps)`);
  return el('span', { class: a.anomalous ? 'error' : 'muted' }, ` · anomaly score ${a.score.toFixed(2)} / ${a.threshold?.toFixed(2) ?? '—'}${a.anomalous ? ' — anomalous' : ''}`);
}

const STATE_TEXT: Record<StreamState, string> = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' };
function setState(s: StreamState): void {
  status.textContent = STATE_TEXT[s];
  status.className = `status ${s}`;
}

// ---------------------------------------------------------------- the stream

function deviceChanged(keys: Iterable<string>): void {
  const shownDevice = detail.shown;
  if (!shownDevice) return;
  const k = deviceKey(shownDevice.iface, shownDevice.mac);
  for (const key of keys) if (key === k) return void detail.refresh();
}

function onMessage(event: string, data: unknown): void {
  switch (event) {
    case 'hello': {
      staging = null; // a snapshot cut off by a reconnect is dropped
      const h = data as { version: string; metrics_path?: string };
      const metrics = document.querySelector<HTMLAnchorElement>('a[data-metrics]');
      if (metrics && h.metrics_path?.startsWith('/')) metrics.pathname = h.metrics_path;
      document.title = `Ghost Hunter ${h.version}`;
      break;
    }
    case 'reset': {
      const r = data as { interfaces: InterfaceStatus[]; events: EventItem[]; anomaly: Anomaly[] };
      staging = new DeviceModel();
      interfaces = r.interfaces;
      anomalies.clear();
      for (const a of r.anomaly) anomalies.set(a.interface, a);
      feed.reset(r.events);
      renderInterfaces();
      break;
    }
    case 'devices': {
      const devices = (data as { devices: Device[] }).devices;
      (staging ?? model).upsert(devices);
      if (!staging) {
        deviceChanged(devices.map((d) => deviceKey(d.interface, d.mac)));
        refresh();
      }
      break;
    }
    case 'ready':
      if (staging) model = staging;
      staging = null;
      snapshotShown = true;
      refresh(true);
      void charts.load();
      if (detail.shown) void detail.refresh();
      break;
    case 'removed': {
      const gone = (data as { devices: { interface: string; mac: string }[] }).devices;
      model.remove(gone);
      deviceChanged(gone.map((d) => deviceKey(d.interface, d.mac)));
      refresh();
      break;
    }
    case 'seen': {
      const s = data as { interface: string; seen: [string, number, number | null][] };
      model.seen(s.interface, s.seen);
      refresh();
      break;
    }
    case 'events': {
      const e = data as { events: EventItem[]; skipped: number };
      feed.add(e.events, e.skipped);
      break;
    }
    case 'sweep': {
      const s = data as { interfaces: InterfaceStatus[]; points: { interface: string; ts: number; present: number }[] };
      interfaces = s.interfaces;
      renderInterfaces();
      for (const p of s.points) charts.addPresence(p.interface, p.ts, p.present);
      break;
    }
    case 'anomaly': {
      const a = (data as { anomaly: Anomaly }).anomaly;
      anomalies.set(a.interface, a);
      renderInterfaces();
      charts.addAnomaly(a);
      feed.anomaly(a);
      break;
    }
  }
}

new LiveConnection('/api/stream', { message: onMessage, state: setState }).start();
