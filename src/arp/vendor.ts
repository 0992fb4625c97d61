import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// Loaded on first use: `npm run build` writes dist/oui.tsv (compact); running from
// source falls back to oui-data's JSON.
let table: Map<string, string> | null = null;

function load(): Map<string, string> {
  const map = new Map<string, string>();
  const compact = fileURLToPath(new URL('../oui.tsv', import.meta.url));
  if (existsSync(compact)) {
    for (const line of readFileSync(compact, 'utf8').split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) map.set(line.slice(0, tab), line.slice(tab + 1));
    }
  } else {
    const require = createRequire(import.meta.url);
    const data = JSON.parse(readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
    for (const [prefix, org] of Object.entries(data)) map.set(prefix, org.split('\n')[0].trim());
  }
  return map;
}

// MA-L blocks the IEEE keeps for MA-M/MA-S assignments: the owner of a sub-block not (yet)
// listed is unknown, not the registration authority itself.
const REGISTRATION_AUTHORITY = 'IEEE Registration Authority';

/** Organisation registered for the MAC's MA-S, MA-M or MA-L block; '' if none. */
export function vendorOf(mac: string): string {
  table ??= load();
  const hex = mac.replace(/[:-]/g, '').toUpperCase();
  const small = table.get(hex.slice(0, 9)) ?? table.get(hex.slice(0, 7));
  if (small !== undefined) return small;
  const org = table.get(hex.slice(0, 6)) ?? '';
  return org === REGISTRATION_AUTHORITY ? '' : org;
}

/** Locally administered (U/L bit set): randomized/private MACs of phones, laptops, VMs. */
export function isRandomizedMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return (first & 0x02) === 0x02;
}

export function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}
