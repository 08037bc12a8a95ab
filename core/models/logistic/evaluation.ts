/** How well predicted probabilities rank and match outcomes: ROC AUC, the Brier score and a calibration table. */

/**
 * Area under the ROC curve (the Mann–Whitney statistic, ties counted half), as scikit-learn's roc_auc_score; null
 * when the outcomes hold only one class.
 *
 * @example
 * rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.75
 */
export function rocAuc(scores: ArrayLike<number>, outcomes: ArrayLike<number>): number | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if ((outcomes[order[k] as number] as number) === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean squared difference between the probability and the outcome. */
export function brierScore(scores: ArrayLike<number>, outcomes: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < scores.length; i++) s += ((scores[i] as number) - (outcomes[i] as number)) ** 2;
  return s / (scores.length || 1);
}

export interface CalibrationBin {
  /** Rows in the bin. */
  rows: number;
  /** Mean predicted probability. */
  predicted: number;
  /** Share of rows with the outcome. */
  observed: number;
}

/** Calibration on equal-count bins of the predicted probability (default 10), lowest first. */
export function calibrationTable(scores: ArrayLike<number>, outcomes: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const table: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const from = Math.floor((b * n) / bins);
    const to = Math.floor(((b + 1) * n) / bins);
    if (to <= from) continue;
    let predicted = 0;
    let observed = 0;
    for (let k = from; k < to; k++) {
      predicted += scores[order[k] as number] as number;
      observed += outcomes[order[k] as number] as number;
    }
    table.push({ rows: to - from, predicted: predicted / (to - from), observed: observed / (to - from) });
  }
  return table;
}
