// IPv4 addresses as text and as unsigned 32-bit numbers: the one place that converts between them.
// The sweep path converts tens of thousands of addresses per sweep, so these avoid garbage.

/** Dotted quad (four parts of 1-3 decimal digits, each <= 255) to an unsigned 32-bit number. */
export function ipv4ToInt(ip: string): number {
  // Character by character: split() and a RegExp per part cost ~300 bytes of garbage per call,
  // and this runs for every captured reply.
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 && digits > 0 && dots < 3) {
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else {
      throw new Error(`invalid IPv4 address "${ip}"`);
    }
    if (part > 255) throw new Error(`invalid IPv4 address "${ip}"`);
  }
  if (dots !== 3 || digits === 0) throw new Error(`invalid IPv4 address "${ip}"`);
  return n * 256 + part;
}

export function intToIpv4(n: number): string {
  return dottedQuad((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** The address in the four bytes at `offset` (network order), e.g. of a captured frame. */
export function ipv4FromBytes(buf: Uint8Array, offset: number): string {
  return dottedQuad(buf[offset], buf[offset + 1], buf[offset + 2], buf[offset + 3]);
}

export function ipv4ToBytes(ip: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipv4ToInt(ip));
  return b;
}

/** First address of the block of 2^(32 - prefix) addresses that holds `n`. */
export function networkOf(n: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return Math.floor(n / size) * size;
}

const quad = Buffer.alloc(15);

function putOctet(n: number, at: number): number {
  if (n >= 100) quad[at++] = 48 + ((n / 100) | 0);
  if (n >= 10) quad[at++] = 48 + (((n / 10) | 0) % 10);
  quad[at++] = 48 + (n % 10);
  return at;
}

/**
 * "a.b.c.d" as one flat string: a template literal allocates a string per number and per step
 * (~200 bytes per address), and a sweep formats every reply's two addresses and every device's.
 */
function dottedQuad(a: number, b: number, c: number, d: number): string {
  let at = putOctet(a, 0);
  quad[at++] = 46; // '.'
  at = putOctet(b, at);
  quad[at++] = 46;
  at = putOctet(c, at);
  quad[at++] = 46;
  at = putOctet(d, at);
  return quad.toString('latin1', 0, at);
}
