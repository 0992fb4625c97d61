import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ArpChannel } from '../capture/arp-channel.js';
import { openPacketSource } from '../capture/packet-source.js';
import { describeInterface, InterfaceError, operState } from '../net/interfaces.js';
import { DEFAULT_MAX_ADDRESSES, expandTargets } from '../net/targets.js';
import { isRandomizedMac, vendorOf } from '../arp/vendor.js';
import { sweep, type SweepResult } from '../sweep/sweeper.js';
import { UsageError } from './errors.js';

export const SWEEP_DEFAULTS = { rate: 400, retries: 2, timeoutMs: 500 };

const USAGE = `usage: ghost-hunter sweep --interface <name> [--cidr <cidr|range> ...] [--rate <pps>]
                          [--retries <n>] [--timeout <ms>] [--max-addresses <n>] [--format table|json]`;

function positiveInt(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${value}"`);
  return Number(value);
}

export async function runSweepCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        interface: { type: 'string', short: 'i' },
        cidr: { type: 'string', multiple: true },
        rate: { type: 'string' },
        retries: { type: 'string' },
        timeout: { type: 'string' },
        'max-addresses': { type: 'string' },
        format: { type: 'string', default: 'table' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!v.interface) throw new UsageError(`--interface is required\n${USAGE}`);
  if (v.format !== 'table' && v.format !== 'json') throw new UsageError(`--format must be table or json, got "${v.format}"`);
  const rate = positiveInt('rate', v.rate, SWEEP_DEFAULTS.rate);
  const retries = positiveInt('retries', v.retries, SWEEP_DEFAULTS.retries);
  const timeoutMs = positiveInt('timeout', v.timeout, SWEEP_DEFAULTS.timeoutMs, 1);
  const maxAddresses = positiveInt('max-addresses', v['max-addresses'], DEFAULT_MAX_ADDRESSES, 1);

  const iface = describeInterface(v.interface);
  const own = iface.addresses[0];
  if (!own) {
    // Node lists no addresses for links that are down or without carrier: say so instead.
    const state = operState(iface.name);
    if (state !== null && state !== 'up' && state !== 'unknown') {
      throw new InterfaceError(`interface "${iface.name}" is not up (state ${state}); bring the link up first`);
    }
    throw new UsageError(`interface "${iface.name}" has no IPv4 address to send ARP requests from`);
  }
  const specs = v.cidr?.length ? v.cidr : iface.addresses.map((a) => a.cidr);
  const targets = expandTargets(specs, { maxAddresses });

  const channel = new ArpChannel(openPacketSource(iface.name));
  const started = Date.now();
  const showProgress = process.stderr.isTTY === true;
  let result: SweepResult;
  try {
    result = await sweep(channel, { name: iface.name, mac: iface.mac, ip: own.address }, targets, {
      rate,
      retries,
      timeoutMs,
      onProgress: showProgress
        ? (p) => {
            if (Date.now() - started > 1000) {
              process.stderr.write(`\rround ${p.round + 1}: sent ${p.sent}/${p.total}, ${p.answered} answered   `);
            }
          }
        : undefined,
    });
  } finally {
    channel.close();
  }
  if (showProgress && Date.now() - started > 1000) process.stderr.write('\r\x1b[K');
  process.stdout.write(v.format === 'json' ? formatJson(result) : formatTable(result));
  return 0;
}

// Same answers as vendorOf() (MA-S, then MA-M, then MA-L; the IEEE Registration Authority's own
// blocks count as unknown), but a one-shot sweep only needs the few prefixes it saw: one pass over
// dist/oui.tsv keeps just those instead of building vendorOf()'s 54 000-entry map, which cost a
// one-shot sweep ~50 ms of start-up and GC and ~10 MB. Running from source (no dist/oui.tsv) falls
// back to vendorOf().
const REGISTRATION_AUTHORITY = 'IEEE Registration Authority';

