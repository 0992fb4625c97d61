// One device in a modal dialog: identity, addresses over time, presence over the last days,
// its events and the anomaly state of its network. Read-only; Escape or the button closes it.
import { append, el, replaceChildren } from './dom.js';
import { EVENT_LABELS, eventSummary, eventTone, formatDateTime, formatWhen } from './format.js';
import { kindOf } from './model.js';
import type { Device, DeviceDetail } from './types.js';

export class DetailDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly body: HTMLElement;
  private current: { iface: string; mac: string } | null = null;
  private request = 0;

  constructor(private readonly onClosed: () => void) {
    this.title = el('h2', { id: 'detail-title' });
    this.body = el('div', { class: 'detail-body' });
    const close = el('button', { type: 'button', class: 'close', 'aria-label': 'Close device details' }, '×');
    this.dialog = el('dialog', { class: 'detail', 'aria-labelledby': 'detail-title' }, el('header', {}, this.title, close), this.body);
    close.addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => {
      this.current = null;
      this.onClosed();
    });
    // a click on the backdrop (outside the dialog's box) closes it
    this.dialog.addEventListener('click', (e) => {
      if (e.target === this.dialog) this.dialog.close();
    });
    document.body.append(this.dialog);
  }

  /** The device shown, if any (the page refreshes it when the device changes). */
  get shown(): { iface: string; mac: string } | null {
    return this.current;
  }

  open(d: Device): void {
    this.current = { iface: d.interface, mac: d.mac };
    this.title.textContent = d.name || d.ip || d.mac;
    replaceChildren(this.body, this.identity(d), el('p', { class: 'muted' }, 'Loading history…'));
    if (!this.dialog.open) this.dialog.showModal();
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const c = this.current;
    if (!c) return;
    const n = ++this.request;
    let detail: DeviceDetail;
    try {
      const r = await fetch(`/api/device?interface=${encodeURIComponent(c.iface)}&mac=${encodeURIComponent(c.mac)}`, { headers: { accept: 'application/json' } });
      if (r.status === 404) {
        if (n === this.request) replaceChildren(this.body, el('p', {}, 'This device is no longer in the inventory.'));
        return;
      }
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      detail = (await r.json()) as DeviceDetail;
    } catch (err) {
      if (n === this.request) append(this.body, el('p', { class: 'error' }, `Could not load the device's history: ${(err as Error).message}`));
      return;
    }
    if (n !== this.request || !this.current) return;
    const d = detail.device;
    this.title.textContent = d.name || d.ip || d.mac;
    replaceChildren(this.body, this.identity(d), this.presence(detail), this.addresses(detail), this.anomaly(detail), this.events(detail));
  }

  private identity(d: Device): HTMLElement {
    const rows: [string, string][] = [
      ['Name', d.name ? `${d.name}${d.name_source ? ` (from ${d.name_source})` : ''}` : '—'],
      ['Kind', kindOf(d) || '—'],
      ['OS', d.os || '—'],
      ['Vendor', d.vendor || '—'],
      ['MAC', `${d.mac}${d.randomized ? ' (randomized)' : ''}`],
      ['IP', d.ips.join(', ') || '—'],
      ['Interface', d.interface],
      ['Presence', d.present ? 'present' : 'absent'],
      ['Known', d.known ? `known${d.critical ? ', critical' : ''}` : 'unknown'],
      ['First seen', formatDateTime(Date.parse(d.first_seen))],
      ['Last seen', formatDateTime(Date.parse(d.last_seen))],
      ['Round trip', d.rtt_ms === null ? '—' : `${d.rtt_ms.toFixed(2)} ms`],
    ];
    const dl = el('dl', { class: 'facts' });
    for (const [k, v] of rows) append(dl, el('dt', {}, k), el('dd', {}, v));
    const out = el('section', { 'aria-label': 'Identity' }, dl);
    if (d.evidence?.length) {
      const list = el('ul', { class: 'evidence' });
      for (const e of d.evidence) append(list, el('li', {}, el('span', { class: 'badge info' }, e.source), ' ', e.value, e.ts ? ` (${formatWhen(Date.parse(e.ts))})` : ''));
      append(out, el('h3', {}, 'Identity evidence'), list);
    }
    return out;
  }

  private presence(detail: DeviceDetail): HTMLElement {
    const { from, to, spans } = detail.presence;
    const width = to - from;
    const bar = el('div', { class: 'presence-bar', role: 'img' });
    let presentMs = 0;
    for (const s of spans) {
      const span = el('span');
      // geometry through the CSSOM (allowed by the page's CSP, unlike style attributes)
      span.style.left = `${((s.from - from) / width) * 100}%`;
      span.style.width = `${Math.max(0.4, ((s.to - s.from) / width) * 100)}%`;
      span.title = `${formatDateTime(s.from)} – ${formatDateTime(s.to)}`;
      bar.append(span);
      presentMs += s.to - s.from;
    }
    const days = Math.round(width / 86_400_000);
    bar.setAttribute('aria-label', `Present ${Math.round((presentMs / width) * 100)} % of the last ${days} days, in ${spans.length} spans`);
    const axis = el('div', { class: 'presence-axis', 'aria-hidden': 'true' }, el('span', {}, formatWhen(from)), el('span', {}, 'now'));
    return el('section', {}, el('h3', {}, `Presence, last ${days} days`), bar, axis);
  }

  private addresses(detail: DeviceDetail): HTMLElement {
    const tbody = el('tbody');
    for (const h of detail.ip_history) {
      append(
        tbody,
        el(
          'tr',
          {},
          el('td', {}, h.ip, h.current ? ' ' : '', h.current ? el('span', { class: 'badge good' }, 'current') : null),
          el('td', {}, h.first_seen === null ? 'before the event log' : formatDateTime(h.first_seen)),
          el('td', {}, h.last_seen === null ? '—' : formatDateTime(h.last_seen)),
        ),
      );
    }
    const table = el('table', { class: 'small' }, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Address'), el('th', { scope: 'col' }, 'First'), el('th', { scope: 'col' }, 'Last'))), tbody);
    return el('section', {}, el('h3', {}, 'IP addresses'), detail.ip_history.length ? table : el('p', { class: 'muted' }, 'None recorded.'));
  }

  private anomaly(detail: DeviceDetail): HTMLElement | null {
    const a = detail.anomaly;
    if (!a) return null;
    const head =
      a.score === null
        ? `The model of ${a.interface} is ${a.state} (${a.samples} sweeps so far).`
        : `Latest sweep of ${a.interface}: score ${a.score.toFixed(3)}${a.threshold === null ? '' : ` (threshold ${a.threshold.toFixed(3)})`}${a.anomalous ? ' — anomalous' : ''}.`;
    const out = el('section', {}, el('h3', {}, 'Anomaly'), el('p', { class: a.anomalous ? 'error' : '' }, head));
    const mine = a.devices.filter((c) => c.mac === detail.device.mac);
    if (mine.length) {
      const ul = el('ul');
      for (const c of mine) append(ul, el('li', {}, `${c.detector} since ${formatWhen(c.since * 1000)} (weight ${c.weight.toFixed(2)})`));
      append(out, el('p', {}, 'This device is among those behind the score:'), ul);
    }
    const top = a.top.filter((t) => t.weight >= 0.1);
    if (top.length) {
      const ul = el('ul');
      for (const t of top) append(ul, el('li', {}, `${t.feature} = ${t.value} (weight ${t.weight.toFixed(2)})`));
      append(out, el('p', {}, 'What drives the score (for the whole network, not this device alone):'), ul);
    }
    return out;
  }

  private events(detail: DeviceDetail): HTMLElement {
    const ol = el('ol', { class: 'events' });
    for (const e of detail.events) {
      append(
        ol,
        el(
          'li',
          {},
          el('time', { datetime: e.ts }, formatWhen(Date.parse(e.ts))),
          ' ',
          el('span', { class: `badge ${eventTone(e.kind)}` }, EVENT_LABELS[e.kind] ?? e.kind),
          ' ',
          e.ip ?? '',
          ' ',
          el('span', { class: 'muted' }, eventSummary(e)),
        ),
      );
    }
    return el('section', {}, el('h3', {}, `Events, last days (${detail.events.length})`), detail.events.length ? ol : el('p', { class: 'muted' }, 'None recorded.'));
  }
}
