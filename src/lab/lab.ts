// Network-namespace ARP test lab: an isolated L2 segment in 198.18.0.0/16 whose devices are
// answered by the Linux kernel.
//
//   <name>-lab-scanner netns            <name>-lab-devices netns
//   <name>s0 (scannerIp/16) ==veth== <name>d0 ─┬─ macvlan <name>v1 (mac, ip/16)
//                                              ├─ macvlan <name>v2 ...
//
// With `steer`, broadcast ARP requests are steered to the devices that own their target address
// (steering.ts): flooding thousands of macvlans does not scale.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { intToIpv4 } from '../net/ipv4.js';
import { deviceMac, hostAddresses, inLabNet, LAB_NET, labIp, labMac, parseLabCidr, randomLocalMac, type Cidr } from './addressing.js';
import {
  deleteNamespace,
  devicesNamespace,
  forget,
  LAB_NAME_RE,
  namespaceExists,
  removeAtExit,
  scannerNamespace,
} from './namespaces.js';
import { must, run, type RunResult } from './run.js';
import { ArpSteering } from './steering.js';

export { cleanupStaleLabs, listLabNamespaces, removeLab } from './namespaces.js';

export interface LabDevice {
  ifname: string;
  mac: string; // lower-case aa:bb:cc:dd:ee:ff
  ip: string;
}

export interface LabOptions {
  /** unique prefix, [a-z][a-z0-9]{0,7}; default `gh` + 4 random chars */
  name?: string;
  /** where devices live, inside 198.18.0.0/16; default 198.18.0.0/24 */
  cidr?: string;
  /** spread the devices evenly across the cidr instead of sequentially from the first host */
  spread?: boolean;
  /** first device is the scanner's default gateway; default true */
  gateway?: boolean;
  /** tc steering of ARP requests per target address; default true (needed beyond ~300 devices) */
  steer?: boolean;
}

export type LabExecResult = RunResult;

const IFNAMSIZ = 15;
export const LAB_SCANNER_IP = '198.18.255.254';
const SCANNER_IP_INT = labIp(LAB_SCANNER_IP);

interface Dev extends LabDevice {
  n: number; // ip as integer
  up: boolean;
}

export class Lab {
  readonly scannerNs: string;
  readonly devicesNs: string;
  readonly scannerIf: string;
  readonly devicesIf: string; // the devices-side veth, lower device of every macvlan
  readonly scannerIp = LAB_SCANNER_IP;
  readonly scannerMac: string;
  readonly cidr: string;
  readonly gatewayIp?: string;

  private readonly net: Cidr;
  private readonly devs = new Map<string, Dev>(); // by ifname, insertion order
  private readonly macs = new Set<string>();
  private readonly macGen = new Map<number, number>(); // ip -> next generated-MAC generation
  private readonly steering: ArpSteering | null;
  private nextIf = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private isDown = false;

  private constructor(
    readonly name: string,
    net: Cidr,
    readonly steer: boolean,
    gatewayIp: string | undefined,
  ) {
    this.gatewayIp = gatewayIp;
    this.net = net;
    this.cidr = net.text;
    this.scannerNs = scannerNamespace(name);
    this.devicesNs = devicesNamespace(name);
    this.scannerIf = `${name}s0`;
    this.devicesIf = `${name}d0`;
    this.scannerMac = randomLocalMac();
    this.steering = steer ? new ArpSteering(this.devicesNs, this.devicesIf) : null;
  }

  static async up(count: number, opts: LabOptions = {}): Promise<Lab> {
    const name = opts.name ?? 'gh' + randomBytes(4).toString('hex').slice(0, 4);
    if (!LAB_NAME_RE.test(name)) throw new Error(`lab: name "${name}" must match ${LAB_NAME_RE} (interface names <= ${IFNAMSIZ} chars)`);
    const net = parseLabCidr(opts.cidr ?? '198.18.0.0/24');
    if (!Number.isInteger(count) || count < 0) throw new Error(`lab: invalid device count ${count}`);
    const hosts = hostAddresses(net, new Set([SCANNER_IP_INT]));
    if (count > hosts.length) throw new Error(`lab: ${count} devices do not fit in ${net.text} (${hosts.length} usable)`);
    const ips = opts.spread
      ? Array.from({ length: count }, (_, i) => hosts[Math.floor((i * hosts.length) / count)])
      : hosts.slice(0, count);

    const gatewayIp = (opts.gateway ?? true) && ips.length > 0 ? intToIpv4(ips[0]) : undefined;
    const lab = new Lab(name, net, opts.steer ?? true, gatewayIp);
    for (const ns of [lab.scannerNs, lab.devicesNs]) {
      if (namespaceExists(ns)) throw new Error(`lab: netns ${ns} already exists (stale lab? see cleanupStaleLabs)`);
    }
    removeAtExit(lab);
    try {
      await lab.build(ips);
    } catch (e) {
      await lab.down().catch(() => {});
      throw e;
    }
    return lab;
  }

