/** Predictions of a fitted BG/NBD or MBG/NBD model; times are in the model's units (weeks when built by segflow). */
import { hyp2f1 } from '../numeric/index.js';
import type { PurchaseModelParameters } from './fit.js';

/** The odds of having dropped out against being alive, given the history; 0 under BG/NBD when x = 0. */
function deadOdds(m: PurchaseModelParameters, x: number, tx: number, T: number): number {
  if (m.model === 'bgnbd' && x === 0) return 0;
  const denominator = m.model === 'mbgnbd' ? m.b + x : m.b + x - 1;
  return (m.a / denominator) * Math.exp((m.r + x) * (Math.log(m.alpha + T) - Math.log(m.alpha + tx)));
}

/**
 * P(alive | x, t_x, T). BG/NBD gives 1 to a customer with no repeat purchase; MBG/NBD does not.
 *
 * @example
 * probabilityAlive(model, 2, 30.43, 38.86);
 */
export function probabilityAlive(m: PurchaseModelParameters, x: number, tx: number, T: number): number {
  return 1 / (1 + deadOdds(m, x, tx, T));
}

/**
 * (1 − z)^(r + x) · 2F1(r + x, β; γ; z), the decaying hypergeometric term of the expectations. The plain series has
 * c − a − b = a − 1 − r − x: when that is negative (a frequent buyer, a long horizon) its terms grow like
 * (1 − z)^(−x) before they shrink, and it returns NaN for a daily buyer over ten years. Then Euler's transformation is
 * used, as lifetimes does: (1 − z)^(a − 1) · 2F1(γ − r − x, γ − β; γ; z), whose parameters do not grow with x and
 * whose series converges even at z = 1. (When a is large the plain series is the well-behaved one.)
 */
function decayedHypergeometric(a: number, r: number, x: number, beta: number, gamma: number, z: number): number {
  if (a - 1 >= r + x) return Math.exp((r + x) * Math.log1p(-z)) * hyp2f1(r + x, beta, gamma, z);
  return Math.exp((a - 1) * Math.log1p(-z)) * hyp2f1(gamma - r - x, gamma - beta, gamma, z);
}

/** E[X(t) | x, t_x, T]: expected purchases in the next t for a customer with this history. */
export function conditionalExpectedPurchases(
  m: PurchaseModelParameters,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  if (t <= 0) return 0;
  const { r, alpha, a, b } = m;
  const z = t / (alpha + T + t);
  if (m.model === 'mbgnbd') {
    const numerator = ((a + b + x) / (a - 1)) * (1 - decayedHypergeometric(a, r, x, b + x + 1, a + b + x, z));
    return numerator / (1 + deadOdds(m, x, tx, T));
  }
  const numerator = ((a + b + x - 1) / (a - 1)) * (1 - decayedHypergeometric(a, r, x, b + x, a + b + x - 1, z));
  return numerator / (1 + deadOdds(m, x, tx, T));
}

/** E[X(t)] for a customer just acquired (no history). */
export function expectedPurchases(m: PurchaseModelParameters, t: number): number {
  const { r, alpha, a, b } = m;
  const z = t / (alpha + t);
  if (m.model === 'mbgnbd') return (b / (a - 1)) * (1 - decayedHypergeometric(a, r, 0, b + 1, a + b, z));
  return ((a + b - 1) / (a - 1)) * (1 - decayedHypergeometric(a, r, 0, b, a + b - 1, z));
}

/** P(X(t) = 0) for a customer just acquired: no repeat purchase in the next t. */
export function probabilityNoPurchase(m: PurchaseModelParameters, t: number): number {
  const none = Math.pow(m.alpha / (m.alpha + t), m.r);
  if (m.model === 'bgnbd') return none;
  // MBG/NBD: dead at once with probability a/(a+b), otherwise as BG/NBD with b+1.
  return m.a / (m.a + m.b) + (m.b / (m.a + m.b)) * none;
}
