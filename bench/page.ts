/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// `npm run bench` case "page": the live page with 10 000 devices in Debian's headless Chromium,
// run inside the lab's scanner namespace next to the exporter. Measures what a user feels: the
// time until the table shows every device, a search, a sort, scrolling, and the main thread's long
// tasks while a sweep of all 10 000 devices streams in. A report, never a pass/fail test.
import type { Lab } from '../src/lab/lab.js';
import { launchInNamespace } from '../test/helpers/browser.js';

export interface PageResult {
  devices: number;
  /** navigation start → the table shows every device (ms), one per fresh load */
  loadMs: number[];
  /** long tasks (> 50 ms) during those loads: the longest, and the blocking time (sum of time past 50 ms) */
  loadLongestTaskMs: number[];
  loadBlockingMs: number[];
  /** input → table updated (ms) */
  searchMs: number[];
  sortMs: number[];
  /** frame times while scrolling through the whole table (ms) */
  scrollFrameP95Ms: number;
  scrollFrameMaxMs: number;
  /** a sweep of every device requested → the table shows the first row's new last-seen time (ms; includes the sweep itself) */
  sweepShownMs: number;
  /** main thread during a live sweep of every device: the longest task and the blocking time */
  sweepLongestTaskMs: number;
  sweepBlockingMs: number;
  /** JS heap of the page after it all (MB) */
  heapMb: number;
}

const LOADS = 5;

/** Waits (in the page) until the first data row's text differs from `before`; returns the ms it took from `t0`. */
const ROW_CHANGED = `(async ([before, t0]) => {
  const first = () => document.querySelector('table.devices tbody tr:not(.spacer)')?.textContent ?? '';
  const deadline = performance.now() + 10000;
  while (first() === before && performance.now() < deadline) await new Promise((r) => requestAnimationFrame(r));
  return performance.now() - t0;
})`;

export async function measurePage(lab: Lab, port: number, devices: number, sweep: () => Promise<void>): Promise<PageResult> {
  const browser = await launchInNamespace(lab.scannerNs);
  const url = `http://127.0.0.1:${port}/`;
  const result: PageResult = {
    devices, loadMs: [], loadLongestTaskMs: [], loadBlockingMs: [], searchMs: [], sortMs: [],
    scrollFrameP95Ms: NaN, scrollFrameMaxMs: NaN, sweepShownMs: NaN, sweepLongestTaskMs: NaN, sweepBlockingMs: NaN, heapMb: NaN,
  };
  try {
    let context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    for (let i = 0; i < LOADS; i++) {
      await context.close();
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } }); // no cache, no state
      await context.addInitScript(() => {
        const w = window as unknown as { __longTasks: number[] };
        w.__longTasks = [];
        new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
      });
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction((n) => document.getElementById('counts')?.textContent?.startsWith(`${n} devices`), devices, { timeout: 60_000 });
      await page.waitForFunction(() => performance.getEntriesByName('ghosthunter:table-shown').length > 0, null, { timeout: 60_000 });
      const m = await page.evaluate(() => {
        const tasks = (window as unknown as { __longTasks: number[] }).__longTasks;
        return {
          shown: performance.getEntriesByName('ghosthunter:table-shown')[0].startTime,
          longest: Math.max(0, ...tasks),
          blocking: tasks.reduce((s, d) => s + Math.max(0, d - 50), 0),
        };
      });
      result.loadMs.push(m.shown);
      result.loadLongestTaskMs.push(m.longest);
      result.loadBlockingMs.push(m.blocking);
    }
    const page = context.pages()[0];
    for (const text of ['198.18.7', '00:16:3e:12:1', 'xensource 198.18.3.1', '']) {
      result.searchMs.push(
        await page.evaluate(`(async (text) => {
          const input = document.getElementById('search');
          const before = document.querySelector('table.devices tbody tr:not(.spacer)')?.textContent ?? '';
          const t0 = performance.now();
          input.value = text;
          input.dispatchEvent(new Event('input'));
          return ${ROW_CHANGED}([before, t0]);
        })(${JSON.stringify(text)})`),
      );
    }
    for (const column of ['c-ip', 'c-mac', 'c-mac', 'c-ip']) { // each click changes the first row (ip ↓, mac ↑, mac ↓, ip ↑)
      result.sortMs.push(
        await page.evaluate(`(async (column) => {
          const before = document.querySelector('table.devices tbody tr:not(.spacer)')?.textContent ?? '';
          const t0 = performance.now();
          document.querySelector('th.' + column + ' button').click();
          return ${ROW_CHANGED}([before, t0]);
        })(${JSON.stringify(column)})`),
      );
    }
    const frames = await page.evaluate(async () => {
      const box = document.getElementById('table-scroll')!;
      const out: number[] = [];
      let last = performance.now();
      for (let y = 0; y < box.scrollHeight; y += box.clientHeight * 0.8) {
        box.scrollTop = y;
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        out.push(now - last);
        last = now;
      }
      return out.sort((a, b) => a - b);
    });
    result.scrollFrameP95Ms = frames[Math.floor(frames.length * 0.95)];
    result.scrollFrameMaxMs = frames[frames.length - 1];
    await page.evaluate(() => ((window as unknown as { __longTasks: number[] }).__longTasks.length = 0));
    // the first row (sorted by IP) shows its new last-seen time once the sweep's changes arrive
    const shown = page.evaluate(`(async () => {
      const before = document.querySelector('table.devices tbody tr:not(.spacer)')?.textContent ?? '';
      await new Promise((r) => setTimeout(r, 1100)); // last-seen times show seconds: let the clock move on
      await ${ROW_CHANGED}([before, 0]);
      return Date.now();
    })()`) as Promise<number>;
    await new Promise((r) => setTimeout(r, 1200));
    const swept = Date.now();
    await sweep();
    result.sweepShownMs = (await shown) - swept;
    await page.waitForTimeout(2000); // the rest of the sweep's batches are drawn
    const live = await page.evaluate(() => {
      const tasks = (window as unknown as { __longTasks: number[] }).__longTasks;
      return { longest: Math.max(0, ...tasks), blocking: tasks.reduce((s, d) => s + Math.max(0, d - 50), 0) };
    });
    result.sweepLongestTaskMs = live.longest;
    result.sweepBlockingMs = live.blocking;
    const cdp = await context.newCDPSession(page);
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    result.heapMb = heap.usedSize / 2 ** 20;
    await context.close();
  } finally {
    await browser.close();
  }
  return result;
}
