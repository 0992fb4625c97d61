// The network namespaces labs live in: `<name>-lab-scanner` and `<name>-lab-devices`, found and
// removed by exact name, and removed at process exit for labs still up.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { run } from './run.js';

export const LAB_NAME_RE = /^[a-z][a-z0-9]{0,7}$/;
const SCANNER_NS_SUFFIX = '-lab-scanner';
const DEVICES_NS_SUFFIX = '-lab-devices';
const NETNS_DIR = '/run/netns';

export const scannerNamespace = (lab: string): string => lab + SCANNER_NS_SUFFIX;
export const devicesNamespace = (lab: string): string => lab + DEVICES_NS_SUFFIX;

export function namespaceExists(ns: string): boolean {
  return existsSync(`${NETNS_DIR}/${ns}`);
}

interface LiveLab {
  readonly scannerNs: string;
  readonly devicesNs: string;
}

// Namespaces of labs that have not been torn down; removed synchronously if the process exits.
const live = new Set<LiveLab>();
let exitHookInstalled = false;

/** Removes the lab's namespaces when this process exits, unless forget() is called first. */
export function removeAtExit(lab: LiveLab): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const l of live) for (const ns of [l.devicesNs, l.scannerNs]) deleteNamespaceSync(ns);
    });
  }
  live.add(lab);
}

export function forget(lab: LiveLab): void {
  live.delete(lab);
}

function deleteNamespaceSync(ns: string): void {
  if (!namespaceExists(ns)) return;
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    /* best effort at exit */
  }
}

export async function deleteNamespace(ns: string): Promise<void> {
  if (!namespaceExists(ns)) return;
  const r = await run('ip', ['netns', 'del', ns]);
  if (r.code !== 0 && namespaceExists(ns)) {
    throw new Error(`lab: could not delete netns ${ns}: ${r.stderr.trim()}`);
  }
}

/** Names of existing lab namespaces whose lab name starts with `prefix`. */
export function listLabNamespaces(prefix = ''): string[] {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((ns) => {
    const suffix = [SCANNER_NS_SUFFIX, DEVICES_NS_SUFFIX].find((s) => ns.endsWith(s));
    if (!suffix) return false;
    const name = ns.slice(0, -suffix.length);
    return LAB_NAME_RE.test(name) && name.startsWith(prefix);
  });
}

/** Removes namespaces left by a crashed run whose lab name starts with `prefix`. */
export async function cleanupStaleLabs(prefix: string): Promise<void> {
  if (!prefix) throw new Error('lab: cleanupStaleLabs needs a non-empty prefix');
  for (const ns of listLabNamespaces(prefix)) await deleteNamespace(ns);
}

/** Removes the lab called exactly `name` (e.g. one left running by `lab up`); false if none existed. */
export async function removeLab(name: string): Promise<boolean> {
  if (!LAB_NAME_RE.test(name)) throw new Error(`lab: invalid lab name "${name}"`);
  const namespaces = [devicesNamespace(name), scannerNamespace(name)].filter(namespaceExists);
  for (const ns of namespaces) await deleteNamespace(ns);
  return namespaces.length > 0;
}
