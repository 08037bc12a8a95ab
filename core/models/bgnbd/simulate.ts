/** Simulates a customer base from known BG/NBD (or MBG/NBD) and Gamma-Gamma parameters, for fit-back checks. */
import { seededRandom } from '../numeric/index.js';
import type { SpendModelParameters } from '../gammagamma/index.js';
import type { CustomerSummary } from './summary.js';
import type { PurchaseModelParameters } from './fit.js';

export interface SimulationOptions {
  customers: number;
  seed: number;
  /** Calibration ages T are whole days drawn uniformly in [minWeeks, maxWeeks]. */
  minWeeks: number;
  maxWeeks: number;
}

/**
 * Draws λ ~ Gamma(r, 1/α) and p ~ Beta(a, b) per customer, runs the purchase process up to T, and draws the mean
 * repeat value from Gamma-Gamma. t_x is rounded to whole days, as purchase dates are.
 *
 * @example
 * const base = simulateCustomers({ model: 'bgnbd', r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, { p: 6.25, q: 3.74, gamma: 15.44 },
 *   { customers: 1_000_000, seed: 7, minWeeks: 26, maxWeeks: 78 });
 */
export function simulateCustomers(
  purchases: PurchaseModelParameters,
  spend: SpendModelParameters,
  options: SimulationOptions,
): Omit<CustomerSummary, 'customers' | 'holdout'> {
  const rng = seededRandom(options.seed);
  const n = options.customers;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const monetary = new Float64Array(n);
  const minDays = Math.round(options.minWeeks * 7);
  const spanDays = Math.round(options.maxWeeks * 7) - minDays + 1;
  const modified = purchases.model === 'mbgnbd';
  for (let i = 0; i < n; i++) {
    const age = (minDays + rng.int(spanDays)) / 7;
    const lambda = rng.gamma(purchases.r, 1 / purchases.alpha);
    const p = rng.beta(purchases.a, purchases.b);
    let t = 0;
    let count = 0;
    let last = 0;
    let alive = !(modified && rng.next() < p);
    while (alive) {
      t += -Math.log(1 - rng.next()) / lambda;
      if (t > age) break;
      count++;
      last = t;
      if (rng.next() < p) alive = false;
    }
    x[i] = count;
    tx[i] = Math.round(last * 7) / 7;
    T[i] = age;
    if (count > 0) {
      const nu = rng.gamma(spend.q, 1 / spend.gamma);
      monetary[i] = rng.gamma(spend.p * count, 1 / (nu * count));
    }
  }
  return { x, tx, T, monetary };
}
