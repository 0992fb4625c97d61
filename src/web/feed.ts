// The live events feed: newest first, the last few hundred, each naming its device when the page knows it.
import { el } from './dom.js';
import { EVENT_LABELS, eventSummary, eventTone, formatWhen } from './format.js';
import type { Anomaly, EventItem } from './types.js';

const KEEP = 300;

export class EventFeed {
  private readonly list: HTMLOListElement;
  private readonly note: HTMLElement;
  private skipped = 0;

  constructor(
    container: HTMLElement,
    private readonly nameOf: (iface: string, mac: string) => string | null,
    private readonly onOpen: (iface: string, mac: string) => void,
  ) {
    this.note = el('p', { class: 'muted', hidden: true });
    this.list = el('ol', { class: 'feed' });
    container.append(this.note, this.list);
    this.list.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest('button');
      if (b?.dataset.mac && b.dataset.iface) this.onOpen(b.dataset.iface, b.dataset.mac);
    });
  }

  /** Replaces the feed (a snapshot's recent events come newest first). */
  reset(newestFirst: EventItem[]): void {
    this.list.replaceChildren(...newestFirst.slice(0, KEEP).map((e) => this.item(e)));
    this.skipped = 0;
    this.note.hidden = true;
  }

  /** Live events, oldest first; `skipped`: events of a flood the exporter did not send. */
  add(oldestFirst: EventItem[], skipped = 0): void {
    const items = oldestFirst.map((e) => this.item(e)).reverse();
    this.list.prepend(...items);
    while (this.list.childElementCount > KEEP) this.list.lastElementChild!.remove();
    if (skipped) {
      this.skipped += skipped;
      this.note.hidden = false;
      this.note.textContent = `${this.skipped} more events arrived in floods and are not shown here; the event log (/api/events) has them.`;
    }
  }

  anomaly(a: Anomaly): void {
    if (!a.anomalous || a.score === null || a.ts === null) return;
    const why = a.detectors.slice(0, 3).map((d) => `${d.name} ${d.value.toFixed(2)}`);
    this.add([
      {
        ts: new Date(a.ts * 1000).toISOString(),
        interface: a.interface,
        kind: 'anomaly',
        mac: null,
        ip: null,
        detail: { score: a.score.toFixed(3), threshold: a.threshold?.toFixed(3) ?? '', detectors: why.join(', ') },
      },
    ]);
  }

  private item(e: EventItem): HTMLLIElement {
    const name = e.mac ? this.nameOf(e.interface, e.mac) : null;
    const who = e.mac ? el('button', { type: 'button', class: 'link', 'data-mac': e.mac, 'data-iface': e.interface }, name || e.mac) : el('span', {}, e.interface);
    return el(
      'li',
      { class: `tone-${eventTone(e.kind)}` },
      el('time', { datetime: e.ts }, formatWhen(Date.parse(e.ts))),
      el('span', { class: `badge ${eventTone(e.kind)}` }, EVENT_LABELS[e.kind] ?? e.kind),
      who,
      e.ip ? el('span', { class: 'ip' }, e.ip) : null,
      el('span', { class: 'what' }, eventSummary(e)),
    );
  }
}
