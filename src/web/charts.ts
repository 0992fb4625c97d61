// Two charts from the exporter's own history (/api/history): devices present per interface, and
// the anomaly score against its threshold. uPlot (served by the exporter from its npm package) is
// loaded after the table, so the device list never waits for the charts.
import type uPlot from 'uplot';
import { el, replaceChildren } from './dom.js';
import type { Anomaly, History } from './types.js';

type UPlotClass = typeof uPlot;
let uplotModule: Promise<UPlotClass> | null = null;
const loadUPlot = (): Promise<UPlotClass> =>
  (uplotModule ??= (import('./vendor/uplot.js' as string) as Promise<{ default: UPlotClass }>).then((m) => m.default));

const css = (name: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const PALETTE = ['--chart-1', '--chart-2', '--chart-3', '--chart-4'];

export class Charts {
  private range: '24h' | '7d' = '24h';
  private history: History | null = null;
  private presencePlot: uPlot | null = null;
  private anomalyPlot: uPlot | null = null;
  private anomalyIface = '';
  private loading = 0;

  constructor(
    private readonly presenceBox: HTMLElement,
    private readonly anomalyBox: HTMLElement,
    private readonly rangeButtons: HTMLButtonElement[],
    private readonly ifaceSelect: HTMLSelectElement,
    private readonly summaries: { presence: HTMLElement; anomaly: HTMLElement },
  ) {
    for (const b of rangeButtons) {
      b.addEventListener('click', () => {
        this.range = b.dataset.range === '7d' ? '7d' : '24h';
        for (const o of rangeButtons) o.setAttribute('aria-pressed', String(o === b));
        void this.load();
      });
    }
    ifaceSelect.addEventListener('change', () => {
      this.anomalyIface = ifaceSelect.value;
      void this.draw();
    });
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => void this.draw());
    const resize = new ResizeObserver(() => this.resize());
    resize.observe(presenceBox);
    resize.observe(anomalyBox);
  }

  async load(): Promise<void> {
    const n = ++this.loading;
    try {
      const r = await fetch(`/api/history?range=${this.range}`, { headers: { accept: 'application/json' } });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const h = (await r.json()) as History;
      if (n !== this.loading) return;
      this.history = h;
      await this.draw();
    } catch (err) {
      if (n === this.loading) this.summaries.presence.textContent = `History unavailable: ${(err as Error).message}`;
    }
  }

  /** A sweep finished: its point joins the presence chart. */
  addPresence(iface: string, ts: number, present: number): void {
    const line = this.history?.presence;
    if (!line) return;
    const l = (line[iface] ??= { t: [], present: [] });
    if (l.t.length && ts <= l.t[l.t.length - 1]) return;
    l.t.push(ts);
    l.present.push(present);
    this.trim(l.t, l.present);
    void this.draw();
  }

  addAnomaly(a: Anomaly): void {
    if (!this.history || a.score === null || a.ts === null) return;
    const l = (this.history.anomaly[a.interface] ??= { t: [], score: [], threshold: [], anomalous: [] });
    if (l.t.length && a.ts <= l.t[l.t.length - 1]) return;
    l.t.push(a.ts);
    l.score.push(a.score);
    l.threshold.push(a.threshold);
    l.anomalous.push(a.anomalous);
    this.trim(l.t, l.score, l.threshold, l.anomalous);
    void this.draw();
  }

  /** A page left open for weeks keeps only the range it shows. */
  private trim(t: number[], ...columns: unknown[][]): void {
    const start = Date.now() / 1000 - (this.range === '7d' ? 7 : 1) * 86_400;
    let n = 0;
    while (n < t.length && t[n] < start) n++;
    if (!n) return;
    t.splice(0, n);
    for (const c of columns) c.splice(0, n);
  }

  private async draw(): Promise<void> {
    const h = this.history;
    if (!h) return;
    const UPlot = await loadUPlot();
    const ifaces = Object.keys(h.presence).sort();
    const presence = UPlot.join(ifaces.map((i) => [h.presence[i].t, h.presence[i].present]) as uPlot.AlignedData[]);
    // the range asked for, or less when the history is shorter (a new exporter's minutes stay visible)
    const oldest = Math.min(...ifaces.map((i) => h.presence[i].t[0] ?? Infinity));
    const rangeStart = Date.now() / 1000 - (this.range === '7d' ? 7 : 1) * 86_400;
    const from = Number.isFinite(oldest) ? Math.max(rangeStart, oldest - 60) : rangeStart;
    this.presencePlot = this.plot(UPlot, this.presencePlot, this.presenceBox, presence, ifaces.map((i, k) => ({ label: i, stroke: css(PALETTE[k % PALETTE.length]) })), from);
    const now = ifaces.map((i) => `${i}: ${Math.round(h.presence[i].present.at(-1) ?? NaN)}`).join(', ');
    this.summaries.presence.textContent = ifaces.length ? `Devices present at the latest sweep — ${now}.` : 'No sweep recorded in this range yet.';

    const anomalyIfaces = Object.keys(h.anomaly).sort();
    this.updateSelect(anomalyIfaces);
    const a = h.anomaly[this.anomalyIface];
    const data: uPlot.AlignedData = a ? [a.t, a.score, a.threshold] : [[], [], []];
    this.anomalyPlot = this.plot(
      UPlot,
      this.anomalyPlot,
      this.anomalyBox,
      data,
      [
        { label: 'score', stroke: css('--chart-1') },
        { label: 'threshold', stroke: css('--bad'), dash: [6, 4] },
      ],
      from,
    );
    const last = a?.score.at(-1);
    this.summaries.anomaly.textContent = a
      ? `Latest score on ${this.anomalyIface}: ${last?.toFixed(3) ?? '—'}, threshold ${a.threshold.at(-1)?.toFixed(3) ?? '—'}; ${a.anomalous.filter(Boolean).length} anomalous points in this range.`
      : 'No anomaly score yet: the model scores once it has learned a day of sweeps.';
  }

  private updateSelect(ifaces: string[]): void {
    if (!ifaces.includes(this.anomalyIface)) this.anomalyIface = ifaces[0] ?? '';
    const have = [...this.ifaceSelect.options].map((o) => o.value).join('\n');
    if (have !== ifaces.join('\n')) replaceChildren(this.ifaceSelect, ...ifaces.map((i) => el('option', { value: i }, i)));
    this.ifaceSelect.value = this.anomalyIface;
    this.ifaceSelect.disabled = ifaces.length < 2;
  }

  private plot(UPlot: UPlotClass, old: uPlot | null, box: HTMLElement, data: uPlot.AlignedData, series: { label: string; stroke: string; dash?: number[] }[], from: number): uPlot {
    old?.destroy();
    const fg = css('--muted');
    const grid = css('--line');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(200, box.clientWidth),
      height: 180,
      scales: { x: { time: true, min: from, max: Date.now() / 1000 } },
      axes: [axis, { ...axis, size: 48 }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, dash: s.dash, spanGaps: true }))],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    return new UPlot(opts, data, box);
  }

  private resize(): void {
    for (const [p, box] of [
      [this.presencePlot, this.presenceBox],
      [this.anomalyPlot, this.anomalyBox],
    ] as const) {
      if (p && Math.abs(p.width - box.clientWidth) > 4) p.setSize({ width: Math.max(200, box.clientWidth), height: 180 });
    }
  }
}