  private async build(ips: number[]): Promise<void> {
    const { scannerNs: S, devicesNs: D, scannerIf, devicesIf } = this;
    await must('ip', ['netns', 'add', S]);
    await must('ip', ['netns', 'add', D]);
    const noV6 = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
    await Promise.all([
      must('ip', ['netns', 'exec', S, 'sysctl', '-q', '-w', ...noV6]),
      must('ip', ['netns', 'exec', D, 'sysctl', '-q', '-w', ...noV6,
        // effective value is max(all, dev), so "all" covers every macvlan
        'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2',
        'net.ipv4.conf.all.arp_filter=0', 'net.ipv4.conf.default.arp_filter=0']),
    ]);
    await must('ip', ['link', 'add', 'name', scannerIf, 'address', this.scannerMac, 'netns', S,
      'type', 'veth', 'peer', 'name', devicesIf, 'netns', D]);
    await this.ipBatch(S, [
      'link set lo up',
      `link set ${scannerIf} up`,
      `addr add ${this.scannerIp}/16 dev ${scannerIf}`,
      ...this.gatewayRoute(),
    ]);
    const pre = [`link set ${devicesIf} up`];
    for (const n of ips) pre.push(...this.createLines(this.newDev(n, this.nextMac(n))));
    await this.apply(pre, ips, [], await this.steering?.head());
  }

  private gatewayRoute(): string[] {
    return this.gatewayIp ? [`route replace default via ${this.gatewayIp} dev ${this.scannerIf}`] : [];
  }

  /** Current devices whose link is up (the ones that should answer ARP). */
  devices(): LabDevice[] {
    return [...this.devs.values()]
      .filter((d) => d.up)
      .sort((a, b) => a.n - b.n || (a.mac < b.mac ? -1 : 1))
      .map(({ ifname, mac, ip }) => ({ ifname, mac, ip }));
  }

  addDevice(ip?: string, mac?: string): Promise<LabDevice> {
    return this.serial(async () => {
      const n = ip === undefined ? this.nextFreeIp() : this.checkIp(ip);
      if (this.owners(n).length > 0) throw new Error(`lab: ${intToIpv4(n)} is already in use (use spoof for a second MAC)`);
      const d = this.newDev(n, this.takeMac(n, mac));
      await this.apply(this.createLines(d), [n], []);
      return this.publicDev(d);
    });
  }

  removeDevice(ip: string): Promise<void> {
    return this.serial(async () => {
      const n = this.checkIp(ip);
      const gone = this.owners(n);
      if (gone.length === 0) throw new Error(`lab: no device has ${ip}`);
      for (const d of gone) this.forget(d);
      await this.apply([], [n], gone.map((d) => `link del ${d.ifname}`));
    });
  }

  moveIp(ip: string, newMac?: string): Promise<LabDevice> {
    return this.serial(async () => {
      const n = this.checkIp(ip);
      const old = this.owners(n);
      if (old.length === 0) throw new Error(`lab: no device has ${ip}`);
      const d = this.newDev(n, this.takeMac(n, newMac));
      for (const o of old) this.forget(o);
      await this.apply(this.createLines(d), [n], old.map((o) => `link del ${o.ifname}`));
      return this.publicDev(d);
    });
  }

  spoof(ip: string, mac?: string): Promise<LabDevice> {
    return this.serial(async () => {
      const n = this.checkIp(ip);
      const d = this.newDev(n, this.takeMac(n, mac));
      await this.apply(this.createLines(d), [n], []);
      return this.publicDev(d);
    });
  }

