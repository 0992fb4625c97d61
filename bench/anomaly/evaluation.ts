/** Scoring metrics for the evaluation harness (ROC AUC, average precision, alarm episodes) and the verdict on one history. */
import { labelSweeps, sweepIndex, sweepIndexAtOrBefore, type SimEvent, type SimScenario } from './scenario.js';


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

/** One history scored by a method: a score and an alarm flag per sweep (sweeps before `testFrom` are training). */
export interface ScoredHistory {
  sim: SimScenario;
  seed: number;
  testFrom: number;
  scores: ArrayLike<number>;
  alarms: ArrayLike<boolean | number>;
}

export interface EventVerdict {
  kind: string;
  caught: boolean;
  /** sweeps from the event's observable start to its first alarm (null when missed) */
  delay: number | null;
  note: string;
}

/** What one history says about a method: its events caught, its false-alarm episodes, and its test scores and labels for ROC/PR. */
export interface HistoryVerdict {
  name: string;
  seed: number;
  events: EventVerdict[];
  falseEpisodes: number;
  weeks: number;
  /** false-alarm episodes by the benign events they overlap */
  falseByBenign: Map<string, number>;
  scores: number[];
  labels: number[];
  kinds: (string | null)[];
}

/**
 * Judges the test part of a history: an anomaly is caught when any of its sweeps alarms; alarms merged
 * across gaps of at most `mergeGap` sweeps form episodes, and an episode touching no anomaly (or its
 * `mergeGap`-sweep tail) is a false alarm.
 */
export function judgeHistory(h: ScoredHistory, mergeGap = 6): HistoryVerdict {
  const { sim, testFrom } = h;
  const n = sim.sweeps.length;
  const { labels, kinds } = labelSweeps(sim, mergeGap);
  const out: HistoryVerdict = { name: sim.name, seed: h.seed, events: [], falseEpisodes: 0, weeks: 0, falseByBenign: new Map(), scores: [], labels: [], kinds: [] };
  for (let i = testFrom; i < n; i++) {
    out.scores.push(h.scores[i]);
    out.labels.push(labels[i]);
    out.kinds.push(kinds[i]);
  }
  const alarms = Array.from({ length: n }, (_, i) => i >= testFrom && !!h.alarms[i]);
  const span = (e: SimEvent) => [sweepIndex(sim, e.start), sweepIndexAtOrBefore(sim, e.end)] as const;
  for (const e of sim.events) {
    if (!e.anomalous || sweepIndex(sim, e.start) < testFrom) continue;
    const [a, z] = span(e);
    const o = sweepIndex(sim, e.observableFrom);
    let first = -1;
    for (let i = a; i <= z; i++)
      if (alarms[i]) {
        first = i;
        break;
      }
    out.events.push({ kind: e.kind, caught: first >= 0, delay: first >= 0 ? Math.max(0, first - o) : null, note: e.note });
  }
  for (const ep of episodes(alarms, mergeGap)) {
    const hit = sim.events.some((e) => {
      if (!e.anomalous) return false;
      const [a, z] = span(e);
      return a <= ep.to && z + mergeGap >= ep.from;
    });
    if (hit) continue;
    out.falseEpisodes++;
    const benign = sim.events
      .filter((e) => {
        if (e.anomalous || e.kind === 'extender_nat') return false;
        const [a, z] = span(e);
        return a - 6 <= ep.to && z + 36 >= ep.from;
      })
      .map((e) => e.kind);
    const key = benign.length ? [...new Set(benign)].join('+') : 'unexplained';
    out.falseByBenign.set(key, (out.falseByBenign.get(key) ?? 0) + 1);
  }
  out.weeks = (sim.sweeps[n - 1].tsSeconds - sim.sweeps[testFrom].tsSeconds + sim.interval) / (7 * 86400);
  return out;
}
