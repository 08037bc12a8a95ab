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
import { reference } from '../support/reference.js';

/**
 * scikit-learn's LogisticRegression(C, tol=1e-12).fit on the first 2,100 of the 3,000 rows below (regenerate.py
 * rebuilds them with a copy of seededRandom): coefficients, intercept and roc_auc_score on the other 900, by C.
 */
const SKLEARN = reference<Record<string, { coef: number[]; intercept: number; auc: number }>>('logistic-synthetic');

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
    for (const c of [0.05, 0.5]) {
      const ours = fitLogistic(train, y.subarray(0, nTrain), { c });
      const auc = rocAuc(predictLogistic(ours, holdout), y.subarray(nTrain));
      const theirs = SKLEARN[String(c)]!;
      ours.coefficients.forEach((w, j) => expect(w, `C=${c}`).toBeCloseTo(theirs.coef[j]!, 6));
      expect(ours.intercept, `C=${c}`).toBeCloseTo(theirs.intercept, 6);
      expect(auc, `C=${c}`).toBeCloseTo(theirs.auc, 10);
    }
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

describe('propensity over the store', async () => {
  const store: Store = await tempStore();
  await load(store, buyers());
  const settings = {
    kind: 'propensity',
    outcome: 'purchase',
    horizon_days: 30,
    features: ['days_since_last_purchase', 'frequency_365d', 'monetary_all', 'tenure_days'],
    log1p: ['days_since_last_purchase', 'frequency_365d', 'monetary_all'],
    c: 0.5,
    snapshots: 8,
  };
  const [report] = await runModels(store, { buy_next_30d: settings }, { now: NOW, currency: { reporting: 'EUR' } });
  afterAll(() => store.close());

  // The logistic fit itself is checked against scikit-learn above; here, that the run fits it to the right rows.
  it('trains on the oldest 70% of snapshot rows, and its model is the logistic fit (C = 0.5) of exactly those rows', async () => {
    expect(report).toMatchObject({ status: 'succeeded' });
    const run = (await readModelRun(store, report!.runId))!;
    const metrics = run.metrics as unknown as PropensityMetrics;
    const saved = run.saved as unknown as SavedPropensityModel;
    const cutoffs = metrics.cutoffs.map((c) => Date.parse(c));
    expect(cutoffs).toHaveLength(8);
    const rows = await propensityRows(
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
    const d = settings.features.length;
    const nTrain = metrics.train.rows;
    const direct = fitLogistic(
      { values: matrix.values.slice(0, nTrain * d), rows: nTrain, features: d },
      rows.outcomes.subarray(0, nTrain),
      { c: 0.5 },
    );
    const holdout = { values: matrix.values.slice(nTrain * d), rows: n - nTrain, features: d };
    settings.features.forEach((f, j) => expect(metrics.coefficients[f]).toBeCloseTo(direct.coefficients[j]!, 5));
    expect(metrics.intercept).toBeCloseTo(direct.intercept, 5);
    expect(metrics.holdout.auc).toBeCloseTo(
      rocAuc(predictLogistic(direct, holdout), rows.outcomes.subarray(nTrain))!,
      8,
    );
  });

  it('ranks next-month buyers above the rest on the holdout, and reports calibration there', async () => {
    const metrics = (await readModelRun(store, report!.runId))!.metrics as unknown as PropensityMetrics;
    expect(metrics.holdout.auc).toBeGreaterThan(0.7);
    const bins = metrics.holdout.calibration;
    expect(bins.reduce((s, b) => s + b.rows, 0)).toBe(metrics.holdout.rows);
    // the top decile buys far more often than the bottom one
    expect(bins[bins.length - 1]!.observed).toBeGreaterThan(bins[0]!.observed);
  });

  it('stores a purchase probability per contact for rules', async () => {
    const stored = (await store.get(
      "SELECT COUNT(*) AS n, MIN(value) AS lo, MAX(value) AS hi FROM model_outputs WHERE model = 'buy_next_30d' AND output = 'probability'",
    )) as { n: number; lo: number; hi: number };
    expect(stored.n).toBe(400);
    expect(stored.lo).toBeGreaterThan(0);
    expect(stored.hi).toBeLessThan(1);
  });
});