  setDeviceUp(ip: string, up: boolean): Promise<void> {
    return this.serial(async () => {
      const n = this.checkIp(ip);
      const ds = this.owners(n);
      if (ds.length === 0) throw new Error(`lab: no device has ${ip}`);
      for (const d of ds) d.up = up;
      // Taking a link down flushes its neighbours, permanent ones included, so re-add on up.
      // Down devices are left out of the steering filter (mirred to a down device logs warnings).
      const linkLines = ds.flatMap((d) =>
        up ? [`link set ${d.ifname} up`, this.neighLine(d.ifname)] : [`link set ${d.ifname} down`],
      );
      await this.apply(up ? linkLines : [], [n], up ? [] : linkLines);
    });
  }

  setScannerLink(up: boolean): Promise<void> {
    return this.serial(async () => {
      // the default route disappears with the link, so restore it
      await this.ipBatch(this.scannerNs, [`link set ${this.scannerIf} ${up ? 'up' : 'down'}`, ...(up ? this.gatewayRoute() : [])]);
    });
  }

  /**
   * Deletes the scanner's interface (a vanished NIC). The veth peer and with it every device's
   * macvlan go too; createScannerLink() brings the same names, MACs and addresses back.
   */
  deleteScannerLink(): Promise<void> {
    return this.serial(async () => {
      await must('ip', ['-n', this.scannerNs, 'link', 'del', this.scannerIf]);
      await this.steering?.removeRule();
    });
  }

  /** Re-creates the scanner's interface and every device after deleteScannerLink(). */
  createScannerLink(): Promise<void> {
    return this.serial(async () => {
      const { scannerNs: S, devicesNs: D, scannerIf, devicesIf } = this;
      await must('ip', ['link', 'add', 'name', scannerIf, 'address', this.scannerMac, 'netns', S,
        'type', 'veth', 'peer', 'name', devicesIf, 'netns', D]);
      await this.ipBatch(S, [`link set ${scannerIf} up`, `addr add ${this.scannerIp}/16 dev ${scannerIf}`, ...this.gatewayRoute()]);
      const devs = [...this.devs.values()];
      const pre = [`link set ${devicesIf} up`];
      for (const d of devs) pre.push(...this.createLines(d), ...(d.up ? [] : [`link set ${d.ifname} down`]));
      await this.apply(pre, [...new Set(devs.map((d) => d.n))], [], await this.steering?.head());
    });
  }

  /** Every device with `ip` sends a gratuitous ARP (arp_notify + a MAC "change" to the same MAC). */
  announce(ip: string): Promise<void> {
    return this.serial(async () => {
      const ds = this.owners(this.checkIp(ip)).filter((d) => d.up);
      if (ds.length === 0) throw new Error(`lab: no live device has ${ip}`);
      await must('ip', ['netns', 'exec', this.devicesNs, 'sysctl', '-q', '-w',
        ...ds.map((d) => `net.ipv4.conf.${d.ifname}.arp_notify=1`)]);
      await this.ipBatch(this.devicesNs, ds.map((d) => `link set ${d.ifname} address ${d.mac}`));
    });
  }

  /** Leave the lab in place when this process exits (CLI `lab up`); remove it later with `lab down`. */
  keep(): void {
    forget(this);
  }

  exec(cmd: string[], opts: { ns?: 'scanner' | 'devices'; timeoutMs?: number } = {}): Promise<LabExecResult> {
    const ns = opts.ns === 'devices' ? this.devicesNs : this.scannerNs;
    return run('ip', ['netns', 'exec', ns, ...cmd], { timeoutMs: opts.timeoutMs });
  }

