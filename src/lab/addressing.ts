// The lab's address plan: every lab lives in 198.18.0.0/16 (RFC 2544 benchmarking range), and
// its devices get deterministic MACs.
import { intToIpv4, ipv4ToInt, networkOf } from '../net/ipv4.js';
import { isMac, isMulticastMac, macFromBytes, normalizeMac } from '../net/mac.js';

export const LAB_NET = 0xc6120000; // 198.18.0.0/16
export const LAB_PREFIX = 16;

export function inLabNet(n: number): boolean {
  return n >>> 16 === LAB_NET >>> 16;
}

/** An address given to the lab; errors say "lab:". */
export function labIp(ip: string): number {
  try {
    return ipv4ToInt(ip);
  } catch {
    throw new Error(`lab: "${ip}" is not an IPv4 address`);
  }
}

export interface Cidr {
  network: number;
  prefix: number;
  text: string; // normalised, e.g. "198.18.0.0/24"
}

/** Parses a CIDR and insists it lies inside 198.18.0.0/16. */
export function parseLabCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`lab: invalid cidr "${cidr}"`);
  const prefix = Number(m[2]);
  const base = labIp(m[1]);
  if (prefix < LAB_PREFIX || prefix > 30 || !inLabNet(base)) {
    throw new Error(`lab: cidr "${cidr}" must lie inside 198.18.0.0/16 (prefix /16../30)`);
  }
  const network = networkOf(base, prefix);
  return { network, prefix, text: `${intToIpv4(network)}/${prefix}` };
}

/** Usable host addresses of a cidr (no network/broadcast), minus `exclude`, in order. */
export function hostAddresses(c: Cidr, exclude: ReadonlySet<number>): number[] {
  const size = 2 ** (32 - c.prefix);
  const out: number[] = [];
  for (let n = c.network + 1; n < c.network + size - 1; n++) if (!exclude.has(n)) out.push(n);
  return out;
}

/** A MAC given to the lab for a device: canonical form, unicast, not all zeros. */
export function labMac(mac: string): string {
  const m = normalizeMac(mac);
  if (!isMac(m)) throw new Error(`lab: invalid MAC "${mac}"`);
  if (isMulticastMac(m)) throw new Error(`lab: MAC "${mac}" is a multicast address`);
  if (m === '00:00:00:00:00:00') throw new Error('lab: MAC must not be all zeros');
  return m;
}

/**
 * Deterministic device MAC under the Xen OUI 00:16:3e (universally administered, so vendor
 * lookups say "Xensource"): 00:16:3e:GG:xx:yy where xx.yy are the low bytes of the IP and GG is
 * 0x12 for the first MAC of an address and 0x80+k for later ones (moves, spoofs).
 */
export function deviceMac(ip: number, generation: number): string {
  if (generation > 127) throw new Error(`lab: too many MACs generated for ${intToIpv4(ip)}`);
  const gg = generation === 0 ? 0x12 : 0x80 + generation - 1;
  return macFromBytes(Uint8Array.of(0x00, 0x16, 0x3e, gg, (ip >>> 8) & 255, ip & 255));
}

export function randomLocalMac(): string {
  const b = Uint8Array.from({ length: 6 }, () => Math.floor(Math.random() * 256));
  b[0] = (b[0] & 0xfc) | 0x02; // locally administered, unicast
  return macFromBytes(b);
}
