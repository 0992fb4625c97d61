// Sending a sweep's requests: the per-request work, kept out of the async sweep().
import { ArpRequestBuilder, MIN_FRAME_LENGTH } from '../arp/codec.js';
import type { ArpChannel } from '../capture/arp-channel.js';
import { intToIpv4 } from '../net/ipv4.js';
import { now } from './clock.js';

/**
 * now() of the first request to each address, as float32 ms after the sweep started (half the
 * memory of float64; the precision, ~0.02 ms after minutes, is plenty for a timeout).
 */
export class FirstAsks {
  private readonly base: number; // 1 ms before the sweep: 0 stays free for "not asked yet"
  private readonly offsets: Float32Array;

  constructor(size: number, sweepStart: number) {
    this.base = sweepStart - 1;
    this.offsets = new Float32Array(size);
  }

  record(i: number, t: number): void {
    if (this.offsets[i] === 0) this.offsets[i] = t - this.base;
  }

  /** 0 if never asked. */
  at(i: number): number {
    return this.offsets[i] === 0 ? 0 : this.base + this.offsets[i];
  }
}

/**
 * The per-request work of a sweep, kept out of the async sweep(): V8 then optimizes this small
 * loop instead of all of sweep(), whose optimized compile took ~33 ms of CPU in a /16 one-shot
 * sweep (--trace-opt) and was redone after a deopt.
 */
export class RequestSender {
  // One batch of frames, reused: each slot holds the broadcast request and only the target
  // address is rewritten per request, so a sweep makes no garbage per request, and a whole burst
  // leaves in one system call (sendmmsg in src/capture/native/packet_sender.c).
  private readonly batch: Buffer;
  private readonly template: Buffer;
  private readonly unicastSlot: Uint8Array; // 1 where a unicast frame replaced the template
  private filled = 0;

  constructor(
    private readonly channel: ArpChannel,
    private readonly builder: ArpRequestBuilder,
    private readonly targets: Uint32Array,
    private readonly answered: Uint8Array,
    private readonly sentAt: Float64Array,
    private readonly firstAsks: FirstAsks,
    private readonly unicast: ReadonlyMap<string, string> | undefined,
    slots: number,
  ) {
    this.template = builder.build(0);
    this.batch = Buffer.alloc(slots * MIN_FRAME_LENGTH);
    for (let s = 0; s < slots; s++) this.template.copy(this.batch, s * MIN_FRAME_LENGTH);
    this.unicastSlot = new Uint8Array(slots);
  }

  /**
   * Asks pending[from..to) that are still silent; returns the number of requests sent. A batch
   * leaves in one system call, so its requests share one send time (one clock read per batch).
   */
  send(pending: Uint32Array, from: number, to: number): number {
    let sent = 0;
    let t = now();
    for (let k = from; k < to; k++) {
      const i = pending[k];
      if (this.answered[i]) continue; // a late reply arrived meanwhile
      if (this.filled === this.unicastSlot.length) {
        this.flush();
        t = now();
      }
      const slot = this.filled++;
      const o = slot * MIN_FRAME_LENGTH;
      const ip = this.targets[i];
      const mac = this.unicast?.get(intToIpv4(ip));
      if (mac) {
        this.builder.build(ip, mac).copy(this.batch, o);
        this.unicastSlot[slot] = 1;
      } else {
        if (this.unicastSlot[slot]) {
          this.template.copy(this.batch, o);
          this.unicastSlot[slot] = 0;
        }
        // ARP target protocol address, byte by byte: no call that would box the number
        this.batch[o + 38] = ip >>> 24;
        this.batch[o + 39] = (ip >>> 16) & 255;
        this.batch[o + 40] = (ip >>> 8) & 255;
        this.batch[o + 41] = ip & 255;
      }
      this.sentAt[i] = t;
      this.firstAsks.record(i, t);
      sent++;
    }
    this.flush();
    return sent;
  }

  private flush(): void {
    if (this.filled === 0) return;
    const n = this.filled;
    this.filled = 0;
    this.channel.sendFrames(this.batch, MIN_FRAME_LENGTH, n);
  }
}
