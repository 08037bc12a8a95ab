import { afterAll, describe, expect, it } from 'vitest';
import type { ContactRecord, EventRecord } from '../../plugins/model/index.js';
import {
  applyPreparation,
  fitLogistic,
  predictLogistic,
  propensityRows,
  readModelRun,
  rocAuc,
  runModels,
  seededRandom,
  type PropensityMetrics,
  type SavedPropensityModel,
  type Store,
} from '../../core/index.js';
import { tempStore } from '../store/fixtures.js';
import { happened, load, person } from '../features/fixture.js';
import { runScikitLearn } from './online-retail.js';

const SKLEARN_FIT = (c: number): string => `from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
n_train = int(split[0])
m = LogisticRegression(C=${c}, tol=1e-12, max_iter=100000).fit(X[:n_train], y[:n_train].astype(int))
p = m.predict_proba(X[n_train:])[:, 1]
print(json.dumps({"coef": m.coef_[0].tolist(), "intercept": float(m.intercept_[0]), "auc": float(roc_auc_score(y[n_train:].astype(int), p))}))`;

describe('logistic regression', () => {
  it('matches scikit-learn LogisticRegression coefficients and holdout AUC at the same C', () => {
    const rng = seededRandom(11);
    const n = 3000;
    const d = 4;
    const truth = [1.2, -0.8, 0.3, 0];
    const values = new Float64Array(n * d);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let z = -0.5;
      for (let j = 0; j < d; j++) {
        values[i * d + j] = rng.normal();
        z += (values[i * d + j] as number) * (truth[j] as number);
      }
      y[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    const nTrain = 2100;
    const train = { values: values.slice(0, nTrain * d), rows: nTrain, features: d };
    const holdout = { values: values.slice(nTrain * d), rows: n - nTrain, features: d };
    const ours = fitLogistic(train, y.subarray(0, nTrain), { c: 0.05 });
    const auc = rocAuc(predictLogistic(ours, holdout), y.subarray(nTrain));
    const theirs = runScikitLearn<{ coef: number[]; intercept: number; auc: number }>(
      { values, rows: n, features: d },
      SKLEARN_FIT(0.05),
      { y, split: Float64Array.of(nTrain) },
    );
    ours.coefficients.forEach((w, j) => expect(w).toBeCloseTo(theirs.coef[j]!, 6));
    expect(ours.intercept).toBeCloseTo(theirs.intercept, 6);
    expect(auc).toBeCloseTo(theirs.auc, 10);
  });
});

const NOW = new Date('2026-03-01T00:00:00.000Z');
const DAY = 86_400_000;

/** 400 customers buying at their own rate until their own dropout day, over two years. */
function buyers(): (ContactRecord | EventRecord)[] {
  const rng = seededRandom(5);
  const records: (ContactRecord | EventRecord)[] = [];
  const start = NOW.getTime() - 730 * DAY;
  for (let i = 0; i < 400; i++) {
    const who = `c${i}`;
    records.push(person(who));
    const rate = rng.gamma(0.8, 1 / 25); // purchases per day
    const first = start + rng.next() * 500 * DAY;
    const dropout = first + -Math.log(1 - rng.next()) * 400 * DAY;
    records.push(happened(who, 'signup', new Date(first - DAY).toISOString()));
    for (let t = first; t < Math.min(dropout, NOW.getTime()); t += (-Math.log(1 - rng.next()) / rate) * DAY) {
      records.push(
        happened(who, 'purchase', new Date(t).toISOString(), Math.round(20 + rng.gamma(2, 30)), { currency: 'EUR' }),
      );
    }
  }
  return records;
}

describe('propensity over the store', () => {
  const store: Store = tempStore();
  load(store, buyers());
  const settings = {
    kind: 'propensity',
    outcome: 'purchase',
    horizon_days: 30,
    features: ['days_since_last_purchase', 'frequency_365d', 'monetary_all', 'tenure_days'],
    log1p: ['days_since_last_purchase', 'frequency_365d', 'monetary_all'],
    c: 0.5,
    snapshots: 8,
  };
  const [report] = runModels(store, { buy_next_30d: settings }, { now: NOW, currency: { reporting: 'EUR' } });
  afterAll(() => store.close());

  it('trains on the oldest 70% of snapshot rows and matches scikit-learn on the same rows and C', () => {
    expect(report).toMatchObject({ status: 'succeeded' });
    const run = readModelRun(store, report!.runId)!;
    const metrics = run.metrics as unknown as PropensityMetrics;
    const saved = run.saved as unknown as SavedPropensityModel;
    const cutoffs = metrics.cutoffs.map((c) => Date.parse(c));
    expect(cutoffs).toHaveLength(8);
    const rows = propensityRows(
      store,
      { features: settings.features, outcome: 'purchase', horizon_days: 30 },
      cutoffs,
      NOW,
      { reporting: 'EUR' },
    );
    const n = rows.outcomes.length;
    expect(metrics.train.rows).toBe(Math.floor(0.7 * n));
    expect(metrics.train.rows + metrics.holdout.rows).toBe(n);
    // time-respecting: no holdout row is older than a training row
    expect(Date.parse(metrics.holdout.from)).toBeGreaterThanOrEqual(Date.parse(metrics.train.to));
    const matrix = applyPreparation(saved.preparation, rows.columns);
    const theirs = runScikitLearn<{ coef: number[]; intercept: number; auc: number }>(matrix, SKLEARN_FIT(0.5), {
      y: rows.outcomes,
      split: Float64Array.of(metrics.train.rows),
    });
    settings.features.forEach((f, j) => expect(metrics.coefficients[f]).toBeCloseTo(theirs.coef[j]!, 5));
    expect(metrics.intercept).toBeCloseTo(theirs.intercept, 5);
    expect(metrics.holdout.auc).toBeCloseTo(theirs.auc, 8);
  });

  it('ranks next-month buyers above the rest on the holdout, and reports calibration there', () => {
    const metrics = readModelRun(store, report!.runId)!.metrics as unknown as PropensityMetrics;
    expect(metrics.holdout.auc).toBeGreaterThan(0.7);
    const bins = metrics.holdout.calibration;
    expect(bins.reduce((s, b) => s + b.rows, 0)).toBe(metrics.holdout.rows);
    // the top decile buys far more often than the bottom one
    expect(bins[bins.length - 1]!.observed).toBeGreaterThan(bins[0]!.observed);
  });

  it('stores a purchase probability per contact for rules', () => {
    const stored = store
      .statement(
        "SELECT COUNT(*) AS n, MIN(value) AS lo, MAX(value) AS hi FROM model_outputs WHERE model = 'buy_next_30d' AND output = 'probability'",
      )
      .get() as { n: number; lo: number; hi: number };
    expect(stored.n).toBe(400);
    expect(stored.lo).toBeGreaterThan(0);
    expect(stored.hi).toBeLessThan(1);
  });
});
