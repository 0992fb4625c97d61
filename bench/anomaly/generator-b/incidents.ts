/**
 * Generator B's labelled anomalies, in shapes of their own: bursts spread over a few sweeps (a batch of
 * IoT devices, VMs, a MAC flood), unknown devices at night, ARP spoofing of the gateway or of a server
 * (sometimes of several hosts) by a new or an existing device, MAC cycling with or without a fixed IP,
 * mass drops of whatever hangs off a failing switch, access point or mesh node (some Wi-Fi clients
 * reconnect elsewhere), and an always-on device missing for one to twelve hours.
 */
import { ANOMALY_KINDS, type AnomalyKind } from '../scenario.js';
import { Network, OUI, PER_DAY, PER_HOUR, WIRED, type Device } from './network.js';

const INFRA = new Set(['router', 'switch', 'ap', 'mesh']);

/** Inject `perHalf[0]` anomalies of each kind into the training half and `perHalf[1]` into the second half. */
export function injectAnomalies(net: Network, perHalf: [number, number], segments: string[], churnIp: () => string): void {
  const half = Math.floor(net.n / 2);
  for (let h = 0; h < 2; h++) {
    for (const kind of ANOMALY_KINDS) {
      for (let k = 0; k < perHalf[h]; k++) {
        for (let tries = 0; tries < 400; tries++) {
          const lo = h === 0 ? 2 * PER_DAY : half + PER_HOUR;
          const hi = h === 0 ? half - PER_HOUR : net.n - PER_HOUR;
          if (inject(net, kind, net.int(lo, hi), hi, segments, churnIp)) break;
        }
      }
    }
  }
}

