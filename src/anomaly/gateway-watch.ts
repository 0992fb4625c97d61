// Which IP is the gateway and which MACs legitimately answer for it: the configured gateway, else
// the IP answered in most sweeps (preferring x.x.x.1); a MAC that answers for it alone for an hour
// of sweeps is learned. Sweep indices count sweeps since the feature state started.

/** GatewayWatch as plain data (JSON-safe); part of FeatureStateSnapshot. */
export interface GatewayWatchSnapshot {
  ipSweeps: [string, number][];
  gwAlone: [string, number][];
  gwLearned: string[];
  gwCache: { idx: number; ip: string | null };
}

export class GatewayWatch {
  /** sweeps each IP answered in */
  private ipSweeps = new Map<string, number>();
  /** the MAC that answered alone for the gateway IP, with its consecutive sweeps */
  private gwAlone = new Map<string, number>();
  private gwLearned = new Set<string>();
  private gwCache: { idx: number; ip: string | null } = { idx: -1, ip: null };

  constructor(
    private readonly configuredIp: string | undefined,
    private readonly hourSweeps: number,
  ) {}

  snapshot(): GatewayWatchSnapshot {
    return { ipSweeps: [...this.ipSweeps], gwAlone: [...this.gwAlone], gwLearned: [...this.gwLearned], gwCache: { ...this.gwCache } };
  }

  restore(snap: GatewayWatchSnapshot): void {
    this.ipSweeps = new Map(snap.ipSweeps);
    this.gwAlone = new Map(snap.gwAlone);
    this.gwLearned = new Set(snap.gwLearned);
    this.gwCache = { ...snap.gwCache };
  }

  /** The gateway's IP at sweep `idx`; inferred ones are recomputed once an hour of sweeps. */
  ip(idx: number): string | null {
    if (this.configuredIp) return this.configuredIp;
    if (this.gwCache.idx >= 0 && idx - this.gwCache.idx < this.hourSweeps) return this.gwCache.ip;
    let best: string | null = null;
    let bestN = 0;
    let bestDot1: string | null = null;
    let bestDot1N = 0;
    for (const [ip, n] of this.ipSweeps) {
      if (n > bestN) {
        best = ip;
        bestN = n;
      }
      if (ip.endsWith('.1') && n > bestDot1N) {
        bestDot1 = ip;
        bestDot1N = n;
      }
    }
    const ip = bestDot1 && bestDot1N >= 0.8 * bestN ? bestDot1 : best;
    this.gwCache = { idx, ip };
    return ip;
  }

  /** MACs answering for the gateway IP besides the learned gateway MAC(s); before any is learned, all but the first. */
  strangers(macs: ReadonlySet<string>): string[] {
    if (this.gwLearned.size === 0) return [...macs].slice(1);
    return [...macs].filter((m) => !this.gwLearned.has(m));
  }

  /** Folds in sweep `idx` (after its features are computed). */
  learn(ipToMacs: ReadonlyMap<string, ReadonlySet<string>>, idx: number): void {
    for (const ip of ipToMacs.keys()) this.ipSweeps.set(ip, (this.ipSweeps.get(ip) ?? 0) + 1);
    const gw = this.ip(idx);
    if (!gw) return;
    const macs = ipToMacs.get(gw);
    if (macs && macs.size === 1) {
      const m = [...macs][0];
      const n = (this.gwAlone.get(m) ?? 0) + 1;
      this.gwAlone.clear();
      this.gwAlone.set(m, n);
      if (n >= this.hourSweeps) this.gwLearned.add(m);
    } else if (macs && macs.size > 1) this.gwAlone.clear();
  }
}
