/**
 * Choosing the purchase model by holdout, as lifetimes' calibration-versus-holdout check does it: the purchases are
 * split at a calibration end, each model is fitted on the calibration period alone, and its expected purchases over
 * the holdout are compared with the purchases customers really made there, per bucket of calibration frequency
 * (0, 1, …, 5, 6+ repeat purchases).
 *
 * The holdout error of a model is the customer-weighted mean, over the buckets, of |mean predicted − mean actual|
 * holdout purchases. It compares what these models predict (an expected count per customer, which the buckets
 * average so that the Poisson noise of single customers cancels) with what happened, and it is what the table shows.
 * The per-customer mean absolute error is not used: it is minimised by the median count, 0 for most customers, so
 * it rewards the model that predicts fewest purchases rather than the one that predicts them right.
 */
import { summarisePurchases, type CustomerSummary, type Purchase } from '../bgnbd/index.js';
import {
  expectedPurchasesGiven,
  fitAnyPurchaseModel,
  PURCHASE_MODEL_LABELS,
  PURCHASE_MODELS,
  type AnyPurchaseModel,
  type PurchaseModelName,
} from './model.js';

/** Buckets of calibration frequency: 0 … 5 repeat purchases, then 6 or more. */
export const HOLDOUT_BUCKETS = ['0', '1', '2', '3', '4', '5', '6+'] as const;

export interface HoldoutBucket {
  /** Calibration repeat purchases: `0` … `5`, `6+`. */
  frequency: (typeof HOLDOUT_BUCKETS)[number];
  customers: number;
  /** Mean purchase days in the holdout. */
  actual: number;
  /** Mean expected purchases in the holdout, per model fitted. */
  predicted: Partial<Record<PurchaseModelName, number>>;
}

export interface HoldoutModel {
  model: PurchaseModelName;
  /** The fit on the calibration period, or null when it failed (see `failure`). */
  fitted: AnyPurchaseModel | null;
  failure?: string;
  /** Customer-weighted mean of |mean predicted − mean actual| over the buckets, in purchases per customer. */
  error: number;
  /** Expected purchases of every customer over the holdout. */
  predictedTotal: number;
}

export interface HoldoutComparison {
  /** Day numbers (days since 1970-01-01): the calibration end (inclusive) and the holdout end. */
  calibrationEnd: number;
  holdoutEnd: number;
  holdoutWeeks: number;
  customers: number;
  actualTotal: number;
  buckets: HoldoutBucket[];
  models: HoldoutModel[];
  chosen: PurchaseModelName;
  reason: string;
}

/**
 * Summarises the purchases up to `holdoutEnd` at `calibrationEnd` (the days after it are the holdout), fits each
 * model on the calibration period and chooses the one whose holdout predictions are closest.
 *
 * @example
 * const comparison = compareByHoldout(purchases, dayNumber('1997-09-30'), dayNumber('1998-06-30'));
 * console.log(formatHoldoutTable(comparison), comparison.reason);
 */
export function compareByHoldout(
  purchases: readonly Purchase[],
  calibrationEnd: number,
  holdoutEnd: number,
  models: readonly PurchaseModelName[] = PURCHASE_MODELS,
): HoldoutComparison {
  if (!(holdoutEnd > calibrationEnd))
    throw new Error('the holdout must end after the calibration end (no purchases to compare predictions with)');
  const summary = summarisePurchases(
    purchases.filter((p) => p.day <= holdoutEnd),
    calibrationEnd,
  );
  return compareSummaryByHoldout(summary, (holdoutEnd - calibrationEnd) / 7, models, calibrationEnd);
}

