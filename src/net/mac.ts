// MAC addresses: the one place that parses, formats and classifies them. The canonical text form
// is lower-case "aa:bb:cc:dd:ee:ff".

const HEX_DIGIT = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]; // '0'-'9', 'a'-'f'
const COLON = 58;

/**
 * The canonical text of the six bytes at `offset`, as one flat string: piecewise concatenation
 * allocated ~20 intermediate strings per MAC and left a rope (cons strings) that the sweeper
 * keeps alive per device.
 */
export function macFromBytes(buf: Uint8Array, offset = 0): string {
  const a = buf[offset];
  const b = buf[offset + 1];
  const c = buf[offset + 2];
  const d = buf[offset + 3];
  const e = buf[offset + 4];
  const f = buf[offset + 5];
  const x = HEX_DIGIT;
  return String.fromCharCode(
    x[a >> 4], x[a & 15], COLON, x[b >> 4], x[b & 15], COLON, x[c >> 4], x[c & 15], COLON,
    x[d >> 4], x[d & 15], COLON, x[e >> 4], x[e & 15], COLON, x[f >> 4], x[f & 15],
  );
}

/** Six hex pairs separated by ':' or '-' (the same one throughout), any case. */
const MAC_RE = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

export function isMac(text: string): boolean {
  return MAC_RE.test(text);
}

export function macToBytes(mac: string): Buffer {
  if (!MAC_RE.test(mac)) throw new Error(`invalid MAC address "${mac}"`);
  return Buffer.from(mac.replace(/[:-]/g, ''), 'hex');
}

/** Canonical form of a MAC written with either separator in either case (not validated). */
export function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** Locally administered (U/L bit set): randomized/private MACs of phones, laptops, VMs. */
export function isRandomizedMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return (first & 0x02) === 0x02;
}

/** Group bit set: a multicast or broadcast address, which no station owns. */
export function isMulticastMac(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return Number.isFinite(first) && (first & 0x01) !== 0;
}
