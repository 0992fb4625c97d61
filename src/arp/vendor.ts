import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from '../fs-sync.js';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// `npm run build` writes dist/oui.tsv (compact: "PREFIX<TAB>Organisation" lines, sorted);
// running from source falls back to oui-data's JSON.
const OUI_TSV = fileURLToPath(new URL('../oui.tsv', import.meta.url));

// Loaded on first use.
let table: Map<string, string> | null = null;

function load(): Map<string, string> {
  const map = new Map<string, string>();
  if (existsSync(OUI_TSV)) {
    for (const line of readFileSync(OUI_TSV, 'utf8').split('\n')) {
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
const maLOwner = (org: string | undefined): string => (org === undefined || org === REGISTRATION_AUTHORITY ? '' : org);

const hexOf = (mac: string): string => mac.replace(/[:-]/g, '').toUpperCase();

/** MA-S, then MA-M, then MA-L block of the MAC in `blocks`. */
function lookup(blocks: ReadonlyMap<string, string>, mac: string): string {
  const hex = hexOf(mac);
  const small = blocks.get(hex.slice(0, 9)) ?? blocks.get(hex.slice(0, 7));
  return small ?? maLOwner(blocks.get(hex.slice(0, 6)));
}

/** Organisation registered for the MAC's MA-S, MA-M or MA-L block; '' if none. */
export function vendorOf(mac: string): string {
  table ??= load();
  return lookup(table, mac);
}

/**
 * vendorOf() for a known set of MACs (a one-shot sweep's devices) without building vendorOf()'s
 * 54 000-entry map (~50 ms of start-up and GC, ~10 MB), and without reading all of the 1.6 MB
 * dist/oui.tsv either: the table is sorted, so each distinct MA-L prefix among the MACs is found
 * by binary search and only its lines are read. Without dist/oui.tsv (running from source) this
 * is vendorOf.
 */
export function vendorLookup(macs: readonly string[], file = OUI_TSV, windowBytes = 4096): (mac: string) => string {
  if (macs.length === 0) return () => '';
  if (!existsSync(file)) return vendorOf;
  const ouiOf = ouiReader();
  const ouis = new Set<number>();
  for (const mac of macs) ouis.add(ouiOf(mac));
  ouis.delete(-1);
  const found = new Map<string, string>();
  const withBlocks = new Set<number>(); // MA-L prefixes with MA-M/MA-S blocks below them
  const table = new SortedLines(file, windowBytes);
  try {
    for (const oui of ouis) {
      const prefix = oui.toString(16).toUpperCase().padStart(6, '0');
      for (let line = table.line(table.seek(prefix)); line?.key.startsWith(prefix); line = table.line(line.next)) {
        found.set(line.key, line.value);
        if (line.key.length > 6) withBlocks.add(oui);
      }
    }
  } finally {
    table.close();
  }
  const orgs = new Map<number, string>(); // by MA-L prefix: no string work per MAC
  for (const oui of ouis) if (!withBlocks.has(oui)) orgs.set(oui, maLOwner(found.get(oui.toString(16).toUpperCase().padStart(6, '0'))));
  return (mac) => {
    const oui = ouiOf(mac);
    return withBlocks.has(oui) ? lookup(found, mac) : (orgs.get(oui) ?? '');
  };
}

/**
 * The MA-L prefix of a MAC as a number (-1 if none), parsed once per distinct first 8 characters
 * ("00:16:3e"): thousands of devices share a few prefixes.
 */
function ouiReader(): (mac: string) => number {
  const byHead = new Map<string, number>();
  return (mac) => {
    const head = mac.slice(0, 8);
    let oui = byHead.get(head);
    if (oui === undefined) byHead.set(head, (oui = leadingHex(head)));
    return oui >= 0 ? oui : leadingHex(mac); // fewer than 6 hex digits in the head: an unusual format
  };
}

/** The first 6 hex digits (an MA-L prefix) of a MAC as a number, skipping ':' and '-'; -1 if there are none. */
function leadingHex(mac: string): number {
  let value = 0;
  let digits = 0;
  for (let i = 0; i < mac.length && digits < 6; i++) {
    const c = mac.charCodeAt(i);
    if (c === 58 || c === 45) continue; // ':' '-'
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    value = value * 16 + d;
    digits++;
  }
  return digits === 6 ? value : -1;
}

/** "KEY<TAB>value" lines of a file sorted by key, read through a small window with pread. */
class SortedLines {
  private readonly fd: number;
  private readonly size: number;
  private window: Buffer;
  private windowStart = 0;
  private windowEnd = 0; // [windowStart, windowEnd) of the file is in `window`

  constructor(file: string, windowBytes: number) {
    this.fd = openSync(file, 'r');
    this.size = fstatSync(this.fd).size;
    this.window = Buffer.allocUnsafe(windowBytes);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The line starting at byte `start`, with the start of the next one; null at the end of the file. */
  line(start: number): { key: string; value: string; next: number } | null {
    if (start >= this.size) return null;
    if (start < this.windowStart || start >= this.windowEnd) this.fill(start);
    for (;;) {
      const view = this.window.subarray(0, this.windowEnd - this.windowStart);
      const from = start - this.windowStart;
      let end = view.indexOf(10, from); // '\n'
      if (end < 0 && this.windowEnd < this.size) {
        // the line runs past the window: read again from its start, into a larger window if it started there
        if (from === 0) this.window = Buffer.allocUnsafe(this.window.length * 2);
        this.fill(start);
        continue;
      }
      if (end < 0) end = view.length; // the last line, without a final newline
      const tab = view.indexOf(9, from); // '\t'
      const keyEnd = tab >= 0 && tab < end ? tab : end;
      return {
        key: view.toString('latin1', from, keyEnd),
        value: keyEnd < end ? view.toString('utf8', keyEnd + 1, end) : '',
        next: Math.min(this.size, this.windowStart + end + 1),
      };
    }
  }

  /** Byte offset of the first line whose key is >= `key` (the size if none). */
  seek(key: string): number {
    // Invariant: the answer is a line start in [lo, hi]; lo is a line start, hi a line start or the size.
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >> 1);
      const s = this.lineStartFrom(mid);
      if (s >= hi) {
        // no line starts in [mid, hi): the few lines from lo are checked one by one
        for (let line = this.line(lo); line && lo < hi && line.key < key; line = this.line(lo)) lo = line.next;
        return lo;
      }
      const line = this.line(s)!;
      if (line.key < key) lo = line.next;
      else hi = s;
    }
    return lo;
  }

  /** The first line start at or after `pos`. */
  private lineStartFrom(pos: number): number {
    if (pos === 0) return 0;
    for (let at = pos - 1; at < this.size; ) {
      if (at < this.windowStart || at >= this.windowEnd) this.fill(at);
      const nl = this.window.subarray(0, this.windowEnd - this.windowStart).indexOf(10, at - this.windowStart);
      if (nl >= 0) return this.windowStart + nl + 1;
      at = this.windowEnd;
    }
    return this.size;
  }

  private fill(start: number): void {
    this.windowStart = start;
    this.windowEnd = start + readSync(this.fd, this.window, 0, this.window.length, start);
  }
}
