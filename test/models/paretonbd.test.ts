import { describe, expect, it } from 'vitest';
import {
  conditionalExpectedPurchasesParetoNbd,
  expectedPurchasesParetoNbd,
  fitParetoNbd,
  groupSummary,
  summarisePurchases,
  type Purchase,
  likelihoodParts,
  paretoNbdLogLikelihood,
  probabilityAliveParetoNbd,
  type ParetoNbdParameters,
} from '../../core/models/index.js';
import { reference as referenceOf } from '../support/reference.js';
import { cdnowSummary } from './cdnow.js';

interface Reference {
  fit: { r: number; alpha: number; s: number; beta: number; log_likelihood: number };
  log_likelihood_at_published: number;
  horizon_weeks: number;
  unconditional_expected: number;
  customers: { x: number; tx: number; T: number; p_alive: number; expected_39: number; log_likelihood: number }[];
}

// test/fixtures/reference/paretonbd_cdnow.py (scipy: closed form and quadrature), written by regenerate.py.
const reference = referenceOf<Reference>('paretonbd-cdnow');
const published: ParetoNbdParameters = { model: 'paretonbd', r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };
const grouped = groupSummary(cdnowSummary());

describe('Pareto/NBD on CDNOW (Fader, Hardie & Lee 2005)', () => {
  const model = fitParetoNbd(grouped);

  it('reproduces the published estimates and log-likelihood', () => {
    expect(model.r.toFixed(3)).toBe('0.553');
    expect(model.alpha.toFixed(3)).toBe('10.578');
    expect(model.s.toFixed(3)).toBe('0.606');
    // The likelihood is flat along β: the optimum is 11.668 (scipy finds the same), the paper prints 11.669.
    expect(Math.abs(model.beta - 11.669)).toBeLessThan(0.002);
    expect(model.logLikelihood.toFixed(1)).toBe('-9595.0');
  });

  it('finds the optimum scipy finds from the closed-form likelihood', () => {
    for (const key of ['r', 'alpha', 's', 'beta'] as const)
      expect(Math.abs(model[key] / reference.fit[key] - 1), key).toBeLessThan(1e-5);
    expect(model.logLikelihood).toBeCloseTo(reference.fit.log_likelihood, 6);
    expect(paretoNbdLogLikelihood(published, grouped)).toBeCloseTo(reference.log_likelihood_at_published, 6);
  });

  it('gives each customer the log-likelihood, P(alive) and expected purchases of an independent numerical integration', () => {
    expect(reference.customers.length).toBeGreaterThan(200);
    for (const c of reference.customers) {
      const at = `x ${c.x}, t_x ${c.tx}, T ${c.T}`;
      const { alive, died } = likelihoodParts(published, c.x, c.tx, c.T);
      const constant =
        lnGamma(published.r + c.x) -
        lnGamma(published.r) +
        published.r * Math.log(published.alpha) +
        published.s * Math.log(published.beta);
      const ll = constant + Math.max(alive, died) + Math.log1p(Math.exp(-Math.abs(alive - died)));
      expect(Math.abs(ll - c.log_likelihood), at).toBeLessThan(1e-9);
      expect(Math.abs(probabilityAliveParetoNbd(published, c.x, c.tx, c.T) - c.p_alive), at).toBeLessThan(1e-9);
      const expected = conditionalExpectedPurchasesParetoNbd(published, reference.horizon_weeks, c.x, c.tx, c.T);
      expect(Math.abs(expected / c.expected_39 - 1), at).toBeLessThan(1e-8);
    }
    // The reference is written to 12 significant digits.
    expect(expectedPurchasesParetoNbd(published, reference.horizon_weeks)).toBeCloseTo(
      reference.unconditional_expected,
      11,
    );
  });

  it('keeps P(alive) in (0, 1]: 1 for a customer who bought on the last day, lower the longer the silence', () => {
    expect(probabilityAliveParetoNbd(published, 3, 38.86, 38.86)).toBe(1);
    const silences = [0, 10, 20, 30, 38].map((tx) => probabilityAliveParetoNbd(published, 3, tx, 38.86));
    for (let i = 1; i < silences.length; i++) expect(silences[i]!).toBeGreaterThan(silences[i - 1]!);
    // A heavy buyer silent for long is nearly surely gone, and the sums stay finite.
    const gone = probabilityAliveParetoNbd(published, 200, 1, 78);
    expect(gone).toBeGreaterThanOrEqual(0);
    expect(gone).toBeLessThan(1e-6);
    expect(conditionalExpectedPurchasesParetoNbd(published, 39, 200, 1, 78)).toBeLessThan(1e-3);
  });
});

describe('Pareto/NBD on a base whose dropout hardly varies', () => {
  it('stops at a finite fit instead of following s and β to infinity, and keeps its scores in range', () => {
    // Regular buyers, lapsed ones, one-time and occasional buyers, as the store tests' world: the likelihood keeps
    // rising as s and β grow together, so the search must stop at its bound on the shapes.
    const purchases: Purchase[] = [];
    const now = 20_000;
    for (let i = 0; i < 12; i++) {
      const buy = (who: string, daysAgo: number): number =>
        purchases.push({ customer: who, day: now - daysAgo, value: 1 });
      for (let d = 3 + (i % 5); d < 365; d += 14) buy(`loyal${i}`, d);
      for (let d = 365 + i * 2; d < 730; d += 10) buy(`lapsed${i}`, d);
      buy(`once${i}`, 20 + i * 25);
      for (const d of [300 + i * 7, 150 + i * 3, 20 + i * 3]) buy(`occasional${i}`, d);
    }
    const summary = summarisePurchases(purchases, now - 90);
    const model = fitParetoNbd(summary);
    expect(Number.isFinite(model.logLikelihood)).toBe(true);
    expect(model.s).toBeLessThanOrEqual(Math.exp(12) * 1.001);
    expect(model.s).toBeGreaterThan(100);
    // The mean dropout rate s/β is what the data pin down: about one in a hundred weeks.
    expect(model.s / model.beta).toBeGreaterThan(0.001);
    expect(model.s / model.beta).toBeLessThan(0.1);
    for (let i = 0; i < summary.x.length; i++) {
      const p = probabilityAliveParetoNbd(model, summary.x[i]!, summary.tx[i]!, summary.T[i]!);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
  });
});

function lnGamma(v: number): number {
  // Stirling with six correction terms after shifting v above 10: independent of the Lanczos code under test.
  let shift = 0;
  while (v < 10) shift -= Math.log(v++);
  const w = 1 / (v * v);
  return (
    shift +
    (v - 0.5) * Math.log(v) -
    v +
    0.5 * Math.log(2 * Math.PI) +
    (1 / v) * (1 / 12 - w * (1 / 360 - w * (1 / 1260 - w * (1 / 1680 - w * (1 / 1188 - (w * 691) / 360360)))))
  );
}
