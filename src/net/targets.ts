import { intToIpv4, ipv4ToInt, networkOf } from './ipv4.js';

export const DEFAULT_MAX_ADDRESSES = 65_536; // a /16

export class TargetError extends Error {}

export interface TargetRange {
  /** inclusive, as unsigned 32-bit integers */
  first: number;
  last: number;
}

function parseIp(ip: string, spec: string): number {
  try {
    return ipv4ToInt(ip);
  } catch {
    throw new TargetError(`invalid target "${spec}": "${ip}" is not an IPv4 address`);
  }
}

/**
 * Parses "198.18.0.0/24", "198.18.0.10-198.18.0.20", "198.18.0.10-20" or a single address.
 * CIDR blocks of /30 and wider lose their network and broadcast addresses.
 */
export function parseTarget(spec: string): TargetRange {
  const s = spec.trim();
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const prefixText = s.slice(slash + 1);
    if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
      throw new TargetError(`invalid CIDR "${spec}": prefix length must be 0-32`);
    }
    const prefix = Number(prefixText);
    const base = parseIp(s.slice(0, slash), spec);
    const size = 2 ** (32 - prefix);
    const network = networkOf(base, prefix);
    if (prefix >= 31) return { first: network, last: network + size - 1 };
    return { first: network + 1, last: network + size - 2 };
  }
  const dash = s.indexOf('-');
  if (dash >= 0) {
    const first = parseIp(s.slice(0, dash).trim(), spec);
    const end = s.slice(dash + 1).trim();
    const lastOctetOnly = /^\d{1,3}$/.test(end);
    if (lastOctetOnly && Number(end) > 255) throw new TargetError(`invalid range "${spec}"`);
    const last = lastOctetOnly ? ((first & 0xffffff00) >>> 0) + Number(end) : parseIp(end, spec);
    if (last < first) throw new TargetError(`invalid range "${spec}": end is before start`);
    return { first, last };
  }
  const ip = parseIp(s, spec);
  return { first: ip, last: ip };
}

export function rangeSize(r: TargetRange): number {
  return r.last - r.first + 1;
}

/**
 * Expands target specs into a sorted, de-duplicated list of addresses, refusing sweeps
 * larger than `maxAddresses` before allocating anything.
 */
export function expandTargets(
  specs: readonly string[],
  opts: { maxAddresses?: number; exclude?: readonly string[] } = {},
): Uint32Array {
  const max = opts.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  const ranges = specs.map(parseTarget).sort((a, b) => a.first - b.first);
  const merged: TargetRange[] = [];
  for (const r of ranges) {
    const prev = merged[merged.length - 1];
    if (prev && r.first <= prev.last + 1) prev.last = Math.max(prev.last, r.last);
    else merged.push({ ...r });
  }
  const total = merged.reduce((n, r) => n + rangeSize(r), 0);
  if (total > max) {
    throw new TargetError(
      `sweep of ${total} addresses exceeds the safety limit of ${max} (${specs.join(', ')}); ` +
        `raise it with --max-addresses / scan.max_addresses if you really mean it`,
    );
  }
  const excluded = new Set(
    (opts.exclude ?? []).map((ip) => {
      try {
        return ipv4ToInt(ip.trim());
      } catch {
        throw new TargetError(`invalid exclusion "${ip}": not an IPv4 address`);
      }
    }),
  );
  const out = new Uint32Array(total);
  // Filled through a signed view: addresses from 128.0.0.0 up are no small integers as unsigned
  // numbers, and each would be a heap allocation while V8 still interprets this loop.
  const signed = new Int32Array(out.buffer, out.byteOffset, total);
  let n = 0;
  for (const r of merged) {
    const first = r.first | 0;
    for (let k = 0, size = rangeSize(r); k < size; k++) {
      const ip = (first + k) | 0;
      if (excluded.size === 0 || !excluded.has(ip >>> 0)) signed[n++] = ip;
    }
  }
  return out.subarray(0, n);
}

export function cidrOf(address: string, prefix: number): string {
  return `${intToIpv4(networkOf(ipv4ToInt(address), prefix))}/${prefix}`;
}
