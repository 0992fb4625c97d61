import type { KnownDevice, SweepRecord } from '../../src/anomaly/types.js';
import { mulberry32 } from '../../src/anomaly/prng.js';

export const T0 = 1704067200; // Monday 00:00 UTC
export const STEP = 300;
export const GATEWAY = { mac: '00:11:22:33:44:01', ip: '192.168.1.1' };

export const ALWAYS_ON = Array.from({ length: 10 }, (_, k) => ({
  mac: `00:11:22:33:44:${(0x10 + k).toString(16)}`,
  ip: `192.168.1.${10 + k}`,
}));
export const PHONES = Array.from({ length: 3 }, (_, k) => ({ mac: `02:aa:bb:cc:dd:${(0x20 + k).toString(16)}`, ip: `192.168.1.${100 + k}` }));

export const KNOWN: KnownDevice[] = [GATEWAY, ...ALWAYS_ON, ...PHONES].map((d, i) => ({ mac: d.mac, name: `dev-${i}` }));

/** A small quiet network: a gateway, 10 always-on devices (1 % ARP loss), 3 phones away 8-17 on weekdays. */
export function quietHistory(sweeps: number, seed = 7, from = 0): SweepRecord[] {
  const rng = mulberry32(seed);
  const out: SweepRecord[] = [];
  for (let i = 0; i < from + sweeps; i++) {
    const ts = T0 + i * STEP;
    const hour = (i % 288) / 12;
    const devices = [GATEWAY];
    for (const d of ALWAYS_ON) if (rng() > 0.01) devices.push(d);
    for (const p of PHONES) if ((hour < 8 || hour >= 17) && rng() > 0.15) devices.push(p);
    if (i >= from) out.push({ tsSeconds: ts, devices: [...devices] });
  }
  return out;
}

export function nextTs(history: SweepRecord[]): number {
  return history[history.length - 1].tsSeconds + STEP;
}

export function mac(k: number, random = false): string {
  const b = (k & 0xff).toString(16).padStart(2, '0');
  return `${random ? '06' : 'b8'}:27:eb:00:01:${b}`;
}
