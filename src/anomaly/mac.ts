/** MAC helpers for the anomaly model; parsing and the randomized bit are shared with the sweeper. */
export { normalizeMac, isRandomizedMac as isLocallyAdministered } from '../arp/vendor.js';

export function isMulticast(mac: string): boolean {
  const first = parseInt(mac.slice(0, 2), 16);
  return Number.isFinite(first) && (first & 0x01) !== 0;
}

export function formatMac(bytes: number[]): string {
  return bytes.map((b) => (b & 0xff).toString(16).padStart(2, '0')).join(':');
}
