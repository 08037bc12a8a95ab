/** Predictions of a fitted Pareto/NBD model; times are in the model's units (weeks when built by segflow). */
import { logAddExp } from '../numeric/index.js';
import { likelihoodParts, type ParetoNbdParameters } from './fit.js';

/**
 * P(alive | x, t_x, T): the share of the likelihood that comes from a customer still alive at T.
 *
 * @example
 * probabilityAliveParetoNbd(model, 2, 30.43, 38.86);
 */
export function probabilityAliveParetoNbd(p: ParetoNbdParameters, x: number, tx: number, T: number): number {
  const { alive, died } = likelihoodParts(p, x, tx, T);
  return Math.exp(alive - logAddExp(alive, died));
}

/** ∫_0^t e^(−(s−1)·u) du in the variable u = ln(1 + τ/(β+T)): [1 − ((β+T)/(β+T+t))^(s−1)] / (s−1), and its limit at s = 1. */
function dropoutWeightedSpan(s: number, logRatio: number): number {
  const e = s - 1;
  return Math.abs(e) < 1e-12 ? logRatio : -Math.expm1(-e * logRatio) / e;
}

/**
 * E[X(t) | x, t_x, T] = P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)].
 *
 * @example
 * conditionalExpectedPurchasesParetoNbd(model, 39, 2, 30.43, 38.86);
 */
export function conditionalExpectedPurchasesParetoNbd(
  p: ParetoNbdParameters,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  if (t <= 0) return 0;
  const { r, alpha, s, beta } = p;
  const rate = ((r + x) * (beta + T)) / (alpha + T);
  return probabilityAliveParetoNbd(p, x, tx, T) * rate * dropoutWeightedSpan(s, Math.log1p(t / (beta + T)));
}

/** E[X(t)] for a customer just acquired: rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)]. */
export function expectedPurchasesParetoNbd(p: ParetoNbdParameters, t: number): number {
  if (t <= 0) return 0;
  return ((p.r * p.beta) / p.alpha) * dropoutWeightedSpan(p.s, Math.log1p(t / p.beta));
}
