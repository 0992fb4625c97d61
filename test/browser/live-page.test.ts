/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The live page in a real browser: Debian's headless Chromium (driven by playwright-core) runs
// inside a lab's scanner namespace next to the exporter. Devices join, leave and change address
// in the lab, and the page shows each change without a reload; search and filters narrow the
// table; hostile names and vendors stay text; the page follows an exporter restart; with TLS and
// basic auth the page and its stream refuse a browser without credentials.
// Screenshots (light, dark, phone) go to .tmp/screenshots, or to docs/screenshots with
// GHOSTHUNTER_UPDATE_SCREENSHOTS=1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Lab, cleanupStaleLabs } from '../../src/lab/lab.js';
import { Store } from '../../src/store/store.js';
import { launchInNamespace } from '../helpers/browser.js';
import { REPO, http, startExporter, tempDir, waitFor, writeConfig, type RunningExporter } from '../helpers/exporter.js';

const PREFIX = 'gbr';
const SHOTS = join(REPO, process.env.GHOSTHUNTER_UPDATE_SCREENSHOTS ? 'docs/screenshots' : '.tmp/screenshots');
const DAY = 86_400_000;
/** Upper bound for the page to show a change; generous for a busy machine, never a timing assertion. */
const SHOWN_WITHIN = 30_000;

const HOSTILE_NAME = `<img src=x onerror="window.__pwned='name'">"'&lt;` + 'N'.repeat(4096);
const HOSTILE_VENDOR = `<script>window.__pwned='vendor'</script><img src=x onerror=window.__pwned='vendor2'>` + 'V'.repeat(4096);
const HOSTILE_MAC = '00:16:3e:12:00:fe';

const macOf = (ip: string) => `00:16:3e:12:00:${Number(ip.split('.')[3]).toString(16).padStart(2, '0')}`;

/** The exporter's store as a week of use left it: chart history, an old device with a hostile vendor, hostile event details. */
function seedStore(dir: string, iface: string): void {
  const store = new Store(dir);
  const now = Date.now();
  const sweeps = [];
  const scores = [];
  for (let t = now - 7 * DAY; t < now - 60_000; t += 30 * 60_000) {
    const hour = new Date(t).getHours();
    const present = 6 + (hour >= 8 && hour < 19 ? 5 : 0) + ((t / 1800_000) % 3 | 0);
    sweeps.push({ interface: iface, tsMs: t, durationMs: 50, ok: true, devices: [], present });
    const spike = Math.abs(t - (now - 2 * DAY)) < 40 * 60_000;
    scores.push({ interface: iface, tsMs: t, score: spike ? 0.81 : 0.12 + 0.05 * Math.sin(t / 7_200_000), threshold: 0.55, anomalous: spike });
  }
  store.write({
    devices: [
      { interface: iface, mac: HOSTILE_MAC, ips: ['198.18.0.254'], vendor: HOSTILE_VENDOR, randomized: false, firstSeenMs: now - 3 * DAY, lastSeenMs: now - 2 * DAY, lastRttMs: null, present: false, absentSinceMs: now - 2 * DAY },
    ],
    removed: [],
    events: [
      { tsMs: now - 3 * DAY, interface: iface, kind: 'new_device', mac: HOSTILE_MAC, ip: '198.18.0.254', detail: { vendor: HOSTILE_VENDOR, randomized: false } },
      { tsMs: now - 2 * DAY, interface: iface, kind: '<b onmouseover=alert(1)>odd</b>', mac: HOSTILE_MAC, ip: null, detail: { note: `<img src=x onerror="window.__pwned='event'">` } },
      { tsMs: now - 2 * DAY, interface: iface, kind: 'device_gone', mac: HOSTILE_MAC, ip: '198.18.0.254', detail: { last_seen: new Date(now - 2 * DAY).toISOString() } },
    ],
    sweeps,
    gateways: [],
    scores,
  });
  store.close();
}

function config(lab: Lab, dataDir: string): string {
  return `interfaces:
  - name: ${lab.scannerIf}
    cidrs: [198.18.0.0/24]
scan:
  interval: 1s
  timeout: 150ms
  retries: 1
presence:
  absent_after: 3s
storage:
  path: ${dataDir}
known_devices:
  - {mac: "${macOf('198.18.0.1')}", name: gateway, class: router, critical: true}
  - {mac: "${macOf('198.18.0.2')}", name: nas, class: storage}
  - {mac: "${macOf('198.18.0.3')}", name: office-printer, class: printer}
  - {mac: "${macOf('198.18.0.4')}", name: living-room-tv, class: tv}
  - {mac: "${HOSTILE_MAC}", name: ${JSON.stringify(HOSTILE_NAME)}}
`;
}

