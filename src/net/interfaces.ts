import { networkInterfaces } from 'node:os';
import { readFileSync } from '../fs-sync.js';
import { ipv4FromBytes } from './ipv4.js';
import { cidrOf } from './targets.js';

export interface InterfaceAddress {
  address: string;
  prefix: number;
  cidr: string;
}

export interface InterfaceInfo {
  name: string;
  mac: string;
  addresses: InterfaceAddress[];
}

export class InterfaceError extends Error {}

function readSys(name: string, file: string): string | null {
  try {
    return readFileSync(`/sys/class/net/${name}/${file}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** What the kernel accepts as an interface name (dev_valid_name); anything else could escape /sys/class/net. */
function validName(name: string): boolean {
  return name.length > 0 && name.length < 16 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

/** The interface's MAC as the kernel shows it (lower case), or null if there is no such interface. */
export function interfaceMac(name: string): string | null {
  return validName(name) ? (readSys(name, 'address')?.toLowerCase() ?? null) : null;
}

/** IPv4 addresses and MAC of one interface, with a one-line error when it cannot be used. */
export function describeInterface(name: string): InterfaceInfo {
  const all = networkInterfaces();
  const entries = validName(name) ? all[name] : undefined;
  if (!validName(name) || (readSys(name, 'type') === null && !entries)) {
    const known = Object.keys(all).filter((n) => n !== 'lo');
    throw new InterfaceError(
      `interface "${name}" does not exist` + (known.length ? ` (available: ${known.join(', ')})` : ''),
    );
  }
  const mac = interfaceMac(name) ?? (entries?.[0]?.mac ?? '').toLowerCase();
  if (readSys(name, 'type') !== null && readSys(name, 'type') !== '1') {
    throw new InterfaceError(`interface "${name}" is not an Ethernet interface; ARP sweeps need Ethernet`);
  }
  const addresses = (entries ?? [])
    .filter((e) => e.family === 'IPv4' && !e.internal && e.cidr)
    .map((e) => {
      const prefix = Number(e.cidr!.split('/')[1]);
      return { address: e.address, prefix, cidr: cidrOf(e.address, prefix) };
    });
  return { name, mac, addresses };
}

/** Kernel operstate ("up", "down", "unknown", "lowerlayerdown", ...) or null if there is no such interface. */
export function operState(name: string): string | null {
  return validName(name) ? readSys(name, 'operstate') : null;
}

/** Ethernet interfaces that are up and carry IPv4: what the exporter sweeps when none are configured. */
export function detectInterfaces(): InterfaceInfo[] {
  return Object.keys(networkInterfaces())
    .filter((name) => name !== 'lo' && readSys(name, 'type') === '1' && readSys(name, 'operstate') !== 'down')
    .map(describeInterface)
    .filter((i) => i.addresses.length > 0);
}

/** Default gateway of an interface from /proc/net/route, or null. */
export function defaultGateway(name: string): string | null {
  let text: string;
  try {
    text = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n').slice(1)) {
    // Iface Destination Gateway Flags RefCnt Use Metric Mask ...; only 0.0.0.0/0 is a default route
    const [iface, dest, gw, , , , , mask] = line.trim().split(/\s+/);
    if (iface === name && dest === '00000000' && mask === '00000000' && gw && gw !== '00000000') {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32LE(parseInt(gw, 16)); // the kernel prints the address as a little-endian hex number
      return ipv4FromBytes(bytes, 0);
    }
  }
  return null;
}
