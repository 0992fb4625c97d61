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

/** Sorted ranges with overlapping and adjacent ones joined: every address once. */
export function mergeTargets(ranges: readonly TargetRange[]): TargetRange[] {
  const merged: TargetRange[] = [];
  for (const r of [...ranges].sort((a, b) => a.first - b.first)) {
    const prev = merged[merged.length - 1];
    if (prev && r.first <= prev.last + 1) prev.last = Math.max(prev.last, r.last);
    else merged.push({ ...r });
  }
  return merged;
}

function excludedSet(exclude: readonly string[] | undefined): Set<number> {
  return new Set(
    (exclude ?? []).map((ip) => {
      try {
        return ipv4ToInt(ip.trim());
      } catch {
        throw new TargetError(`invalid exclusion "${ip}": not an IPv4 address`);
      }
    }),
  );
}

function checkLimit(total: number, max: number, specs: readonly string[]): void {
  if (total > max) {
    throw new TargetError(
      `sweep of ${total} addresses exceeds the safety limit of ${max} (${specs.join(', ')}); ` +
        `raise it with --max-addresses / scan.max_addresses if you really mean it`,
    );
  }
}

/** The addresses of `ranges` (sorted, disjoint) minus `excluded`. */
function addressesOf(ranges: readonly TargetRange[], excluded: Set<number>): Uint32Array {
  const total = ranges.reduce((n, r) => n + rangeSize(r), 0);
  const out = new Uint32Array(total);
  // Filled through a signed view: addresses from 128.0.0.0 up are no small integers as unsigned
  // numbers, and each would be a heap allocation while V8 still interprets this loop.
  const signed = new Int32Array(out.buffer, out.byteOffset, total);
  let n = 0;
  for (const r of ranges) {
    const first = r.first | 0;
    for (let k = 0, size = rangeSize(r); k < size; k++) {
      const ip = (first + k) | 0;
      if (excluded.size === 0 || !excluded.has(ip >>> 0)) signed[n++] = ip;
    }
  }
  return out.subarray(0, n);
}

/**
 * Expands target specs into a sorted, de-duplicated list of addresses, refusing sweeps
 * larger than `maxAddresses` before allocating anything.
 */
export function expandTargets(
  specs: readonly string[],
  opts: { maxAddresses?: number; exclude?: readonly string[] } = {},
): Uint32Array {
  const merged = mergeTargets(specs.map(parseTarget));
  checkLimit(
    merged.reduce((n, r) => n + rangeSize(r), 0),
    opts.maxAddresses ?? DEFAULT_MAX_ADDRESSES,
    specs,
  );
  return addressesOf(merged, excludedSet(opts.exclude));
}

/**
 * One sweep of several specs: each spec's own addresses, minus those an earlier spec already
 * covers, so overlapping specs never probe (and hear) an address twice. `maxAddresses` bounds
 * the whole sweep, not each spec.
 */
export function planSweep(
  specs: readonly string[],
  opts: { maxAddresses?: number; exclude?: readonly string[] } = {},
): { spec: string; targets: Uint32Array }[] {
  const ranges = specs.map(parseTarget);
  checkLimit(
    mergeTargets(ranges).reduce((n, r) => n + rangeSize(r), 0),
    opts.maxAddresses ?? DEFAULT_MAX_ADDRESSES,
    specs,
  );
  const excluded = excludedSet(opts.exclude);
  const covered: TargetRange[] = [];
  return specs.map((spec, i) => {
    // This spec's range with the earlier specs' ranges cut out.
    let parts: TargetRange[] = [{ ...ranges[i] }];
    for (const c of covered) {
      parts = parts.flatMap((p) => {
        if (c.last < p.first || c.first > p.last) return [p];
        const left = c.first > p.first ? [{ first: p.first, last: c.first - 1 }] : [];
        const right = c.last < p.last ? [{ first: c.last + 1, last: p.last }] : [];
        return [...left, ...right];
      });
    }
    covered.push(ranges[i]);
    return { spec, targets: addressesOf(parts, excluded) };
  });
}

export function cidrOf(address: string, prefix: number): string {
  return `${intToIpv4(networkOf(ipv4ToInt(address), prefix))}/${prefix}`;
}
