import { parseArgs } from 'node:util';
import { ArpChannel } from '../capture/arp-channel.js';
import { openPacketSource, sweepBufferBytes } from '../capture/packet-source.js';
import { describeInterface, InterfaceError, operState } from '../net/interfaces.js';
import { DEFAULT_MAX_ADDRESSES, expandTargets } from '../net/targets.js';
import { vendorLookup } from '../arp/vendor.js';
import { isRandomizedMac } from '../net/mac.js';
import { sweep, type DeviceReply, type SweepResult } from '../sweep/sweeper.js';
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

  const channel = new ArpChannel(openPacketSource(iface.name, { bufferBytes: sweepBufferBytes(targets.length) }));
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
  for (const text of v.format === 'json' ? formatJson(result) : formatTable(result)) process.stdout.write(text);
  return 0;
}

/** Devices per write: the output for a /16 with thousands of devices is never one string in memory. */
const WRITE_CHUNK = 512;

function rowMaker(result: SweepResult) {
  const vendor = vendorLookup(result.devices.map((d) => d.mac));
  return (d: DeviceReply) => ({
    ip: d.ip,
    mac: d.mac,
    vendor: vendor(d.mac),
    randomized: isRandomizedMac(d.mac),
    rtt_ms: d.rttMs === null ? null : Math.round(d.rttMs * 1000) / 1000,
    self: d.self,
  });
}

/** The same text as one JSON.stringify of the whole report, in pieces. */
function* formatJson(result: SweepResult): Generator<string> {
  const s = result.stats;
  const head = JSON.stringify({ interface: result.interface, started_at: new Date(result.startedAtMs).toISOString() });
  yield `${head.slice(0, -1)},"devices":[`;
  const row = rowMaker(result);
  for (let i = 0; i < result.devices.length; i += WRITE_CHUNK) {
    const rows = result.devices.slice(i, i + WRITE_CHUNK).map((d) => JSON.stringify(row(d)));
    yield (i > 0 ? ',' : '') + rows.join(',');
  }
  const stats = {
    addresses_probed: s.addresses,
    requests_sent: s.requestsSent,
    replies_received: s.replies,
    duplicates: s.duplicates,
    pcap_dropped: s.pcapDropped,
    rounds: s.rounds,
    duration_ms: Math.round(s.durationMs * 10) / 10,
  };
  yield `],"conflicts":${JSON.stringify(result.conflicts)},"stats":${JSON.stringify(stats)}}\n`;
}

function* formatTable(result: SweepResult): Generator<string> {
  const row = rowMaker(result);
  const cells = (d: ReturnType<typeof row>): string[] => [
    d.ip,
    d.mac,
    d.vendor || (d.randomized ? '(locally administered)' : '(unknown)'),
    d.randomized ? 'yes' : 'no',
    d.self ? 'self' : d.rtt_ms === null ? '-' : `${d.rtt_ms.toFixed(2)} ms`,
  ];
  const header = ['IP', 'MAC', 'VENDOR', 'RANDOMIZED', 'RTT'];
  const widths = header.map((h) => h.length);
  for (const d of result.devices) cells(row(d)).forEach((cell, c) => (widths[c] = Math.max(widths[c], cell.length)));
  const line = (c: string[]) => c.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd() + '\n';
  yield line(header);
  for (let i = 0; i < result.devices.length; i += WRITE_CHUNK) {
    yield result.devices.slice(i, i + WRITE_CHUNK).map((d) => line(cells(row(d)))).join('');
  }
  const s = result.stats;
  for (const c of result.conflicts) yield `warning: ${c.ip} answered by ${c.macs.length} MACs: ${c.macs.join(', ')}\n`;
  yield `${result.devices.length} devices on ${result.interface}: ${s.addresses} addresses probed, ${s.requestsSent} requests, ` +
    `${s.replies} replies, ${s.duplicates} duplicates, ${s.pcapDropped} dropped, ${(s.durationMs / 1000).toFixed(2)} s\n`;
}
