// The Gumbel law of daily maxima, fitted through two quantiles: the detectors' levels and each
// device's usual longest gap use it. Its quantile function is mu - beta * ln(-ln q).

const at = (q: number) => -Math.log(-Math.log(q));
export const G50 = at(0.5);
export const G75 = at(0.75);

/** mu and beta of the Gumbel law whose median and 75 % quantile are q50 and q75 (beta at least minBeta). */
export function gumbelFromQuartiles(q50: number, q75: number, minBeta: number): { mu: number; beta: number } {
  const beta = Math.max(minBeta, (q75 - q50) / (G75 - G50));
  return { mu: q50 - G50 * beta, beta };
}

/** The value a Gumbel-distributed daily maximum exceeds with probability p (per day). */
export function gumbelLevel(g: { mu: number; beta: number }, p: number): number {
  return g.mu + g.beta * at(1 - p);
}
