// Ethernet II + ARP (IPv4 over Ethernet) frames: build requests, parse anything captured.
// Parsing never throws: every failure is a typed DecodeError with a bounded reason.

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const MIN_FRAME_LENGTH = 60; // without FCS

export type DecodeErrorReason =
  | 'truncated'
  | 'not_arp'
  | 'bad_hardware_type'
  | 'bad_protocol_type'
  | 'bad_address_length'
  | 'bad_opcode'
  | 'bad_sender_mac'
  | 'bad_sender_ip';

export const DECODE_ERROR_REASONS: readonly DecodeErrorReason[] = [
  'truncated',
  'not_arp',
  'bad_hardware_type',
  'bad_protocol_type',
  'bad_address_length',
  'bad_opcode',
  'bad_sender_mac',
  'bad_sender_ip',
];

export interface ArpPacket {
  op: 'request' | 'reply';
  /** Source MAC of the Ethernet header (may differ from senderMac, e.g. proxy ARP or spoofing). */
  ethSrc: string;
  ethDst: string;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
  /** Sender announces its own address (sender IP == target IP), a gratuitous ARP. */
  gratuitous: boolean;
  vlan: number | null;
}

export interface DecodeError {
  error: DecodeErrorReason;
}

export type DecodeResult = ArpPacket | DecodeError;

export function isDecodeError(r: DecodeResult): r is DecodeError {
  return (r as DecodeError).error !== undefined;
}

const HEX_DIGIT = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]; // '0'-'9', 'a'-'f'
const COLON = 58;

/**
 * "aa:bb:cc:dd:ee:ff" as one flat string: piecewise concatenation allocated ~20 intermediate
 * strings per MAC and left a rope (cons strings) that the sweeper keeps alive per device.
 */