  /** Long-running process inside the scanner namespace (`ip netns exec` execs the command in place). */
  spawnInScanner(cmd: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.scannerNs, ...cmd], opts);
  }

  /** Idempotent; removes both namespaces by exact name (and with them every interface). */
  async down(): Promise<void> {
    this.isDown = true;
    await this.queue.catch(() => {});
    // Deleting the lower device first tears all macvlans down synchronously, so the kernel is
    // not still busy with them (holding RTNL) when the next lab comes up.
    if (namespaceExists(this.devicesNs)) await run('ip', ['-n', this.devicesNs, 'link', 'del', this.devicesIf]);
    await deleteNamespace(this.devicesNs);
    await deleteNamespace(this.scannerNs);
    forget(this);
  }

  // ---- internals ----

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.isDown) return Promise.reject(new Error(`lab ${this.name} is down`));
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }

  private checkIp(ip: string): number {
    const n = labIp(ip);
    if (!inLabNet(n) || n === SCANNER_IP_INT || n === LAB_NET || n === (LAB_NET | 0xffff) >>> 0) {
      throw new Error(`lab: ${ip} is not a usable device address in 198.18.0.0/16`);
    }
    return n;
  }

  private owners(n: number): Dev[] {
    return [...this.devs.values()].filter((d) => d.n === n);
  }

  private nextFreeIp(): number {
    const used = new Set([...this.devs.values()].map((d) => d.n));
    used.add(SCANNER_IP_INT);
    const size = 2 ** (32 - this.net.prefix);
    for (let n = this.net.network + 1; n < this.net.network + size - 1; n++) if (!used.has(n)) return n;
    throw new Error(`lab: no free address left in ${this.cidr}`);
  }

  private nextMac(n: number): string {
    for (;;) {
      const g = this.macGen.get(n) ?? 0;
      this.macGen.set(n, g + 1);
      const mac = deviceMac(n, g);
      if (!this.macs.has(mac)) return mac;
    }
  }

  private takeMac(n: number, mac?: string): string {
    if (mac === undefined) return this.nextMac(n);
    const m = labMac(mac);
    if (this.macs.has(m) || m === this.scannerMac) throw new Error(`lab: MAC ${m} is already in use`);
    return m;
  }

  private neighLine(ifname: string): string {
    // Permanent entries do not count toward the kernel-wide gc_thresh3 (1024) shared by all netns.
    return `neigh replace ${this.scannerIp} lladdr ${this.scannerMac} dev ${ifname} nud permanent`;
  }

  private newDev(n: number, mac: string): Dev {
    const ifname = `${this.name}v${this.nextIf++}`;
    if (ifname.length > IFNAMSIZ) throw new Error(`lab: interface name ${ifname} too long; use a shorter lab name`);
    const d: Dev = { ifname, mac, ip: intToIpv4(n), n, up: true };
    this.devs.set(ifname, d);
    this.macs.add(mac);
    return d;
  }

  /** `ip` batch lines that create device `d` in the devices namespace. */
  private createLines(d: Dev): string[] {
    const { ifname, mac } = d;
    return [
      // private mode: devices never see each other's frames (no flooding between macvlans)
      `link add link ${this.devicesIf} name ${ifname} address ${mac} type macvlan mode private`,
      `link set ${ifname} up`,
      `addr add ${d.ip}/16 dev ${ifname}`,
      this.neighLine(ifname),
    ];
  }

  private forget(d: Dev): void {
    this.devs.delete(d.ifname);
    this.macs.delete(d.mac);
  }

  private publicDev(d: Dev): LabDevice {
    return { ifname: d.ifname, mac: d.mac, ip: d.ip };
  }

  /** ip lines first, then steering filters for `ips` (from current state), then `post` ip lines. */
  private async apply(pre: string[], ips: number[], post: string[], tcHead: string[] = []): Promise<void> {
    await this.ipBatch(this.devicesNs, pre);
    const steering = this.steering;
    if (steering) {
      const filters = ips.flatMap((n) => steering.lines(n, this.owners(n).filter((d) => d.up).map((d) => d.ifname)));
      await this.tcBatch([...tcHead, ...filters]);
    }
    await this.ipBatch(this.devicesNs, post);
  }

  private async ipBatch(ns: string, lines: string[]): Promise<void> {
    if (lines.length) await must('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
  }

  private async tcBatch(lines: string[]): Promise<void> {
    if (lines.length) await must('tc', ['-n', this.devicesNs, '-batch', '-'], lines.join('\n') + '\n');
  }
}

/** Runs `fn` with a fresh lab and always tears it down, also when `fn` throws. */
export async function withLab<T>(count: number, opts: LabOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.up(count, opts);
  try {
    return await fn(lab);
  } finally {
    await lab.down();
  }
}
