import { decodeArp, isDecodeError, type ArpPacket, type DecodeErrorReason } from '../arp/codec.js';
import type { CaptureStats, PacketSource } from './packet-source.js';

export type ArpHandler = (packet: ArpPacket, tsMs: number) => void;

/** Decodes captured frames once and fans ARP packets out to the sweeper and the passive listener. */
export class ArpChannel {
  private readonly handlers = new Set<ArpHandler>();
  readonly bogus = new Map<DecodeErrorReason, number>();
  framesReceived = 0;
  private readonly unsubscribe: () => void;

  constructor(readonly source: PacketSource) {
    this.unsubscribe = source.onPacket((frame, tsMs) => this.receive(frame, tsMs));
  }

  /** Also used by tests and fuzzers to push frames through exactly the production path. */
  receive(frame: Uint8Array, tsMs: number): void {
    const decoded = decodeArp(frame);
    if (isDecodeError(decoded)) {
      this.bogus.set(decoded.error, (this.bogus.get(decoded.error) ?? 0) + 1);
      return;
    }
    this.framesReceived++;
    for (const h of this.handlers) h(decoded, tsMs);
  }

  onArp(handler: ArpHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  sendFrames(frames: Buffer, frameLength: number, count: number): void {
    this.source.sendFrames(frames, frameLength, count);
  }

  stats(): CaptureStats {
    return this.source.stats();
  }

  close(): void {
    this.unsubscribe();
    this.handlers.clear();
    this.source.close();
  }
}
