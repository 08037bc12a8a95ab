import { describe, expect, it } from 'vitest';
import {
  conditionalExpectedPurchases,
  expectedAverageValue,
  fitSpendModel,
  spendLogLikelihood,
  type PurchaseModelKind,
} from '../../core/models/index.js';
import { reference } from '../support/reference.js';

interface SpendSet {
  name: string;
  x: number[];
  m: number[];
  points: { p: number; q: number; gamma: number; logLikelihood: number }[];
  limit: { p: number; scale: number; logLikelihood: number; slope: number } | null;
  ownAverage: { q: number; scale: number; logLikelihood: number } | null;
  mle: { p: number; q: number; gamma: number; logLikelihood: number } | null;
  constant: number | null;
}

const { sets } = reference<{ sets: SpendSet[] }>('gammagamma-mpmath');
const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe('Gamma-Gamma against mpmath (test/fixtures/reference/gammagamma_mpmath.py)', () => {
  it.each(sets.map((s) => [s.name, s] as const))(
    '%s: the log-likelihood agrees to 1e-11 at every reference point, q up to 2.8e197 included',
    (_, set) => {
      for (const point of set.points) {
        const ours = spendLogLikelihood(set.x, set.m, point);
        // The near-constant set's points at p ≈ 6e5 are ill-conditioned in the inputs themselves (terms of 1e7 cancel
        // to 27): there the bound is 1e-15 of the terms' size, the most a double can carry.
        const tolerance = point.p > 1e4 ? 1e-15 * point.p * set.x.reduce((s, x) => s + x, 0) * 20 : 1e-11;
        expect(relative(ours, point.logLikelihood), `${JSON.stringify(point)}: ${ours}`).toBeLessThan(tolerance);
      }
    },
  );

  it.each(sets.map((s) => [s.name, s] as const))(
    '%s: the fit lands on the maximum mpmath finds, and its log-likelihood agrees there',
    (_, set) => {
      const fit = fitSpendModel(set.x, set.m);
      if (set.constant !== null) {
        expect(fit.limit).toEqual({ kind: 'constant', value: set.constant });
        expect(fit.logLikelihood).toBeNull();
        expect(fit.note).toMatch(/expected average value is/);
        expect(expectedAverageValue(fit, 3, 99)).toBe(set.constant);
        return;
      }
      const candidates = [
        set.mle && { kind: 'interior', ll: set.mle.logLikelihood },
        set.limit && { kind: 'common-rate', ll: set.limit.logLikelihood },
        set.ownAverage && { kind: 'own-average', ll: set.ownAverage.logLikelihood },
      ].filter((c): c is { kind: string; ll: number } => c !== null);
      const best = candidates.reduce((a, b) => (b.ll > a.ll ? b : a));
      expect(fit.limit?.kind ?? 'interior').toBe(best.kind);
      expect(relative(fit.logLikelihood as number, best.ll)).toBeLessThan(1e-9);
      if (best.kind === 'interior') {
        const mle = set.mle!;
        for (const k of ['p', 'q', 'gamma'] as const) expect(Math.abs(fit[k] / mle[k] - 1)).toBeLessThan(1e-6);
      } else if (best.kind === 'common-rate') {
        expect(fit.q).toBe(Infinity);
        expect(Math.abs(fit.p / set.limit!.p - 1)).toBeLessThan(1e-8);
        expect(fit.note).toMatch(/boundary q, γ → ∞/);
        // Everyone's expected average value is the population's: a customer's own average does not move it.
        expect(expectedAverageValue(fit, 1, 5)).toBe(expectedAverageValue(fit, 6, 500));
      } else {
        expect(fit.note).toMatch(/boundary p → ∞/);
        expect(expectedAverageValue(fit, 2, 10.02)).toBe(10.02);
      }
      expect(Number.isFinite(expectedAverageValue(fit, 0, 0))).toBe(true);
    },
  );
});

interface ExpectationCase {
  model: PurchaseModelKind;
  r: number;
  alpha: number;
  a: number;
  b: number;
  customer: string;
  x: number;
  tx: number;
  T: number;
  horizon: string;
  t: number;
  expected: number;
}

describe('BG/NBD and MBG/NBD expectations against mpmath (bgnbd_expectations_mpmath.py)', () => {
  const { cases } = reference<{ cases: ExpectationCase[] }>('bgnbd-expectations-mpmath');
  it.each(cases.map((c) => [c.model, c.customer, c.horizon, c] as const))(
    '%s, %s, over %s: agrees to 1e-12',
    (_, __, ___, c) => {
      const ours = conditionalExpectedPurchases(c, c.t, c.x, c.tx, c.T);
      expect(Number.isFinite(ours)).toBe(true);
      expect(Math.abs(ours / c.expected - 1)).toBeLessThan(1e-12);
    },
  );
});
