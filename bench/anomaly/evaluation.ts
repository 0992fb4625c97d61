/** Scoring metrics for the evaluation harness (ROC AUC, average precision, alarm episodes). */

/** ROC AUC by the Mann-Whitney statistic with average ranks for ties. NaN without both classes. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (labels[i] === 0 || labels[i] === 1) idx.push(i);
  idx.sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let pos = 0;
  let neg = 0;
  for (let k = 0; k < idx.length; ) {
    let j = k;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[k]]) j++;
    const avgRank = (k + j) / 2 + 1;
    for (let m = k; m <= j; m++) {
      if (labels[idx[m]] === 1) {
        rankSumPos += avgRank;
        pos++;
      } else neg++;
    }
    k = j + 1;
  }
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Average precision (area under the precision-recall step curve; tied scores enter together). */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (labels[i] === 0 || labels[i] === 1) idx.push(i);
  idx.sort((a, b) => scores[b] - scores[a]);
  const totalPos = idx.filter((i) => labels[i] === 1).length;
  if (totalPos === 0) return NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let k = 0; k < idx.length; ) {
    let j = k;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[k]]) j++;
    for (let m = k; m <= j; m++) {
      if (labels[idx[m]] === 1) tp++;
      else fp++;
    }
    const recall = tp / totalPos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
    k = j + 1;
  }
  return ap;
}

export interface Episode {
  from: number;
  to: number;
}

/** Runs of alarms merged across gaps of at most `mergeGap` sweeps. */
export function episodes(alarms: ArrayLike<boolean | number>, mergeGap = 6): Episode[] {
  const out: Episode[] = [];
  for (let i = 0; i < alarms.length; i++) {
    if (!alarms[i]) continue;
    const last = out[out.length - 1];
    if (last && i - last.to <= mergeGap + 0) last.to = i;
    else out.push({ from: i, to: i });
  }
  return out;
}
