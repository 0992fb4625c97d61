// The Gumbel law of daily maxima: the detectors' levels (fitted robustly to the window's days) and
// each device's usual longest gap (fitted through two quartiles) use it. Its quantile function is
// mu - beta * ln(-ln q).

const at = (q: number) => -Math.log(-Math.log(q));
export const G50 = at(0.5);
export const G75 = at(0.75);

/** mu and beta of the Gumbel law whose median and 75 % quantile are q50 and q75 (beta at least minBeta). */
export function gumbelFromQuartiles(q50: number, q75: number, minBeta: number): { mu: number; beta: number } {
  const beta = Math.max(minBeta, (q75 - q50) / (G75 - G50));
  return { mu: q50 - G50 * beta, beta };
}

/** Share of the highest days left out of the spread (incidents in the window). */
const TRIM = 0.2;
/** E[mean |X - median| over the lowest 80 % of a sample] / beta for a Gumbel law (simulated). */
const TRIMMED_MAD = 0.6637;

/**
 * mu and beta of a Gumbel law fitted to an ascending sample of daily maxima through its median and the
 * mean absolute deviation from the median of its lowest 80 % (so up to a fifth of the days may be
 * incidents without widening it), beta widened by 1 + 1.5/sqrt(n). A plain fit to two to four weeks of
 * days underestimates the tail; widened, a level meant to be exceeded with probability p per day is
 * exceeded 0.6-1.4 times as often on average for 11 to 28 days of history (simulated; see
 * test/anomaly/calibration.test.ts).
 */
export function gumbelFit(sorted: ArrayLike<number>, q50: number, minBeta: number): { mu: number; beta: number } {
  const n = sorted.length;
  const keep = Math.max(1, n - Math.ceil(TRIM * n));
  let mad = 0;
  for (let i = 0; i < keep; i++) mad += Math.abs(sorted[i] - q50);
  const beta = Math.max(minBeta, (mad / keep / TRIMMED_MAD) * (1 + 1.5 / Math.sqrt(Math.max(1, n))));
  return { mu: q50 - G50 * beta, beta };
}

/** The value a Gumbel-distributed daily maximum exceeds with probability p (per day). */
export function gumbelLevel(g: { mu: number; beta: number }, p: number): number {
  return g.mu + g.beta * at(1 - p);
}
