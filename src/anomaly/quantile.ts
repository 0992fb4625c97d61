// Quantiles of samples: the one implementation (detector levels, device gaps, typical counts, bench medians).

/** The q-quantile (0..1) of ascending `s`, interpolated between neighbours; 0 when empty. */
export function quantileOfSorted(s: ArrayLike<number>, q: number): number {
  if (s.length === 0) return 0;
  const pos = Math.min(s.length - 1, Math.max(0, q * (s.length - 1)));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileOfSorted(Float64Array.from(values).sort(), q);
}

/** The median (the mean of the two middle values for an even count); 0 when empty. */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}
