/**
 * Generator B: `generateB('home' | 'office', { seed })` builds a network, injects labelled anomalies
 * and renders four weeks of 5-minute sweeps in a local time zone (trained on the first two weeks,
 * scored on the last two, like the independent histories of issue 20).
 */
import type { SimScenario } from '../scenario.js';
import { Home } from './home.js';
import { injectAnomalies } from './incidents.js';
import { Office } from './office.js';

export interface GeneratorBOptions {
  seed: number;
  /** default 28 */
  days?: number;
  /** anomalies of each kind in the training half and in the scored half (default 1 and 3) */
  perHalf?: [number, number];
}

/** Time-zone offsets (minutes east of UTC) the histories are drawn in. */
const ZONES = [-300, -360, 0, 60, 120, 330, 600];
/** Local midnight of Sunday 2 March 2025, as if local time were UTC. */
const SUNDAY = Date.UTC(2025, 2, 2) / 1000;

export function generateB(kind: 'home' | 'office', o: GeneratorBOptions): SimScenario {
  const days = o.days ?? 28;
  const net = kind === 'home' ? new Home(o.seed, days) : new Office(o.seed, days);
  const segments = kind === 'home' ? [...(net as Home).aps, 'garage-switch'].filter((s) => net.devicesUnder(s).length > 0) : [...new Set(net.devices.filter((d) => d.role === 'ap').flatMap((d) => [d.name, d.segment])), 'poe-cam'];
  const churnIp = () => (kind === 'home' ? `${net.prefix}.${net.int(250, 253)}` : `10.40.1.${net.int(250, 253)}`);
  injectAnomalies(net, o.perHalf ?? [1, 3], segments, churnIp);
  const tz = net.pick(ZONES);
  const listsKnown = kind === 'office' || net.chance(0.5);
  const sim = net.render(tz, SUNDAY + net.cal.dow0 * 86400, () => listsKnown);
  return { ...sim, name: kind === 'home' ? 'home-b' : 'office-b' };
}
