/**
 * Customer lifetime value from a purchase model and a spend model, as the `lifetimes` package computes it:
 *
 *   CLV = Σ_{m=1..M} (E[X(t_m) | x, t_x, T] − E[X(t_{m−1}) | x, t_x, T]) × E[Z | x, m̄] / (1 + d)^m
 *
 * where t_m is the end of month m of the horizon (a month is 365.25 / 12 days; the last month may be partial), d is
 * the monthly discount rate, and E[Z] the Gamma-Gamma expected average value. Times of the model are in weeks.
 */
import { expectedPurchasesGiven, type AnyPurchaseModelParameters } from '../purchases/index.js';
import { expectedAverageValue, type SpendModelParameters } from '../gammagamma/index.js';

const MONTH_DAYS = 365.25 / 12;

export interface LifetimeValueOptions {
  /** Horizon in days (e.g. 365). */
  horizonDays: number;
  /** Monthly discount rate (0.01 = 1% a month, about 12.7% a year). */
  monthlyDiscountRate: number;
}

/**
 * @example
 * lifetimeValue(purchases, spend, { x: 2, tx: 30.43, T: 38.86, monetary: 22.35 }, { horizonDays: 365, monthlyDiscountRate: 0.01 });
 */
export function lifetimeValue(
  purchases: AnyPurchaseModelParameters,
  spend: SpendModelParameters,
  customer: { x: number; tx: number; T: number; monetary: number },
  options: LifetimeValueOptions,
): number {
  const value = expectedAverageValue(spend, customer.x, customer.monetary);
  const months = Math.ceil(options.horizonDays / MONTH_DAYS - 1e-9);
  let previous = 0;
  let total = 0;
  for (let m = 1; m <= months; m++) {
    const weeks = Math.min(m * MONTH_DAYS, options.horizonDays) / 7;
    const expected = expectedPurchasesGiven(purchases, weeks, customer.x, customer.tx, customer.T);
    total += ((expected - previous) * value) / Math.pow(1 + options.monthlyDiscountRate, m);
    previous = expected;
  }
  return total;
}
