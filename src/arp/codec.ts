// Ethernet II + ARP (IPv4 over Ethernet) frames: build requests, parse anything captured.
// Parsing never throws: every failure is a typed DecodeError with a bounded reason.
import { ipv4FromBytes, ipv4ToBytes, ipv4ToInt } from '../net/ipv4.js';
import { macFromBytes, macToBytes } from '../net/mac.js';

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

const BROADCAST = Buffer.from([255, 255, 255, 255, 255, 255]);
const ZERO_MAC = Buffer.alloc(6);

/** Template of a who-has request; only the target IP changes per probe. */
export class ArpRequestBuilder {
  private readonly frame: Buffer;

  constructor(senderMac: string, senderIp: string) {
    const frame = Buffer.alloc(MIN_FRAME_LENGTH);
    BROADCAST.copy(frame, 0);
    macToBytes(senderMac).copy(frame, 6);
    frame.writeUInt16BE(ETHERTYPE_ARP, 12);
    frame.writeUInt16BE(1, 14); // hardware: Ethernet
    frame.writeUInt16BE(0x0800, 16); // protocol: IPv4
    frame[18] = 6;
    frame[19] = 4;
    frame.writeUInt16BE(ARP_REQUEST, 20);
    macToBytes(senderMac).copy(frame, 22);
    ipv4ToBytes(senderIp).copy(frame, 28);
    ZERO_MAC.copy(frame, 32);
    this.frame = frame;
  }

  /** Returns a fresh frame asking for `targetIp`; `unicastMac` re-probes one known device directly. */
  build(targetIp: number, unicastMac?: string): Buffer {
    const f = Buffer.from(this.frame);
    f.writeUInt32BE(targetIp >>> 0, 38);
    if (unicastMac) macToBytes(unicastMac).copy(f, 0);
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
  (p.ethDst ? macToBytes(p.ethDst) : BROADCAST).copy(frame, 0);
  macToBytes(p.ethSrc ?? p.senderMac).copy(frame, 6);
  frame.writeUInt16BE(ETHERTYPE_ARP, 12);
  frame.writeUInt16BE(1, 14);
  frame.writeUInt16BE(0x0800, 16);
  frame[18] = 6;
  frame[19] = 4;
  frame.writeUInt16BE(p.op === 'request' ? ARP_REQUEST : ARP_REPLY, 20);
  macToBytes(p.senderMac).copy(frame, 22);
  ipv4ToBytes(p.senderIp).copy(frame, 28);
  (p.targetMac ? macToBytes(p.targetMac) : ZERO_MAC).copy(frame, 32);
  ipv4ToBytes(p.targetIp).copy(frame, 38);
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
  const senderIp = ipv4FromBytes(buf, spa);
  const targetIp = ipv4FromBytes(buf, tpa);
  return {
    op: opcode === ARP_REQUEST ? 'request' : 'reply',
    ethDst: macFromBytes(buf, 0),
    ethSrc: macFromBytes(buf, 6),
    senderMac: macFromBytes(buf, sha),
    senderIp,
    targetMac: macFromBytes(buf, tha),
    targetIp,
    gratuitous: senderIp === targetIp && senderIp !== '0.0.0.0',
    vlan,
  };
}
