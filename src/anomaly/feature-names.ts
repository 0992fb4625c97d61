// The per-sweep feature vector's columns (computed in features.ts), in order.

export const FEATURE_NAMES = [
  'new_devices', // devices never seen before, present now
  'new_cohort', // largest group of present devices first seen in the same sweep, within the last 3 h
  'new_recent', // present devices first seen within the last 3 h
  'new_universal_recent', // ... of those, with a globally administered (vendor) MAC
  'night_new', // rarity (0..1) of the arrival hour of the most unusual unknown vendor-MAC device first seen within 3 h (quiet: few arrivals there)
  'night_new_random', // the same for unknown randomized (private) MACs
  'unknown_present', // present devices not in known_devices
  'unfamiliar_present', // present, not known, and seen on fewer than 3 distinct days
  'gone_recent', // devices present most of the previous hour, now missing for >= 2 sweeps
  'new_30m', // unknown devices first seen within the last half hour (not private-MAC rotations)
  'drop_sync', // how surprising it is that devices vanished together within the last half hour (nats; the most surprising device left out)
  'drop_share', // the share of the devices usually present at this hour that vanished together
  'always_on_missing', // always-on devices overdue: a gap this long has a 5 % chance or less on a day of their own history
  'always_on_surprise', // how surprising the most surprising always-on gap is (Gumbel z of its daily longest gaps) less ln(always-on devices)
  'segment_missing_frac', // fraction of always-on devices overdue at once
  'random_present', // locally administered (randomized) MACs present
  'random_new_1h', // randomized MACs first seen within the last hour
  'random_churn', // short-lived (<= 30 min) randomized MACs that vanished within the hour, while new ones keep appearing
  'ip_takeover', // IPs now answered by another MAC than the one that had them within the last hour
  'mac_ip_changes', // devices now on another IP than last time (DHCP lease changes)
  'dup_ip', // IPs answered by two or more MACs, Wi-Fi extender MAC-NAT excluded
  'gateway_conflict', // MACs answering for the gateway IP besides the learned gateway MAC(s)
  'proxy_ips', // IPs answered by a proxying MAC (extender MAC-NAT activity; context)
  'count', // devices present
  'count_dev', // robust z-score of the count against the same hour of the week (fallback: hour of day)
  'hour_sin', // time of day (local)
  'hour_cos',
  'weekend', // 1 on Saturday and Sunday
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_INDEX: Record<FeatureName, number> = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as Record<FeatureName, number>;

/** Columns given to the isolation forest (the raw count drifts as a network grows, so only its deviation). */
export const FOREST_FEATURES: FeatureName[] = FEATURE_NAMES.filter((n) => n !== 'count');

/** The feature vector as {name: value}, rounded to 3 decimals (replay output, logs). */
export function featureRecord(f: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  FEATURE_NAMES.forEach((n, i) => (out[n] = Math.round(f[i] * 1000) / 1000));
  return out;
}
