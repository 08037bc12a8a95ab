import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  conditionalExpectedPurchases,
  dayNumber,
  fitPurchaseModel,
  fitSpendModel,
  lifetimeValue,
  probabilityAlive,
  probabilityNoPurchase,
  simulateCustomers,
  summarisePurchases,
  type Purchase,
} from '../../core/models/index.js';

const DATA = new URL('../fixtures/data/cdnow/', import.meta.url);

function cdnowPurchases(): Purchase[] {
  return readFileSync(new URL('CDNOW_sample.txt', DATA), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, id = '', date = '', , dollars = ''] = line.trim().split(/\s+/);
      return { customer: id, day: dayNumber(date), value: Number(dollars) };
    });
}

function publishedSummary(): { id: string; x: number; tx: number; T: number; zbar: number }[] {
  const [, ...lines] = readFileSync(new URL('cdnow_customers_summary_with_transactions.csv', DATA), 'utf8')
    .trim()
    .split('\n');
  return lines.map((line) => {
    const [id = '', x = '', tx = '', T = '', zbar = ''] = line.split(',');
    return { id, x: Number(x), tx: Number(tx), T: Number(T), zbar: Number(zbar) };
  });
}

const summary = summarisePurchases(cdnowPurchases(), dayNumber('1997-09-30'));

describe('CDNOW (Fader, Hardie & Lee 2005)', () => {
  it('rebuilds the published calibration summary from the raw transactions', () => {
    const published = publishedSummary();
    expect(summary.customers.length).toBe(2357);
    expect(published.length).toBe(2357);
    const at = new Map(summary.customers.map((c, i) => [Number(c), i]));
    for (const row of published) {
      const i = at.get(Number(row.id));
      expect(i, `customer ${row.id}`).toBeDefined();
      expect(summary.x[i!]).toBe(row.x);
      expect(Math.abs(summary.tx[i!]! - row.tx)).toBeLessThanOrEqual(0.0051);
      expect(Math.abs(summary.T[i!]! - row.T)).toBeLessThanOrEqual(0.0051);
      expect(Math.abs(summary.monetary[i!]! - row.zbar)).toBeLessThanOrEqual(0.0051);
    }
  });

  const model = fitPurchaseModel(summary);

  it('fits BG/NBD to the published estimates and log-likelihood', () => {
    expect(model.model).toBe('bgnbd');
    expect(model.r).toBeCloseTo(0.243, 3);
    expect(model.alpha).toBeCloseTo(4.414, 3);
    expect(model.a).toBeCloseTo(0.793, 3);
    expect(model.b).toBeCloseTo(2.426, 3);
    expect(model.logLikelihood.toFixed(1)).toBe('-9582.4');
  });

  it('reproduces the published conditional expectation and P(X(39) = 0)', () => {
    expect(conditionalExpectedPurchases(model, 39, 2, 30.43, 38.86)).toBeCloseTo(1.226, 3);
    // The paper's 0.5738 is computed from the rounded estimates; our unrounded fit gives it to 3 decimals.
    expect(probabilityNoPurchase({ model: 'bgnbd', r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, 39)).toBeCloseTo(
      0.5738,
      4,
    );
    expect(Math.abs(probabilityNoPurchase(model, 39) - 0.5738)).toBeLessThan(0.001);
  });

  it('gives P(alive) = 1 to a customer without a repeat purchase under BG/NBD, but not under MBG/NBD', () => {
    expect(probabilityAlive(model, 0, 0, 38.86)).toBe(1);
    expect(probabilityAlive(model, 2, 5, 38.86)).toBeLessThan(0.5);
    const modified = fitPurchaseModel(summary, { model: 'mbgnbd' });
    expect(modified.model).toBe('mbgnbd');
    expect(probabilityAlive(modified, 0, 0, 38.86)).toBeLessThan(1);
    // MBG/NBD nests a dropout at time 0; on CDNOW both models describe the data about equally well.
    expect(Math.abs(modified.logLikelihood - model.logLikelihood)).toBeLessThan(20);
  });

  it('fits Gamma-Gamma to the published estimates on the 946 repeat buyers', () => {
    const spend = fitSpendModel(summary.x, summary.monetary);
    expect(spend.customers).toBe(946);
    expect(spend.p).toBeCloseTo(6.25, 2);
    expect(spend.q).toBeCloseTo(3.74, 2);
    expect(spend.gamma).toBeCloseTo(15.44, 2);
  });

  it('discounts lifetime value: zero horizon is worth nothing, and value grows with the horizon but less than undiscounted', () => {
    const spend = fitSpendModel(summary.x, summary.monetary);
    const customer = { x: 2, tx: 30.43, T: 38.86, monetary: 22.35 };
    const year = lifetimeValue(model, spend, customer, { horizonDays: 365, monthlyDiscountRate: 0.01 });
    const flat = lifetimeValue(model, spend, customer, { horizonDays: 365, monthlyDiscountRate: 0 });
    const expectedSpend =
      conditionalExpectedPurchases(model, 365 / 7, 2, 30.43, 38.86) *
      ((spend.p * (spend.gamma + 2 * 22.35)) / (spend.p * 2 + spend.q - 1));
    expect(flat).toBeCloseTo(expectedSpend, 8);
    expect(year).toBeLessThan(flat);
    expect(year).toBeGreaterThan(flat / 1.01 ** 12);
  });
});

describe('a million simulated customers', () => {
  it('fits BG/NBD and Gamma-Gamma back to the CDNOW estimates within 2%', () => {
    const truth = { model: 'bgnbd' as const, r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    const spendTruth = { p: 6.25, q: 3.74, gamma: 15.44 };
    const base = simulateCustomers(truth, spendTruth, {
      customers: 1_000_000,
      seed: 20240601,
      minWeeks: 39,
      maxWeeks: 104,
    });
    const fitted = fitPurchaseModel(base);
    expect(fitted.groups).toBeLessThan(400_000);
    for (const key of ['r', 'alpha', 'a', 'b'] as const)
      expect(Math.abs(fitted[key] / truth[key] - 1), key).toBeLessThan(0.02);
    const spend = fitSpendModel(base.x, base.monetary);
    for (const key of ['p', 'q', 'gamma'] as const)
      expect(Math.abs(spend[key] / spendTruth[key] - 1), key).toBeLessThan(0.02);
  });
});