/** Watches for script the page should never run: CSP violations and the hostile payloads' global. */
async function guard(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

async function violations(page: Page): Promise<{ violations: string[]; pwned: unknown }> {
  return page.evaluate(() => {
    const w = window as unknown as { __violations: string[]; __pwned?: unknown };
    return { violations: w.__violations, pwned: w.__pwned };
  });
}

/** The visible data rows' texts (the table renders only what is in view). */
const rows = (page: Page): Promise<string[]> =>
  page.$$eval('table.devices tbody tr:not(.spacer)', (trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => c.textContent).join(' | ')));

async function search(page: Page, text: string): Promise<void> {
  await page.fill('#search', text);
}

async function resetFilters(page: Page): Promise<void> {
  await search(page, '');
  for (const id of ['#f-present', '#f-unknown', '#f-new']) await page.setChecked(id, false);
  await page.selectOption('#f-iface', '');
}

async function waitForRows(page: Page, what: string, check: (rows: string[]) => boolean): Promise<string[]> {
  return waitFor(what, async () => {
    const r = await rows(page);
    return check(r) ? r : undefined;
  }, SHOWN_WITHIN / 250);
}

const feedText = (page: Page): Promise<string> => page.$eval('#feed', (e) => e.textContent ?? '');

describe('live page in headless Chromium against a lab', { timeout: 600_000 }, () => {
  let lab: Lab;
  let dir: string;
  let configFile: string;
  let exporter: RunningExporter;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;

  before(async () => {
    // the exporter runs from source, the page from dist/web: build the page from this checkout's source
    execFileSync('npm', ['run', '--silent', 'build:web'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    await cleanupStaleLabs(PREFIX);
    lab = await Lab.up(8, { name: `${PREFIX}a`, cidr: '198.18.0.0/24' });
    dir = tempDir('browser');
    seedStore(join(dir, 'data'), lab.scannerIf);
    configFile = writeConfig(dir, config(lab, join(dir, 'data')));
    exporter = startExporter(lab, [`--config.file=${configFile}`]);
    base = `http://127.0.0.1:${exporter.port}`;
    await waitFor('the exporter to be ready', async () => (await http(lab, `${base}/-/ready`)).status === 200);
    browser = await launchInNamespace(lab.scannerNs);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await guard(context);
    page = await context.newPage();
    const response = await page.goto(`${base}/`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    assert.doesNotMatch(response?.headers()['content-security-policy'] ?? '', /unsafe-inline/);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live', null, { timeout: SHOWN_WITHIN });
    // a reload would lose this
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
  });

  after(async () => {
    await browser?.close();
    await exporter?.stop();
    await lab?.down();
    await cleanupStaleLabs(PREFIX);
  });

  const sameDocument = () => page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);

  test('lists every lab device and the device restored from the store', async () => {
    await resetFilters(page);
    const r = await waitForRows(page, 'every lab device', (r) => lab.devices().every((d) => r.some((row) => row.includes(d.mac) && row.includes('present'))));
    assert.ok(r.some((row) => row.includes(HOSTILE_MAC) && row.includes('absent')));
    assert.ok(r.some((row) => row.startsWith('gateway critical | router')), r.join('\n'));
    assert.match(await page.$eval('#counts', (e) => e.textContent ?? ''), /^\d+ devices · \d+ present · \d+ unknown$/);
  });

  test('a device joining, leaving and changing its address shows without a reload', async () => {
    await resetFilters(page);
    const joined = await lab.addDevice('198.18.0.20');
    await search(page, joined.mac);
    await waitForRows(page, 'the new device, present', (r) => r.length === 1 && r[0].includes('present') && r[0].includes('198.18.0.20'));
    await waitFor('a "new" event in the feed', async () => (await feedText(page)).includes(joined.mac));

    await lab.removeDevice(joined.ip);
    await waitForRows(page, 'the device absent', (r) => r.length === 1 && r[0].includes('absent'));
    await waitFor('a "gone" event in the feed', async () => /gone/.test(await feedText(page)));

    const mover = lab.devices().find((d) => d.ip === '198.18.0.6')!;
    await search(page, mover.mac);
    await waitForRows(page, 'the mover at its first address', (r) => r.length === 1 && r[0].includes('198.18.0.6'));
    await lab.removeDevice(mover.ip);
    await lab.addDevice('198.18.0.36', mover.mac);
    await waitForRows(page, 'the mover at its new address', (r) => r.length === 1 && r[0].includes('198.18.0.36') && r[0].includes('+1'));
    await waitFor('an IP change in the feed', async () => (await feedText(page)).includes('198.18.0.6 → 198.18.0.36'));
    assert.ok(await sameDocument(), 'the page was not reloaded');
  });

  test('search and filters narrow the table', async () => {
    await resetFilters(page);
    await search(page, 'printer');
    assert.deepEqual((await waitForRows(page, 'the printer alone', (r) => r.length === 1)).map((r) => r.split(' | ')[0]), ['office-printer']);
    await search(page, 'office 198.18.0.3');
    await waitForRows(page, 'all terms must match', (r) => r.length === 1);
    await search(page, 'no-such-device');
    await waitForRows(page, 'nothing', (r) => r.length === 0);
    await search(page, '');

    await page.setChecked('#f-unknown', true);
    let r = await waitForRows(page, 'unknown devices only', (r) => !r.some((row) => row.includes('gateway')));
    assert.ok(r.every((row) => row.endsWith('unknown')), r.join('\n'));
    await page.setChecked('#f-unknown', false);

    await page.setChecked('#f-present', true);
    r = await waitForRows(page, 'present devices only', (r) => r.length > 0 && r.every((row) => row.includes('present')));
    assert.ok(!r.some((row) => row.includes(HOSTILE_MAC)));
    await page.setChecked('#f-present', false);

    await page.setChecked('#f-new', true);
    r = await waitForRows(page, 'devices new today', (r) => r.length > 0 && !r.some((row) => row.includes(HOSTILE_MAC)));
    assert.ok(r.some((row) => row.includes(macOf('198.18.0.1'))));
    await page.setChecked('#f-new', false);

    const options = await page.$$eval('#f-iface option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(options, ['', lab.scannerIf]);
    await page.selectOption('#f-iface', lab.scannerIf);
    await waitForRows(page, 'the one interface', (r) => r.length > 5);

    // sorting: by name, named devices first
    await resetFilters(page);
    await page.click('th.c-name button');
    r = await waitForRows(page, 'sorted by name', (r) => r[0]?.startsWith('<img'));
    assert.deepEqual(r.slice(1, 5).map((row) => row.split(' | ')[0]), ['gateway critical', 'living-room-tv', 'nas', 'office-printer']);
    assert.equal(await page.getAttribute('th.c-name', 'aria-sort'), 'ascending');
    await page.click('th.c-ip button');
  });

  test('hostile names, vendors and event details show as text and run nothing', async () => {
    await resetFilters(page);
    await search(page, HOSTILE_MAC);
    const [row] = await waitForRows(page, 'the hostile device', (r) => r.length === 1);
    assert.ok(row.startsWith(HOSTILE_NAME), row.slice(0, 200));
    assert.ok(row.includes(HOSTILE_VENDOR));
    assert.equal(await page.locator('img[src=x], script:not([src]), b[onmouseover]').count(), 0);
    // the dialog shows them whole
    await page.click('table.devices tbody tr:not(.spacer)');
    await page.waitForSelector('dialog.detail[open] .events li');
    const dialog = await page.$eval('dialog.detail', (e) => e.textContent ?? '');
    assert.ok(dialog.includes(HOSTILE_NAME) && dialog.includes(HOSTILE_VENDOR));
    assert.ok(dialog.includes(`<b onmouseover=alert(1)>odd</b>`), 'an unknown event kind shows as it is');
    assert.equal(await page.locator('img[src=x], b[onmouseover]').count(), 0);
    await page.keyboard.press('Escape');
    assert.ok((await feedText(page)).length > 0);
    assert.deepEqual(await violations(page), { violations: [], pwned: undefined });
  });

  test('the device detail opens from the keyboard and shows addresses, presence and events', async () => {
    await resetFilters(page);
    const mover = macOf('198.18.0.6');
    await search(page, mover);
    await waitForRows(page, 'the mover', (r) => r.length === 1);
    await page.focus('table.devices tbody tr[tabindex="0"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog.detail[open] table.small tbody tr');
    const detail = await page.$eval('dialog.detail', (e) => e.textContent ?? '');
    assert.match(detail, /198\.18\.0\.36 current/);
    assert.match(detail, /198\.18\.0\.6/);
    assert.match(detail, /Presence, last 7 days/);
    assert.match(detail, /IP change/);
    assert.ok((await page.locator('dialog.detail .presence-bar span').count()) >= 1);
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('dialog.detail[open]').count(), 0);
  });

  test('the charts draw the stored week and follow new sweeps', async () => {
    await page.waitForSelector('#chart-presence canvas');
    await page.waitForSelector('#chart-anomaly canvas');
    assert.match(await page.$eval('#anomaly-summary', (e) => e.textContent ?? ''), /threshold 0\.55/);
    await page.click('button[data-range="7d"]');
    await waitFor('a week of history', async () => /[1-9]\d* anomalous points/.test(await page.$eval('#anomaly-summary', (e) => e.textContent ?? '')));
    assert.equal(await page.getAttribute('button[data-range="7d"]', 'aria-pressed'), 'true');
    await page.click('button[data-range="24h"]');
  });

  test('screenshots: light, dark and phone width', async () => {
    mkdirSync(SHOTS, { recursive: true });
    await resetFilters(page);
    await page.setChecked('#f-present', true);
    await page.click('button[data-range="7d"]');
    await page.waitForTimeout(1000); // let the charts redraw before the picture (not an assertion)
    await page.screenshot({ path: join(SHOTS, 'live-page-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(SHOTS, 'live-page-dark.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(SHOTS, 'live-page-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.click('button[data-range="24h"]');
  });

  test('the page follows an exporter restart: reconnects, takes a fresh snapshot and goes on live', async () => {
    await resetFilters(page);
    assert.equal(await exporter.stop('SIGTERM'), 0);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'reconnecting…', null, { timeout: SHOWN_WITHIN });
    exporter = startExporter(lab, [`--config.file=${configFile}`], { port: exporter.port });
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live', null, { timeout: 60_000 });
    const late = await lab.addDevice('198.18.0.40');
    await search(page, late.mac);
    await waitForRows(page, 'a device joining after the restart', (r) => r.length === 1 && r[0].includes('present'));
    assert.ok(await sameDocument(), 'the page was not reloaded');
    assert.deepEqual(await violations(page), { violations: [], pwned: undefined });
  });
});

describe('live page with TLS and basic auth', { timeout: 300_000 }, () => {
  let lab: Lab;
  let exporter: RunningExporter;
  let browser: Browser;
  let base: string;

  before(async () => {
    await cleanupStaleLabs(`${PREFIX}t`);
    lab = await Lab.up(3, { name: `${PREFIX}t` });
    const dir = tempDir('browser-tls');
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const web = writeConfig(dir, `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  viewer: "${bcrypt.hashSync('s3cret', 10)}"\n`, 'web.yml');
    const cfg = writeConfig(dir, `interfaces: [{name: ${lab.scannerIf}, cidrs: [198.18.0.0/29]}]\nscan: {interval: 1s}\nstorage: {path: ${join(dir, 'data')}}\n`);
    exporter = startExporter(lab, [`--config.file=${cfg}`, `--web.config.file=${web}`]);
    base = `https://127.0.0.1:${exporter.port}`;
    await waitFor('the exporter over TLS', async () => (await http(lab, `${base}/-/healthy`, ['-k', '-u', 'viewer:s3cret'])).status === 200);
    browser = await launchInNamespace(lab.scannerNs);
  });

  after(async () => {
    await browser?.close();
    await exporter?.stop();
    await lab?.down();
  });

  test('without credentials the page, its files, its stream and its JSON refuse', async () => {
    for (const path of ['/', '/assets/main.js', '/assets/vendor/uplot.js', '/api/stream', '/api/history', '/api/device?interface=x&mac=y']) {
      assert.equal((await http(lab, `${base}${path}`, ['-k'])).status, 401, path);
      assert.equal((await http(lab, `${base}${path}`, ['-k', '-u', 'viewer:wrong'])).status, 401, path);
    }
    // headless Chromium cannot ask for a password: the challenge ends the navigation, or it shows the 401
    for (const httpCredentials of [undefined, { username: 'viewer', password: 'wrong' }]) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, httpCredentials });
      const page = await context.newPage();
      const outcome = await page.goto(`${base}/`).then(
        (r) => `status ${r?.status()}`,
        (err: Error) => err.message,
      );
      assert.match(outcome, /^status 401$|ERR_INVALID_AUTH_CREDENTIALS/, `credentials ${JSON.stringify(httpCredentials)}`);
      assert.equal(await page.locator('#status').count(), 0);
      await context.close();
    }
  });

  test('with credentials the page loads over TLS and goes live', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, httpCredentials: { username: 'viewer', password: 's3cret' } });
    await guard(context);
    const page = await context.newPage();
    const r = await page.goto(`${base}/`);
    assert.equal(r?.status(), 200);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live', null, { timeout: SHOWN_WITHIN });
    await waitForRows(page, 'the lab devices', (rs) => lab.devices().every((d) => rs.some((row) => row.includes(d.mac))));
    assert.deepEqual(await violations(page), { violations: [], pwned: undefined });
    await context.close();
  });
});
