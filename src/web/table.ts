// The device table, virtualised: a real <table> in a scrolling box that renders only the rows in
// view (plus a few), so 10 000 devices cost what 40 do. Rows are recycled and updated in place.
// Keyboard: Tab into the table, arrows / Page Up / Page Down / Home / End move, Enter opens.
import { el, setText } from './dom.js';
import { formatWhen } from './format.js';
import { kindOf, type Row, type Sort, type SortKey } from './model.js';

interface Column {
  key: SortKey;
  label: string;
  /** class of the column's cells (narrow screens hide some) */
  cls: string;
  cell(td: HTMLTableCellElement, r: Row, nowMs: number): void;
}

const OVERSCAN = 8;

function textCell(value: (r: Row) => string, empty = '—'): Column['cell'] {
  return (td, r) => {
    const s = value(r);
    setText(td, s || empty);
    // the whole text on hover, as text (a long name is cut by CSS in the cell)
    if (td.title !== s) td.title = s;
  };
}

function badge(td: HTMLTableCellElement, text: string, note: string, tone: string): void {
  // [text node, badge] — rebuilt only when something differs
  const current = `${text}\u0000${note}\u0000${tone}`;
  if (td.dataset.v === current) return;
  td.dataset.v = current;
  td.replaceChildren(document.createTextNode(text));
  if (note) td.append(text ? ' ' : '', el('span', { class: `badge ${tone}` }, note));
}

const COLUMNS: Column[] = [
  {
    key: 'name',
    label: 'Name',
    cls: 'c-name',
    cell: (td, r) => {
      const name = r.d.name ?? '';
      badge(td, name || '—', r.d.critical ? 'critical' : '', 'bad');
      if (td.title !== name) td.title = name;
    },
  },
  { key: 'kind', label: 'Kind', cls: 'c-kind', cell: textCell((r) => kindOf(r.d)) },
  { key: 'os', label: 'OS', cls: 'c-os', cell: textCell((r) => r.d.os ?? '') },
  { key: 'vendor', label: 'Vendor', cls: 'c-vendor', cell: textCell((r) => r.d.vendor) },
  {
    key: 'ip',
    label: 'IP',
    cls: 'c-ip',
    cell: (td, r) => {
      badge(td, r.d.ip ?? '—', r.d.ips.length > 1 ? `+${r.d.ips.length - 1}` : '', 'info');
      const all = r.d.ips.join(', ');
      if (td.title !== all) td.title = all;
    },
  },
  { key: 'mac', label: 'MAC', cls: 'c-mac', cell: (td, r) => badge(td, r.d.mac, r.d.randomized ? 'random' : '', 'info') },
  { key: 'interface', label: 'Interface', cls: 'c-iface', cell: textCell((r) => r.d.interface) },
  {
    key: 'present',
    label: 'Presence',
    cls: 'c-state',
    cell: (td, r) => (r.d.present ? badge(td, '', 'present', 'good') : badge(td, 'absent', '', '')),
  },
  { key: 'first', label: 'First seen', cls: 'c-first', cell: (td, r, now) => setText(td, formatWhen(r.firstMs, now)) },
  { key: 'last', label: 'Last seen', cls: 'c-last', cell: (td, r, now) => setText(td, formatWhen(r.lastMs, now)) },
  {
    key: 'known',
    label: 'Known',
    cls: 'c-known',
    cell: (td, r) => (r.d.known ? badge(td, 'known', '', '') : badge(td, '', 'unknown', 'warn')),
  },
];

