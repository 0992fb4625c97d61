/**
 * The evaluation's baselines (the ancestor, the rules) get their threshold this way; the engine itself
 * calibrates each detector instead (src/anomaly/detectors.ts).
 *
 * Threshold from a false-alarm budget: the lowest score threshold at which the training window would
 * have raised at most `budgetPerWeek` alarm episodes per week (alarms closer than `mergeGap` sweeps form
 * one episode). Clamped to [floor, ceiling]: the floor keeps a spotless history from alarming on noise;
 * episodes that reach the ceiling are incidents, not false alarms, so a history that itself contains
 * incidents does not hide the next ones.
 */
export interface ThresholdOptions {
  budgetPerWeek: number;
  mergeGap: number;
  floor: number;
  ceiling: number;
}

/**
 * Alarm episodes: runs of score >= thr, merged across gaps of at most mergeGap sweeps. Episodes whose
 * peak reaches `ceiling` are not counted (the detectors are sure there: an incident in the training
 * history, not a false alarm, and it must not push the threshold up).
 */
export function countEpisodes(scores: ArrayLike<number>, thr: number, mergeGap: number, ceiling = Infinity): number {
  let episodes = 0;
  let lastAlarm = -Infinity;
  let peak = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] >= thr) {
      if (i - lastAlarm > mergeGap) {
        if (lastAlarm > -Infinity && peak < ceiling) episodes++;
        peak = 0;
      }
      peak = Math.max(peak, scores[i]);
      lastAlarm = i;
    }
  }
  if (lastAlarm > -Infinity && peak < ceiling) episodes++;
  return episodes;
}

export function chooseThreshold(scores: ArrayLike<number>, spanSeconds: number, o: ThresholdOptions): number {
  const weeks = spanSeconds / (7 * 86400);
  const allowed = Math.floor(o.budgetPerWeek * weeks + 1e-9);
  const inRange = new Set<number>();
  for (let i = 0; i < scores.length; i++) if (scores[i] >= o.floor && scores[i] < o.ceiling) inRange.add(scores[i]);
  const cands = [...inRange].sort((a, b) => b - a);
  if (cands.length === 0) return o.floor;
  // cands[0] is the maximum below the ceiling; find the smallest candidate still within the budget
  if (countEpisodes(scores, cands[0], o.mergeGap, o.ceiling) > allowed) return Math.min(o.ceiling, cands[0] + 1e-6);
  let lo = 0;
  let hi = cands.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (countEpisodes(scores, cands[mid], o.mergeGap, o.ceiling) <= allowed) lo = mid;
    else hi = mid - 1;
  }
  let thr = cands[lo];
  // if the next lower candidate would exceed the budget, the threshold sits just above it
  if (lo + 1 < cands.length) thr = (cands[lo] + cands[lo + 1]) / 2;
  else thr = o.floor;
  return Math.min(o.ceiling, Math.max(o.floor, thr));
}