/** The same on a summary whose `holdout` column counts purchase days in a holdout of `holdoutWeeks`. */
export function compareSummaryByHoldout(
  summary: CustomerSummary,
  holdoutWeeks: number,
  models: readonly PurchaseModelName[] = PURCHASE_MODELS,
  calibrationEnd = NaN,
): HoldoutComparison {
  const n = summary.x.length;
  if (n === 0) throw new Error('no customer bought in the calibration period, so no model can be fitted on it');
  const bucketOf = (x: number): number => Math.min(x, HOLDOUT_BUCKETS.length - 1);
  const buckets: HoldoutBucket[] = HOLDOUT_BUCKETS.map((frequency) => ({
    frequency,
    customers: 0,
    actual: 0,
    predicted: {},
  }));
  let actualTotal = 0;
  for (let i = 0; i < n; i++) {
    const bucket = buckets[bucketOf(summary.x[i] as number)] as HoldoutBucket;
    bucket.customers++;
    bucket.actual += summary.holdout[i] as number;
    actualTotal += summary.holdout[i] as number;
  }
  const results: HoldoutModel[] = [];
  for (const name of models) {
    let fitted: AnyPurchaseModel;
    try {
      fitted = fitAnyPurchaseModel(summary, name);
    } catch (error) {
      results.push({
        model: name,
        fitted: null,
        failure: error instanceof Error ? error.message : String(error),
        error: Infinity,
        predictedTotal: NaN,
      });
      continue;
    }
    const sums = new Float64Array(buckets.length);
    let predictedTotal = 0;
    for (let i = 0; i < n; i++) {
      const x = summary.x[i] as number;
      const e = expectedPurchasesGiven(fitted, holdoutWeeks, x, summary.tx[i] as number, summary.T[i] as number);
      sums[bucketOf(x)] = (sums[bucketOf(x)] as number) + e;
      predictedTotal += e;
    }
    let error = 0;
    buckets.forEach((bucket, b) => {
      if (bucket.customers === 0) return;
      error += Math.abs((sums[b] as number) - bucket.actual);
      bucket.predicted[name] = (sums[b] as number) / bucket.customers;
    });
    results.push({ model: name, fitted, error: error / n, predictedTotal });
  }
  for (const bucket of buckets) if (bucket.customers > 0) bucket.actual /= bucket.customers;
  const ranked = results.filter((r) => r.fitted !== null).sort((a, b) => a.error - b.error);
  const best = ranked[0];
  if (!best)
    throw new Error(`no purchase model could be fitted on the calibration period: ${results[0]?.failure ?? ''}`);
  const others = ranked
    .slice(1)
    .map((r) => `${PURCHASE_MODEL_LABELS[r.model]} ${r.error.toFixed(4)}`)
    .join(', ');
  const failed = results
    .filter((r) => r.fitted === null)
    .map((r) => `${PURCHASE_MODEL_LABELS[r.model]} (${r.failure})`);
  const reason =
    `${PURCHASE_MODEL_LABELS[best.model]}: the lowest holdout error, ${best.error.toFixed(4)} purchases per customer` +
    (others ? ` (${others})` : '') +
    `, over a ${holdoutWeeks.toFixed(1)}-week holdout of ${n.toLocaleString('en')} customers; the error is the customer-weighted mean of |predicted − actual| mean holdout purchases per calibration-frequency bucket` +
    (failed.length > 0 ? `; not fitted: ${failed.join(', ')}` : '');
  return {
    calibrationEnd,
    holdoutEnd: calibrationEnd + holdoutWeeks * 7,
    holdoutWeeks,
    customers: n,
    actualTotal,
    buckets,
    models: results,
    chosen: best.model,
    reason,
  };
}

/**
 * The calibration-versus-holdout table as text: one row per frequency bucket with its customers, the mean actual
 * holdout purchases and each model's mean prediction, then the error and total of each model.
 */
export function formatHoldoutTable(c: HoldoutComparison): string {
  const fitted = c.models.filter((m) => m.fitted !== null);
  const header = ['calibration x', 'customers', 'actual', ...fitted.map((m) => PURCHASE_MODEL_LABELS[m.model])];
  const rows = c.buckets.map((b) => [
    b.frequency,
    String(b.customers),
    b.customers > 0 ? b.actual.toFixed(3) : '',
    ...fitted.map((m) => {
      const v = b.predicted[m.model];
      return v === undefined ? '' : v.toFixed(3);
    }),
  ]);
  rows.push([
    'all',
    String(c.customers),
    (c.actualTotal / c.customers).toFixed(3),
    ...fitted.map((m) => (m.predictedTotal / c.customers).toFixed(3)),
  ]);
  rows.push(['holdout error', '', '', ...fitted.map((m) => m.error.toFixed(4))]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, j) => (j === 0 ? cell.padEnd(widths[j] as number) : cell.padStart(widths[j] as number)))
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
