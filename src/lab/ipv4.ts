// Small IPv4 / MAC helpers for the lab (kept local so the lab does not depend on the sweeper's codec).

export const LAB_NET = 0xc6120000; // 198.18.0.0/16, RFC 2544 benchmarking range
export const LAB_PREFIX = 16;

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) throw new Error(`lab: "${ip}" is not an IPv4 address`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new Error(`lab: "${ip}" is not an IPv4 address`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function inLabNet(n: number): boolean {
  return n >>> 16 === LAB_NET >>> 16;
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
  const base = ipToInt(m[1]);
  if (prefix < LAB_PREFIX || prefix > 30 || !inLabNet(base)) {
    throw new Error(`lab: cidr "${cidr}" must lie inside 198.18.0.0/16 (prefix /16../30)`);
  }
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  return { network, prefix, text: `${intToIp(network)}/${prefix}` };
}

/** Usable host addresses of a cidr (no network/broadcast), minus `exclude`, in order. */
export function hostAddresses(c: Cidr, exclude: ReadonlySet<number>): number[] {
  const size = 2 ** (32 - c.prefix);
  const out: number[] = [];
  for (let n = c.network + 1; n < c.network + size - 1; n++) if (!exclude.has(n)) out.push(n);
  return out;
}

export function normaliseMac(mac: string): string {
  const m = mac.trim().toLowerCase();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m)) throw new Error(`lab: invalid MAC "${mac}"`);
  if (parseInt(m.slice(0, 2), 16) & 1) throw new Error(`lab: MAC "${mac}" is a multicast address`);
  if (m === '00:00:00:00:00:00') throw new Error('lab: MAC must not be all zeros');
  return m;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/**
 * Deterministic device MAC under the Xen OUI 00:16:3e (universally administered, so vendor
 * lookups say "Xensource"): 00:16:3e:GG:xx:yy where xx.yy are the low bytes of the IP and GG is
 * 0x12 for the first MAC of an address and 0x80+k for later ones (moves, spoofs).
 */
export function deviceMac(ip: number, generation: number): string {
  if (generation > 127) throw new Error(`lab: too many MACs generated for ${intToIp(ip)}`);
  const gg = generation === 0 ? 0x12 : 0x80 + generation - 1;
  return ['00', '16', '3e', hex2(gg), hex2((ip >>> 8) & 255), hex2(ip & 255)].join(':');
}

export function randomLocalMac(): string {
  const b = Array.from({ length: 6 }, () => Math.floor(Math.random() * 256));
  b[0] = (b[0] & 0xfc) | 0x02; // locally administered, unicast
  return b.map(hex2).join(':');
}
