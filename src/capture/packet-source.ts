import { createRequire } from 'node:module';

/** What the sweeper and the passive listener need from a capture session. */
export interface PacketSource {
  readonly interfaceName: string;
  /** Frames are copies: safe to keep across awaits. `tsMs` is the kernel capture time (epoch ms). */
  onPacket(handler: (frame: Buffer, tsMs: number) => void): () => void;
  inject(frame: Buffer): void;
  stats(): CaptureStats;
  close(): void;
}

export interface CaptureStats {
  received: number;
  dropped: number;
  interfaceDropped: number;
}

export interface OpenOptions {
  filter?: string;
  /** Kernel ring size. Reply bursts of a fast sweep overflow small buffers and silently lose replies. */
  bufferBytes?: number;
  snapLength?: number;
}

export class CaptureError extends Error {
  constructor(message: string, readonly kind: 'permission' | 'interface' | 'library' | 'other') {
    super(message);
  }
}

export const CAP_NET_RAW_HELP =
  'missing capability CAP_NET_RAW: ARP sweeps need raw packet access. Run as root, or grant it: ' +
  '`sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")"`, ' +
  'systemd `AmbientCapabilities=CAP_NET_RAW`, docker `--cap-add=NET_RAW` (compose `cap_add: [NET_RAW]`)';

interface PcapSessionLike {
  on(event: 'packet', cb: (p: { buf: Buffer; header: Buffer }) => void): void;
  inject(frame: Buffer): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  close(): void;
}

interface PcapModule {
  createSession(device: string, opts: Record<string, unknown>): PcapSessionLike;
  warningHandler: (message: string) => void;
}

let pcapModule: PcapModule | null = null;

export const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024;

function loadPcap(): PcapModule {
  if (pcapModule) return pcapModule;
  try {
    pcapModule = createRequire(import.meta.url)('pcap') as PcapModule;
  } catch (err) {
    throw new CaptureError(
      `cannot load the libpcap binding (npm package "pcap"): ${(err as Error).message}. ` +
        'Install libpcap-dev, python3, make and g++, then run `npm install` again',
      'library',
    );
  }
  // pcap warns on stderr when an interface has no IPv4 netmask; that is harmless for ARP.
  pcapModule.warningHandler = () => {};
  return pcapModule;
}

function classify(iface: string, err: Error): CaptureError {
  const msg = err.message;
  if (/permission|not permitted|EPERM/i.test(msg)) return new CaptureError(`${iface}: ${CAP_NET_RAW_HELP}`, 'permission');
  if (/No such device|doesn't exist|does not exist|not up|SIOCGIFHWADDR|No such file/i.test(msg)) {
    return new CaptureError(`interface "${iface}" cannot be opened: ${msg}`, 'interface');
  }
  return new CaptureError(`${iface}: libpcap: ${msg}`, 'other');
}

/**
 * Opens one long-lived libpcap session. node_pcap reuses a single buffer for every packet
 * and crashes when sessions are created and destroyed repeatedly, so callers keep one per
 * interface for the life of the process.
 */
export function openPacketSource(iface: string, opts: OpenOptions = {}): PacketSource {
  const pcap = loadPcap();
  let session: PcapSessionLike;
  try {
    session = pcap.createSession(iface, {
      filter: opts.filter ?? 'arp',
      promiscuous: false,
      // libpcap's immediate mode uses a TPACKET_V2 ring of fixed-size slots (~208 bytes each at
      // snap length 128), so 4 MiB hold ~19 000 frames: every reply of a full-rate /16 with
      // 10 000 live devices. The ring is allocated, zeroed and mapped up front: 32 MiB cost a
      // one-shot sweep ~80 ms of start-up and 32 MB of RSS.
      buffer_size: opts.bufferBytes ?? DEFAULT_BUFFER_BYTES,
      snap_length: opts.snapLength ?? 128,
      buffer_timeout: 0, // immediate mode: replies reach us as they arrive
    });
  } catch (err) {
    throw classify(iface, err as Error);
  }
  const handlers = new Set<(frame: Buffer, tsMs: number) => void>();
  let closed = false;
  session.on('packet', ({ buf, header }) => {
    const caplen = header.readUInt32LE(8);
    const tsMs = header.readUInt32LE(0) * 1000 + header.readUInt32LE(4) / 1000;
    const frame = Buffer.from(buf.subarray(0, Math.min(caplen, buf.length)));
    for (const h of handlers) h(frame, tsMs);
  });
  return {
    interfaceName: iface,
    onPacket(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    inject(frame) {
      if (closed) throw new CaptureError(`${iface}: capture session is closed`, 'other');
      try {
        session.inject(frame);
      } catch (err) {
        throw classify(iface, err as Error);
      }
    },
    stats() {
      if (closed) return { received: 0, dropped: 0, interfaceDropped: 0 };
      const s = session.stats();
      return { received: s.ps_recv, dropped: s.ps_drop, interfaceDropped: s.ps_ifdrop };
    },
    close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      // node_pcap's close() only calls pcap_breakloop: its libuv poll handle stays referenced
      // until another packet arrives, so the process would not exit by itself. Entry points
      // therefore end with process.exit() once their work is flushed.
      session.close();
    },
  };
}
