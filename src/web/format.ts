// Words and times as the page shows them.
import type { EventItem } from './types.js';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export const formatDateTime = (ms: number): string => (Number.isFinite(ms) ? dateTime.format(ms) : '—');

/** Today: the time only; earlier: date and time. */
export function formatWhen(ms: number, nowMs = Date.now()): string {
  if (!Number.isFinite(ms)) return '—';
  return new Date(ms).toDateString() === new Date(nowMs).toDateString() ? time.format(ms) : dateTime.format(ms);
}

export function formatAgo(ms: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 129_600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** Event kinds and how the feed names them; kinds not listed show as they are. */
export const EVENT_LABELS: Record<string, string> = {
  new_device: 'new',
  device_gone: 'gone',
  device_back: 'back',
  ip_changed: 'IP change',
  ip_conflict: 'IP conflict',
  gateway_mac_changed: 'gateway change',
  mac_rotated: 'MAC rotation',
  ip_takeover: 'IP takeover',
  ip_flip_flop: 'IP flip-flop',
  anomaly: 'anomaly',
};

/** How serious a kind is, for its colour: info, good, warn or bad. */
export function eventTone(kind: string): 'info' | 'good' | 'warn' | 'bad' {
  if (kind === 'device_back') return 'good';
  if (kind === 'device_gone' || kind === 'ip_changed' || kind === 'mac_rotated') return 'info';
  if (kind === 'new_device' || kind === 'ip_flip_flop') return 'warn';
  if (kind in EVENT_LABELS) return 'bad';
  return 'warn';
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

/** One line saying what happened (besides the kind, the device and its address). */
export function eventSummary(e: EventItem): string {
  const d = e.detail;
  switch (e.kind) {
    case 'ip_changed':
      return d.old_ip ? `${str(d.old_ip)} → ${str(d.new_ip)}` : `address taken over from ${str(d.old_mac)}`;
    case 'ip_conflict':
      return Array.isArray(d.macs) ? `claimed by ${d.macs.map(str).join(', ')}` : '';
    case 'gateway_mac_changed':
      return `${str(d.old_mac)} → ${str(d.new_mac)}`;
    case 'device_gone':
      return typeof d.last_seen === 'string' ? `last seen ${formatWhen(Date.parse(d.last_seen))}` : '';
    case 'device_back':
      return typeof d.absent_seconds === 'number' ? `after ${formatDuration(d.absent_seconds)}` : '';
    case 'new_device':
      return [str(d.vendor), d.randomized ? 'randomized MAC' : ''].filter(Boolean).join(', ');
    default: {
      // kinds this page does not know yet: their details as key=value
      const parts = Object.entries(d)
        .filter(([, v]) => str(v) !== '')
        .map(([k, v]) => `${k}=${str(v)}`);
      return parts.join(' ').slice(0, 300);
    }
  }
}