export function vendorLookup(macs: readonly string[]): (mac: string) => string {
  const file = fileURLToPath(new URL('../oui.tsv', import.meta.url));
  if (macs.length === 0) return () => '';
  if (!existsSync(file)) return vendorOf;
  const hexOf = (mac: string): string => mac.replace(/[:-]/g, '').toUpperCase();
  const wanted = new Set<string>();
  for (const mac of macs) {
    const hex = hexOf(mac);
    wanted.add(hex.slice(0, 9)).add(hex.slice(0, 7)).add(hex.slice(0, 6));
  }
  const ouis = new Set<number>(); // the wanted MA-L prefixes as numbers: most lines are rejected without allocating
  for (const key of wanted) if (key.length === 6) ouis.add(Number.parseInt(key, 16));
  const found = new Map<string, string>();
  const buf = readFileSync(file);
  for (let pos = 0; pos < buf.length; ) {
    let end = buf.indexOf(10, pos); // '\n'
    if (end < 0) end = buf.length;
    let oui = 0;
    let i = pos;
    for (; i < pos + 6 && i < end; i++) {
      const c = buf[i];
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (digit < 0) break;
      oui = oui * 16 + digit;
    }
    if (i === pos + 6 && ouis.has(oui)) {
      const tab = buf.indexOf(9, pos); // '\t'
      if (tab > pos && tab < end) {
        const key = buf.toString('latin1', pos, tab);
        if (wanted.has(key)) found.set(key, buf.toString('utf8', tab + 1, end));
      }
    }
    pos = end + 1;
  }
  return (mac) => {
    const hex = hexOf(mac);
    const small = found.get(hex.slice(0, 9)) ?? found.get(hex.slice(0, 7));
    if (small !== undefined) return small;
    const org = found.get(hex.slice(0, 6)) ?? '';
    return org === REGISTRATION_AUTHORITY ? '' : org;
  };
}

function deviceRows(result: SweepResult) {
  const vendor = vendorLookup(result.devices.map((d) => d.mac));
  return result.devices.map((d) => ({
    ip: d.ip,
    mac: d.mac,
    vendor: vendor(d.mac),
    randomized: isRandomizedMac(d.mac),
    rtt_ms: d.rttMs === null ? null : Math.round(d.rttMs * 1000) / 1000,
    self: d.self,
  }));
}

function formatJson(result: SweepResult): string {
  const s = result.stats;
  return (
    JSON.stringify({
      interface: result.interface,
      started_at: new Date(result.startedAt).toISOString(),
      devices: deviceRows(result),
      conflicts: result.conflicts,
      stats: {
        addresses_probed: s.addresses,
        requests_sent: s.requestsSent,
        replies_received: s.replies,
        duplicates: s.duplicates,
        pcap_dropped: s.pcapDropped,
        rounds: s.rounds,
        duration_ms: Math.round(s.durationMs * 10) / 10,
      },
    }) + '\n'
  );
}

function formatTable(result: SweepResult): string {
  const rows = deviceRows(result).map((d) => [
    d.ip,
    d.mac,
    d.vendor || (d.randomized ? '(locally administered)' : '(unknown)'),
    d.randomized ? 'yes' : 'no',
    d.self ? 'self' : d.rtt_ms === null ? '-' : `${d.rtt_ms.toFixed(2)} ms`,
  ]);
  const header = ['IP', 'MAC', 'VENDOR', 'RANDOMIZED', 'RTT'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  const s = result.stats;
  const conflictLines = result.conflicts.map((c) => `warning: ${c.ip} answered by ${c.macs.length} MACs: ${c.macs.join(', ')}`);
  return [
    line(header),
    ...rows.map(line),
    ...conflictLines,
    `${result.devices.length} devices on ${result.interface}: ${s.addresses} addresses probed, ${s.requestsSent} requests, ` +
      `${s.replies} replies, ${s.duplicates} duplicates, ${s.pcapDropped} dropped, ${(s.durationMs / 1000).toFixed(2)} s`,
  ].join('\n') + '\n';
}
