import { z } from 'zod';
import { parseDuration } from './duration.js';
import { mergeTargets, parseTarget, rangeSize } from '../net/targets.js';
import { ipv4ToInt } from '../net/ipv4.js';
import { normalizeMac } from '../net/mac.js';

/** setTimeout fires after 1 ms for longer delays: a duration used as a timer must stay below this. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const duration = (min = 0, opts: { timer?: boolean } = {}) =>
  z.string().transform((text, ctx) => {
    try {
      const ms = parseDuration(text);
      if (ms < min) ctx.addIssue({ code: 'custom', message: `must be at least ${min} ms, got "${text}"` });
      if (opts.timer && ms > MAX_TIMER_MS) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is longer than the longest timer Node.js can set (${MAX_TIMER_MS} ms, about 24.8 days)` });
      }
      return ms;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const mac = z
  .string()
  .regex(/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/, 'must be a MAC address like aa:bb:cc:dd:ee:ff')
  .transform(normalizeMac);

const target = z.string().superRefine((spec, ctx) => {
  try {
    parseTarget(spec);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const ipv4 = z.string().superRefine((ip, ctx) => {
  try {
    ipv4ToInt(ip);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const interfaceSchema = z.strictObject({
  name: z.string().min(1).max(15),
  /** Targets; default: the subnets of the interface's own IPv4 addresses. */
  cidrs: z.array(target).optional(),
  exclude: z.array(ipv4).default([]),
  /** 'auto' reads the default route of the interface; 'none' disables the gateway watch. */
  gateway: z.union([z.literal('auto'), z.literal('none'), ipv4]).default('auto'),
});

const scanSchema = z.strictObject({
  interval: duration(1000, { timer: true }).default(parseDuration('5m')),
  /** Random spread of each interval, as a fraction of it, so many exporters do not sweep in step. */
  jitter: z.number().min(0).max(0.5).default(0.1),
  rate: z.number().int().min(0).default(400),
  retries: z.number().int().min(0).max(10).default(2),
  timeout: duration(1, { timer: true }).default(500),
  adaptive_timeout: z.boolean().default(true),
  max_addresses: z.number().int().min(1).default(65_536),
  passive: z.boolean().default(true),
});

const presenceSchema = z.strictObject({
  absent_after: duration(0).default(parseDuration('15m')),
  /** Used for known devices marked can_sleep unless they set their own absent_after. */
  sleepy_absent_after: duration(0).default(parseDuration('2h')),
  reprobe: z.boolean().default(true),
  retention: duration(0).default(parseDuration('30d')),
  max_devices: z.number().int().min(1).default(10_000),
});

const knownDeviceSchema = z.strictObject({
  mac,
  name: z.string().min(1),
  class: z.string().default(''),
  critical: z.boolean().default(false),
  can_sleep: z.boolean().default(false),
  absent_after: duration(0).optional(),
});

const anomalySchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** History needed before the first score; default one day of sweeps. */
  warmup: duration(0).default(parseDuration('1d')),
  window: duration(0).default(parseDuration('4w')),
  retrain_every: duration(0).default(parseDuration('1h')),
  false_alarms_per_week: z.number().min(0).default(1),
  seed: z.number().int().optional(),
});

const telemetrySchema = z.strictObject({
  /** Send traces over OTLP; also enabled by OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT. */
  otlp: z.boolean().default(false),
  otlp_endpoint: z.string().url().optional(),
  otlp_metrics: z.boolean().default(false),
});

const storageSchema = z.strictObject({
  path: z.string().min(1).default('./ghost-hunter-data'),
});

export const configSchema = z
  .strictObject({
    interfaces: z.array(interfaceSchema).default([]),
    scan: scanSchema.default(scanSchema.parse({})),
    presence: presenceSchema.default(presenceSchema.parse({})),
    storage: storageSchema.default(storageSchema.parse({})),
    known_devices: z.array(knownDeviceSchema).default([]),
    anomaly: anomalySchema.default(anomalySchema.parse({})),
    telemetry: telemetrySchema.default(telemetrySchema.parse({})),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.known_devices.forEach((d, i) => {
      if (seen.has(d.mac)) {
        ctx.addIssue({ code: 'custom', path: ['known_devices', i, 'mac'], message: `duplicate MAC ${d.mac} (also at known_devices[${seen.get(d.mac)}])` });
      }
      seen.set(d.mac, i);
    });
    const names = new Set<string>();
    cfg.interfaces.forEach((iface, i) => {
      if (names.has(iface.name)) ctx.addIssue({ code: 'custom', path: ['interfaces', i, 'name'], message: `interface "${iface.name}" is listed twice` });
      names.add(iface.name);
      // scan.max_addresses bounds one sweep of the interface: all its targets, overlaps counted once.
      // Say so now (at start-up or reload) instead of loading a config whose every sweep fails.
      let ranges;
      try {
        ranges = (iface.cidrs ?? []).map(parseTarget);
      } catch {
        return; // already reported by the target schema
      }
      const oversized = ranges.findIndex((r) => rangeSize(r) > cfg.scan.max_addresses);
      if (oversized >= 0) {
        const spec = iface.cidrs![oversized];
        ctx.addIssue({
          code: 'custom',
          path: ['interfaces', i, 'cidrs', oversized],
          message: `"${spec}" has ${rangeSize(ranges[oversized])} addresses, more than scan.max_addresses (${cfg.scan.max_addresses}); use a smaller subnet or raise scan.max_addresses`,
        });
        return;
      }
      const total = mergeTargets(ranges).reduce((n, r) => n + rangeSize(r), 0);
      if (total > cfg.scan.max_addresses) {
        ctx.addIssue({
          code: 'custom',
          path: ['interfaces', i, 'cidrs'],
          message: `one sweep of "${iface.name}" covers ${total} addresses, more than scan.max_addresses (${cfg.scan.max_addresses}); sweep fewer addresses or raise scan.max_addresses`,
        });
      }
    });
  }, {
    // Cross-field checks read values the field schemas have vetted: run them on an otherwise
    // valid config only, so a bad MAC or name is not reported a second time as a duplicate.
    when: (payload) => payload.issues.length === 0,
  });

export type Config = z.output<typeof configSchema>;
export type KnownDeviceConfig = Config['known_devices'][number];
export type InterfaceConfig = Config['interfaces'][number];