export function macToString(buf: Uint8Array, offset: number): string {
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

export function ipToString(buf: Uint8Array, offset: number): string {
  return dottedQuad(buf[offset], buf[offset + 1], buf[offset + 2], buf[offset + 3]);
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

const MAC_RE = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

export function parseMac(mac: string): Buffer {
  if (!MAC_RE.test(mac)) throw new Error(`invalid MAC address "${mac}"`);
  return Buffer.from(mac.replace(/[:-]/g, ''), 'hex');
}

export function parseIpv4(ip: string): Buffer {
  const n = ipv4ToInt(ip);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

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

const BROADCAST = Buffer.from([255, 255, 255, 255, 255, 255]);
const ZERO_MAC = Buffer.alloc(6);

/** Template of a who-has request; only the target IP changes per probe. */
export class ArpRequestBuilder {
  private readonly frame: Buffer;

  constructor(senderMac: string, senderIp: string) {
    const frame = Buffer.alloc(MIN_FRAME_LENGTH);
    BROADCAST.copy(frame, 0);
    parseMac(senderMac).copy(frame, 6);
    frame.writeUInt16BE(ETHERTYPE_ARP, 12);
    frame.writeUInt16BE(1, 14); // hardware: Ethernet
    frame.writeUInt16BE(0x0800, 16); // protocol: IPv4
    frame[18] = 6;
    frame[19] = 4;
    frame.writeUInt16BE(ARP_REQUEST, 20);
    parseMac(senderMac).copy(frame, 22);
    parseIpv4(senderIp).copy(frame, 28);
    ZERO_MAC.copy(frame, 32);
    this.frame = frame;
  }

  /** Returns a fresh frame asking for `targetIp`; `unicastMac` re-probes one known device directly. */
  build(targetIp: number, unicastMac?: string): Buffer {
    const f = Buffer.from(this.frame);
    f.writeUInt32BE(targetIp >>> 0, 38);
    if (unicastMac) parseMac(unicastMac).copy(f, 0);
    return f;
  }
}

export function buildArpRequest(senderMac: string, senderIp: string, targetIp: string): Buffer {
  return new ArpRequestBuilder(senderMac, senderIp).build(ipv4ToInt(targetIp));
}

/** Builds a reply or gratuitous frame; used by tests and the lab to put traffic on the wire. */
export function buildArpFrame(p: {
  op: 'request' | 'reply';
  ethSrc?: string;
  ethDst?: string;
  senderMac: string;
  senderIp: string;
  targetMac?: string;
  targetIp: string;
}): Buffer {
  const frame = Buffer.alloc(MIN_FRAME_LENGTH);
  (p.ethDst ? parseMac(p.ethDst) : BROADCAST).copy(frame, 0);
  parseMac(p.ethSrc ?? p.senderMac).copy(frame, 6);
  frame.writeUInt16BE(ETHERTYPE_ARP, 12);
  frame.writeUInt16BE(1, 14);
  frame.writeUInt16BE(0x0800, 16);
  frame[18] = 6;
  frame[19] = 4;
  frame.writeUInt16BE(p.op === 'request' ? ARP_REQUEST : ARP_REPLY, 20);
  parseMac(p.senderMac).copy(frame, 22);
  parseIpv4(p.senderIp).copy(frame, 28);
  (p.targetMac ? parseMac(p.targetMac) : ZERO_MAC).copy(frame, 32);
  parseIpv4(p.targetIp).copy(frame, 38);
  return frame;
}

function isZero(buf: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[off + i] !== 0) return false;
  return true;
}

function isAllOnes(buf: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[off + i] !== 255) return false;
  return true;
}

/**
 * Decodes an Ethernet II frame carrying IPv4-over-Ethernet ARP (optionally one 802.1Q tag).
 * Frames whose sender MAC is zero, broadcast or multicast, or whose sender IP is
 * 255.255.255.255 or multicast, are rejected: no real station owns such an address.
 * A 0.0.0.0 sender is an ARP probe (RFC 5227) and is accepted; callers decide.
 */
export function decodeArp(buf: Uint8Array): DecodeResult {
  if (buf.length < 14) return { error: 'truncated' };
  let off = 12;
  let vlan: number | null = null;
  let type = (buf[off] << 8) | buf[off + 1];
  if (type === ETHERTYPE_VLAN) {
    if (buf.length < 18) return { error: 'truncated' };
    vlan = ((buf[14] << 8) | buf[15]) & 0x0fff;
    off = 16;
    type = (buf[off] << 8) | buf[off + 1];
  }
  if (type !== ETHERTYPE_ARP) return { error: 'not_arp' };
  const a = off + 2;
  if (buf.length < a + 28) return { error: 'truncated' };
  if (((buf[a] << 8) | buf[a + 1]) !== 1) return { error: 'bad_hardware_type' };
  if (((buf[a + 2] << 8) | buf[a + 3]) !== 0x0800) return { error: 'bad_protocol_type' };
  if (buf[a + 4] !== 6 || buf[a + 5] !== 4) return { error: 'bad_address_length' };
  const opcode = (buf[a + 6] << 8) | buf[a + 7];
  if (opcode !== ARP_REQUEST && opcode !== ARP_REPLY) return { error: 'bad_opcode' };
  const sha = a + 8;
  const spa = a + 14;
  const tha = a + 18;
  const tpa = a + 24;
  if (isZero(buf, sha, 6) || (buf[sha] & 1) === 1) return { error: 'bad_sender_mac' };
  if (isAllOnes(buf, spa, 4) || (buf[spa] >= 224 && buf[spa] <= 239)) return { error: 'bad_sender_ip' };
  const senderIp = ipToString(buf, spa);
  const targetIp = ipToString(buf, tpa);
  return {
    op: opcode === ARP_REQUEST ? 'request' : 'reply',
    ethDst: macToString(buf, 0),
    ethSrc: macToString(buf, 6),
    senderMac: macToString(buf, sha),
    senderIp,
    targetMac: macToString(buf, tha),
    targetIp,
    gratuitous: senderIp === targetIp && senderIp !== '0.0.0.0',
    vlan,
  };
}
