// Headless Chromium from Debian (/usr/bin/chromium), driven by playwright-core, running INSIDE a
// lab's network namespace: it reaches the exporter there and nothing outside the lab.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Launches Chromium in network namespace `ns` (playwright talks to it over a pipe, which `ip netns exec` passes on). */
export async function launchInNamespace(ns: string): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-chromium-'));
  const wrapper = join(dir, 'chromium-in-lab');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} --user-data-dir=${join(dir, 'profile')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return chromium.launch({
    executablePath: wrapper,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
}
