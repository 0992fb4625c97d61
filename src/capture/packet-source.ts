import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { interfaceMac } from '../net/interfaces.js';

/** What the sweeper and the passive listener need from a capture session. */
export interface PacketSource {
  readonly interfaceName: string;
  /** Frames are copies: safe to keep across awaits. `tsMs` is the kernel capture time (epoch ms). */
  onPacket(handler: (frame: Buffer, tsMs: number) => void): () => void;
  /** Sends `count` ARP frames laid out back to back in `frames`, `frameLength` bytes each. */
  sendFrames(frames: Buffer, frameLength: number, count: number): void;
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

/** node_pcap's native session (pcap_session.cc); its pcap.js wrapper is not used, see loadBinding(). */
interface NativeSession {
  open_live(
    device: string,
    filter: string,
    bufferSize: number,
    snapLength: number,
    dumpFile: string,
    onPacket: () => void,
    monitor: boolean,
    bufferTimeout: number,
    onWarning: (message: string) => void,
    promiscuous: boolean,
  ): string;
  /** Calls onPacket once per queued frame, each copied into `buf`/`header`; -2 once close() took effect. */
  dispatch(buf: Buffer, header: Buffer): number;
  start_polling(): void;
  read_callback?: () => void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  close(): void;
}

interface PcapBinding {
  PcapSession: new () => NativeSession;
}

/** Our batch sender, src/capture/native/packet_sender.c (built by `npm install`). */
export interface NativeSender {
  open(iface: string): { fd: number; ifindex: number };
  send(fd: number, ifindex: number, frames: Buffer, frameLength: number, count: number): number;
  close(fd: number): void;
}

let sender: NativeSender | null = null;

// The same path from src/capture (tsx) and dist/capture (compiled): both are two levels down.
const SENDER_PATH = fileURLToPath(new URL('../../src/capture/native/build/Release/packet_sender.node', import.meta.url));

export function loadSender(): NativeSender {
  if (sender) return sender;
  try {
    sender = createRequire(import.meta.url)(SENDER_PATH) as NativeSender;
  } catch (err) {
    throw new CaptureError(
      `cannot load the packet sender (${SENDER_PATH}): ${(err as Error).message}. Install python3, make and g++, then run \`npm install\` again`,
      'library',
    );
  }
  return sender;
}

/**
 * The capture filter: ARP, minus the requests this interface sends itself. Requests go out
 * through our own socket, and Linux hands a frame to every packet socket but the one that sent
 * it, so without the exclusion the capture would see each of our requests. Only frames that
 * carry the interface's MAC as both Ethernet source and ARP sender are left out: a spoofer that
 * borrows our MAC for the Ethernet header alone stays visible.
 */
function captureFilter(iface: string): string {
  const mac = interfaceMac(iface);
  if (!mac || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) return 'arp';
  const hex = mac.replace(/:/g, '');
  return `arp and not (ether src ${mac} and arp[6:2] = 1 and arp[8:4] = 0x${hex.slice(0, 8)} and arp[12:2] = 0x${hex.slice(8)})`;
}

let binding: PcapBinding | null = null;

export const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024;
const MIN_SWEEP_BUFFER_BYTES = 1024 * 1024;

/**
 * Ring size for a one-shot sweep of `addresses`. The sweeper reads the ring after every burst of
 * requests, so the ring only has to hold what arrives during one burst plus a stall (GC pause,
 * descheduling): 1 MiB (~5000 slots of ~208 bytes, see openPacketSource) holds every reply of a
 * /16 with 4000 devices even if nothing were read until the end, and lost replies show in
 * pcap_dropped and are asked again by retries. Larger sweeps get 16 bytes per address, up to the
 * default. The whole ring counts in RSS from the start.
 */
export function sweepBufferBytes(addresses: number): number {
  return Math.min(DEFAULT_BUFFER_BYTES, Math.max(MIN_SWEEP_BUFFER_BYTES, addresses * 16));
}

/**
 * Loads node_pcap's compiled binding without its pcap.js entry point, which also loads a
 * decoder for every protocol node_pcap knows, a TCP tracker and a reverse-DNS cache (node:dns):
 * ~30 modules we never use, ~15 ms of CPU and ~0.5 MB of RSS per one-shot sweep. The version
 * is pinned (package.json); openPacketSource() drives the session as pcap.js's createSession().
 */
function loadBinding(): PcapBinding {
  if (binding) return binding;
  try {
    binding = createRequire(import.meta.url)('pcap/build/Release/pcap_binding.node') as PcapBinding;
  } catch (err) {
    throw new CaptureError(
      `cannot load the libpcap binding (npm package "pcap"): ${(err as Error).message}. ` +
        'Install libpcap-dev, python3, make and g++, then run `npm install` again',
      'library',
    );
  }
  return binding;
}

// libpcap warns when an interface has no IPv4 netmask; that is harmless for ARP.
const ignoreWarning = (): void => {};

function classify(iface: string, err: Error, source = 'libpcap'): CaptureError {
  const msg = err.message;
  if (/permission|not permitted|EPERM/i.test(msg)) return new CaptureError(`${iface}: ${CAP_NET_RAW_HELP}`, 'permission');
  if (/No such device|doesn't exist|does not exist|not up|Network is down|SIOCGIFHWADDR|No such file/i.test(msg)) {
    return new CaptureError(`interface "${iface}" cannot be opened: ${msg}`, 'interface');
  }
  return new CaptureError(`${iface}: ${source}: ${msg}`, 'other');
}

/**
 * Opens one long-lived libpcap session. node_pcap reuses a single buffer for every packet
 * and crashes when sessions are created and destroyed repeatedly, so callers keep one per
 * interface for the life of the process.
 */
export function openPacketSource(iface: string, opts: OpenOptions = {}): PacketSource {
  const { PcapSession } = loadBinding();
  const snapLength = opts.snapLength ?? 128;
  const handlers = new Set<(frame: Buffer, tsMs: number) => void>();
  let closed = false;
  // The binding copies each frame and its pcap_pkthdr into these two buffers before onPacket.
  const buf = Buffer.alloc(snapLength);
  const header = Buffer.alloc(16);
  const onPacket = (): void => {
    if (closed) return;
    const caplen = header.readUInt32LE(8);
    const tsMs = header.readUInt32LE(0) * 1000 + header.readUInt32LE(4) / 1000;
    const frame = Buffer.copyBytesFrom(buf, 0, Math.min(caplen, buf.length));
    for (const h of handlers) h(frame, tsMs);
  };
  const native = loadSender();
  let out: { fd: number; ifindex: number };
  try {
    out = native.open(iface);
  } catch (err) {
    throw classify(iface, err as Error, 'packet socket');
  }
  const session = new PcapSession();
  try {
    session.open_live(
      iface,
      opts.filter ?? captureFilter(iface),
      // libpcap's immediate mode uses a TPACKET_V2 ring of fixed-size slots (~208 bytes each at
      // snap length 128), so 4 MiB hold ~19 000 frames: every reply of a full-rate /16 with
      // 10 000 live devices. The ring is allocated, zeroed and mapped up front: 32 MiB cost a
      // one-shot sweep ~80 ms of start-up and 32 MB of RSS.
      opts.bufferBytes ?? DEFAULT_BUFFER_BYTES,
      snapLength,
      '',
      onPacket,
      false,
      0, // immediate mode: replies reach us as they arrive
      ignoreWarning,
      false,
    );
    session.read_callback = () => {
      session.dispatch(buf, header);
    };
    session.start_polling();
  } catch (err) {
    native.close(out.fd);
    throw classify(iface, err as Error);
  }
  process.nextTick(session.read_callback); // frames queued before the poll handle started
  return {
    interfaceName: iface,
    onPacket(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    sendFrames(frames, frameLength, count) {
      if (closed) throw new CaptureError(`${iface}: capture session is closed`, 'other');
      try {
        native.send(out.fd, out.ifindex, frames, frameLength, count);
      } catch (err) {
        throw classify(iface, err as Error, 'packet socket');
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
      native.close(out.fd);
      // The binding's close() only calls pcap_breakloop: its libuv poll handle stays referenced
      // until another packet arrives, so the process would not exit by itself. Entry points
      // therefore end with process.exit() once their work is flushed.
      session.close();
    },
  };
}