export class DeviceTable {
  private rows: Row[] = [];
  private readonly tbody: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly top: HTMLTableRowElement;
  private readonly bottom: HTMLTableRowElement;
  private readonly pool: HTMLTableRowElement[] = [];
  private readonly headers = new Map<SortKey, HTMLTableCellElement>();
  private rowH = 34;
  private activeKey: string | null = null;
  private frame = 0;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly onOpen: (r: Row) => void,
    private readonly onSort: (key: SortKey) => void,
  ) {
    this.table = el('table', { class: 'devices', 'aria-label': 'Devices', 'aria-rowcount': '1' });
    const headRow = el('tr', { 'aria-rowindex': '1' });
    for (const c of COLUMNS) {
      const th = el('th', { scope: 'col', class: c.cls, 'aria-sort': 'none' }, el('button', { type: 'button', 'data-sort': c.key }, c.label));
      this.headers.set(c.key, th);
      headRow.append(th);
    }
    this.table.append(el('thead', {}, headRow));
    this.top = el('tr', { class: 'spacer', 'aria-hidden': 'true' }, el('td', { colspan: String(COLUMNS.length) }));
    this.bottom = el('tr', { class: 'spacer', 'aria-hidden': 'true' }, el('td', { colspan: String(COLUMNS.length) }));
    this.tbody = el('tbody', {}, this.top, this.bottom);
    this.table.append(this.tbody);
    scroller.append(this.table);
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(scroller);
    headRow.addEventListener('click', (e) => {
      const key = (e.target as HTMLElement).closest('button')?.dataset.sort as SortKey | undefined;
      if (key) this.onSort(key);
    });
    this.tbody.addEventListener('click', (e) => {
      const tr = (e.target as HTMLElement).closest('tr');
      const r = tr && this.rowOf(tr);
      if (r) {
        this.activeKey = r.key;
        this.onOpen(r);
      }
    });
    scroller.addEventListener('keydown', (e) => this.key(e));
  }

  /** Shows `rows` (already filtered and sorted), keeping the scroll position and the active row. */
  setRows(rows: Row[], sort: Sort): void {
    this.rows = rows;
    this.table.setAttribute('aria-rowcount', String(rows.length + 1));
    for (const [key, th] of this.headers) th.setAttribute('aria-sort', key === sort.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none');
    this.render();
  }

  private rowOf(tr: HTMLTableRowElement): Row | undefined {
    const i = Number(tr.dataset.index);
    return Number.isInteger(i) ? this.rows[i] : undefined;
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  private render(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const total = this.rows.length;
    const headH = this.table.tHead?.offsetHeight ?? 0;
    const view = Math.max(1, this.scroller.clientHeight - headH);
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / this.rowH) - OVERSCAN);
    const last = Math.min(total, Math.ceil((this.scroller.scrollTop + view) / this.rowH) + OVERSCAN);
    const hadFocus = this.tbody.contains(document.activeElement);
    const now = Date.now();
    (this.top.firstChild as HTMLElement).style.height = `${first * this.rowH}px`;
    (this.bottom.firstChild as HTMLElement).style.height = `${(total - last) * this.rowH}px`;
    const needed = last - first;
    while (this.pool.length < needed) this.pool.push(this.newRow());
    let focusRow: HTMLTableRowElement | null = null;
    let anyTabbable = false;
    for (let i = 0; i < this.pool.length; i++) {
      const tr = this.pool[i];
      if (i >= needed) {
        if (tr.parentNode) tr.remove();
        continue;
      }
      const index = first + i;
      const r = this.rows[index];
      tr.dataset.index = String(index);
      tr.setAttribute('aria-rowindex', String(index + 2));
      tr.className = r.d.present ? 'present' : 'absent';
      const active = r.key === this.activeKey;
      tr.tabIndex = active ? 0 : -1;
      anyTabbable ||= active;
      if (active) focusRow = tr;
      COLUMNS.forEach((c, j) => c.cell(tr.cells[j], r, now));
    }
    // the rendered rows, in order, between the spacers
    let next: ChildNode = this.bottom;
    for (let i = needed - 1; i >= 0; i--) {
      const tr = this.pool[i];
      if (tr.nextSibling !== next || tr.parentNode !== this.tbody) this.tbody.insertBefore(tr, next);
      next = tr;
    }
    if (!anyTabbable && needed) {
      const firstInView = this.pool[Math.min(needed - 1, Math.max(0, Math.floor(this.scroller.scrollTop / this.rowH) - first))];
      firstInView.tabIndex = 0;
    }
    if (hadFocus && focusRow) focusRow.focus({ preventScroll: true });
    if (needed && this.pool[0].offsetHeight && Math.abs(this.pool[0].offsetHeight - this.rowH) > 0.5) {
      this.rowH = this.pool[0].offsetHeight; // the CSS row height, once known
      this.schedule();
    }
  }

  private newRow(): HTMLTableRowElement {
    const tr = el('tr');
    for (const c of COLUMNS) tr.append(el('td', { class: c.cls }));
    return tr;
  }

  private key(e: KeyboardEvent): void {
    const total = this.rows.length;
    if (!total) return;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / this.rowH) - 1);
    const focused = document.activeElement instanceof HTMLTableRowElement ? this.rowOf(document.activeElement) : undefined;
    let index = focused ? this.rows.indexOf(focused) : Math.floor(this.scroller.scrollTop / this.rowH) - 1;
    switch (e.key) {
      case 'ArrowDown':
        index++;
        break;
      case 'ArrowUp':
        index--;
        break;
      case 'PageDown':
        index += page;
        break;
      case 'PageUp':
        index -= page;
        break;
      case 'Home':
        index = 0;
        break;
      case 'End':
        index = total - 1;
        break;
      case 'Enter':
      case ' ':
        if (focused) {
          e.preventDefault();
          this.onOpen(focused);
        }
        return;
      default:
        return;
    }
    e.preventDefault();
    index = Math.max(0, Math.min(total - 1, index));
    this.activeKey = this.rows[index].key;
    const headH = this.table.tHead?.offsetHeight ?? 0;
    const top = index * this.rowH;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + this.rowH > this.scroller.scrollTop + this.scroller.clientHeight - headH) this.scroller.scrollTop = top + this.rowH - this.scroller.clientHeight + headH;
    this.render();
    this.pool.find((tr) => Number(tr.dataset.index) === index)?.focus({ preventScroll: true });
  }
}
