import { isMulticastMac, normalizeMac } from '../net/mac.js';
import type { SweepRecord } from './types.js';

/**
 * A sweep's answers both ways: the MACs that answered for each IP and the IPs each MAC answered
 * for. Malformed entries and MACs no station owns (multicast, all zeros) are left out.
 */
export function groupAnswers(sweep: SweepRecord): { ipToMacs: Map<string, Set<string>>; macToIps: Map<string, Set<string>> } {
  const ipToMacs = new Map<string, Set<string>>();
  const macToIps = new Map<string, Set<string>>();
  for (const d of sweep.devices) {
    if (!d || typeof d.mac !== 'string' || typeof d.ip !== 'string') continue;
    const mac = normalizeMac(d.mac);
    if (isMulticastMac(mac) || mac === '00:00:00:00:00:00') continue;
    let s = ipToMacs.get(d.ip);
    if (!s) ipToMacs.set(d.ip, (s = new Set()));
    s.add(mac);
    let m = macToIps.get(mac);
    if (!m) macToIps.set(mac, (m = new Set()));
    m.add(d.ip);
  }
  return { ipToMacs, macToIps };
}