function inject(net: Network, kind: AnomalyKind, s: number, limit: number, segments: string[], churnIp: () => string): boolean {
  const sweeps = (minH: number, maxH: number) => Math.max(2, Math.round(net.logUniform(minH, maxH) * PER_HOUR));
  const claim = (dur: number) => s + dur <= limit && net.reserve(s, s + dur - 1);
  const rogue = (name: string, oui: readonly number[] | null): Device =>
    net.add({ name, role: 'rogue', policy: oui ? 'vendor' : 'fixed', oui: oui ? [...oui] : [2, 0, 0], radio: { awake: 0.95, doze: 0, enter: 0.005, leave: 0.5 }, alwaysOn: false, segment: 'core' });
  switch (kind) {
    case 'new_burst': {
      const size = Math.round(net.logUniform(5, 25));
      const spread = net.int(0, 6);
      const dur = sweeps(0.25, 3) + spread;
      if (!claim(dur)) return false;
      const style = net.pick(['batch', 'vm', 'random'] as const);
      const oui = style === 'batch' ? net.pick([...OUI.espressif, ...OUI.camera, ...OUI.pi]) : style === 'vm' ? OUI.qemu[0] : null;
      const arrivals: number[] = [];
      for (let k = 0; k < size; k++) {
        const d = rogue(`burst-${s}-${k}`, oui);
        const a = s + net.int(0, spread);
        arrivals.push(a);
        net.setOn(d, a, s + dur - net.int(0, Math.min(3, dur - 1 - (a - s))));
      }
      arrivals.sort((x, y) => x - y);
      net.event(kind, true, s, s + dur - 1, `${size} ${style} MACs over ${spread + 1} sweeps`, arrivals[Math.min(2, size - 1)]);
      return true;
    }
    case 'night_device': {
      const start = net.at(Math.floor(s / PER_DAY), net.uniform(23, 29));
      const dur = sweeps(1 / 6, 5);
      if (start + dur > limit || !net.reserve(start, start + dur - 1)) return false;
      const d = rogue(`night-${start}`, net.chance(0.5) ? net.pick([...OUI.pc, ...OUI.pi, ...OUI.android]) : null);
      net.setOn(d, start, start + dur);
      net.event(kind, true, start, start + dur - 1, `${((dur * 5) / 60).toFixed(1)} h from ${net.hourOf(start).toFixed(1)} h`);
      return true;
    }
    case 'mac_churn': {
      const period = net.int(1, 6);
      const dur = Math.max(sweeps(1 / 3, 4), 3 * period + 1);
      if (!claim(dur)) return false;
      const d = rogue(`churn-${s}`, null);
      const sameIp = net.chance(0.5);
      if (sameIp) d.staticIp = churnIp();
      d.macs = [{ from: 0, mac: net.newMac(null) }];
      for (let i = s + period; i < s + dur; i += period) d.macs.push({ from: i, mac: net.newMac(null) });
      d.radio = { awake: net.uniform(0.6, 1), doze: 0, enter: 0, leave: 1 };
      net.setOn(d, s, s + dur);
      net.event(kind, true, s, s + dur - 1, `${d.macs.length - 1} MACs every ${period} sweeps, ${sameIp ? 'same IP' : 'new leases'}`, Math.min(s + period, s + dur - 1));
      return true;
    }
    case 'arp_spoof': {
      const dur = sweeps(1 / 6, 4);
      if (!claim(dur)) return false;
      const victims = net.devices.filter((d) => d.staticIp && d.alwaysOn && d.role !== 'router');
      const target = net.chance(0.6) || victims.length === 0 ? net.gatewayIp : net.pick(victims).staticIp!;
      const insiders = net.devices.filter((d) => d.alwaysOn && !INFRA.has(d.role) && d.on.subarray(s, s + dur).every((v) => v === 1));
      const insider = insiders.length > 0 && net.chance(0.5);
      const attacker = insider ? net.pick(insiders) : rogue(`attacker-${s}`, net.chance(0.5) ? net.pick([...OUI.pi, ...OUI.pc]) : null);
      if (!insider) net.setOn(attacker, s, s + dur);
      const ips = [target];
      if (net.chance(0.3)) for (const v of victims.filter((x) => x.staticIp !== target).slice(0, net.int(1, 4))) ips.push(v.staticIp!);
      attacker.extraIps = [...(attacker.extraIps ?? []), ...ips.map((ip) => ({ ip, from: s, to: s + dur }))];
      net.event(kind, true, s, s + dur - 1, `${insider ? attacker.name : 'a new MAC'} answers for ${ips.join(', ')}`);
      return true;
    }
    case 'mass_drop': {
      const seg = net.pick(segments);
      const down = net.devicesUnder(seg).filter((d) => d.on[s] && d.on[s + 1]);
      if (down.length < 3) return false;
      const dur = sweeps(0.25, 8);
      if (!claim(dur)) return false;
      const otherAp = segments.length > 1;
      let rejoined = 0;
      for (const d of down) {
        // some Wi-Fi clients find another access point after a while
        const back = otherAp && d.radio !== WIRED && d.role !== 'ap' && d.role !== 'mesh' && net.chance(0.3) ? net.int(2, 6) : dur;
        if (back < dur) rejoined++;
        net.setOn(d, s, s + back, 0);
      }
      net.event(kind, true, s, s + dur - 1, `${seg}: ${down.length} devices for ${((dur * 5) / 60).toFixed(1)} h${rejoined ? `, ${rejoined} rejoin elsewhere` : ''}`, s + 1);
      return true;
    }
    case 'always_on_missing': {
      // established: connected through the three days before (a device set up yesterday is not yet "always on")
      const established = (d: Device) => s >= 3 * PER_DAY && d.on.subarray(s - 3 * PER_DAY, s + 2).reduce((a, b) => a + b, 0) >= 0.95 * (3 * PER_DAY + 2);
      const cands = net.devices.filter((d) => d.alwaysOn && !INFRA.has(d.role) && established(d));
      if (cands.length === 0) return false;
      const dur = sweeps(1, 12);
      if (!claim(dur)) return false;
      // one role at a time, so a NAS or a camera is as likely as one of forty desk phones
      const role = net.pick([...new Set(cands.map((c) => c.role))]);
      const d = net.pick(cands.filter((c) => c.role === role));
      net.setOn(d, s, s + dur, 0);
      net.event(kind, true, s, s + dur - 1, `${d.name} for ${((dur * 5) / 60).toFixed(1)} h`, s + 1);
      return true;
    }
  }
}
