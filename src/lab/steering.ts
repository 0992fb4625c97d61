// ARP steering for large labs: broadcast flooding to thousands of macvlans does not scale, so an
// ingress tc u32 filter on the devices-side veth hashes each broadcast ARP request on its target
// address and redirects it to the macvlan(s) owning that address; an nftables netdev rule drops
// the rest (the kernel here has no tc gact "drop" action). See
// /work/shared/reference/lab-facts.md for the measurements.
import { must, run } from './run.js';

const HT = 2; // u32 hash table id holding the per-address filters (256 buckets)

export class ArpSteering {
  private readonly filters = new Map<number, string>(); // ip -> u32 handle "2:b:id"
  private readonly bucketIds = new Map<number, Set<number>>();

  constructor(
    private readonly devicesNs: string,
    private readonly devicesIf: string,
  ) {}

  /**
   * Installs the nftables rule that drops broadcast requests no device owns (it runs after tc
   * ingress) and returns the tc lines that create the u32 hash table. For a fresh interface:
   * every filter is forgotten.
   */
  async head(): Promise<string[]> {
    this.filters.clear();
    this.bucketIds.clear();
    const devicesIf = this.devicesIf;
    await must('ip', ['netns', 'exec', this.devicesNs, 'nft', '-f', '-'], [
      `table netdev ghlab {`,
      `  chain unsteered {`,
      `    type filter hook ingress device "${devicesIf}" priority 0; policy accept;`,
      `    ether daddr ff:ff:ff:ff:ff:ff arp operation request drop`,
      `  }`,
      `}`,
    ].join('\n') + '\n');
    return [
      `qdisc add dev ${devicesIf} clsact`,
      `filter add dev ${devicesIf} ingress prio 1 handle ${HT}: protocol arp u32 divisor 256`,
      // broadcast ARP requests (op 1 at offset 6, dst MAC ff.. at -14) -> bucket = low byte of target IP (offset 24)
      `filter add dev ${devicesIf} ingress prio 1 protocol arp u32 ht 800:: ` +
        `match u16 0x0001 0xffff at 6 match u16 0xffff 0xffff at -14 match u32 0xffffffff 0xffffffff at -12 ` +
        `hash mask 0x000000ff at 24 link ${HT}:`,
    ];
  }

  /** Removes the nftables rule (the veth it hooks is about to go). */
  async removeRule(): Promise<void> {
    await run('ip', ['netns', 'exec', this.devicesNs, 'nft', 'delete', 'table', 'netdev', 'ghlab']);
  }

  /** tc lines that steer requests for address `n` to the interfaces in `targets` (none: remove its filter). */
  lines(n: number, targets: readonly string[]): string[] {
    let handle = this.filters.get(n);
    const bucket = (n & 255).toString(16);
    const base = `filter %s dev ${this.devicesIf} ingress prio 1 handle %h protocol arp u32`;
    if (targets.length === 0) {
      if (!handle) return [];
      this.filters.delete(n);
      this.bucketIds.get(n & 255)!.delete(Number.parseInt(handle.split(':')[2], 16));
      return [base.replace('%s', 'del').replace('%h', handle)];
    }
    let verb = 'replace';
    if (!handle) {
      verb = 'add';
      const ids = this.bucketIds.get(n & 255) ?? new Set<number>();
      this.bucketIds.set(n & 255, ids);
      let id = 1;
      while (ids.has(id)) id++;
      ids.add(id);
      handle = `${HT}:${bucket}:${id.toString(16)}`;
      this.filters.set(n, handle);
    }
    // mirred can mirror to all but the last owner and redirect to the last (spoofed addresses)
    const actions = targets.map((ifname, i) => `action mirred ingress ${i === targets.length - 1 ? 'redirect' : 'mirror'} dev ${ifname}`);
    return [
      `${base.replace('%s', verb).replace('%h', handle)} ht ${HT}:${bucket}: ` +
        `match u32 0x${n.toString(16).padStart(8, '0')} 0xffffffff at 24 ${actions.join(' ')}`,
    ];
  }
}
