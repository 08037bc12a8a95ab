/**
 * Pareto/NBD (Schmittlein, Morrison & Colombo 1987) fitted by maximum likelihood on log-parameters, with the
 * likelihood written as Fader & Hardie's note derives it: while alive a customer buys at rate λ ~ Gamma(r, α) and
 * dies at rate μ ~ Gamma(s, β), so
 *
 *   L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ ].
 *
 * The integral is F(t_x) − F(T) with F(t) = ∫_t^∞, and F is a Gauss hypergeometric function, summed in its Euler
 * form (positive terms, ratio at most z < 1) and kept in logs, so no term overflows and the two parts of L are
 * added with log-sum-exp. Customers are grouped by identical (x, t_x, T), as for BG/NBD.
 */
import { groupSummary, type FrequencyRecency, type GroupedSummary } from '../bgnbd/index.js';
import { logAddExp, logGamma, minimise } from '../numeric/index.js';

export interface ParetoNbdParameters {
  model: 'paretonbd';
  /** Shape and rate of the purchase rate λ (per week when built by segflow). */
  r: number;
  alpha: number;
  /** Shape and rate of the dropout rate μ. */
  s: number;
  beta: number;
}

export interface ParetoNbdModel extends ParetoNbdParameters {
  logLikelihood: number;
  customers: number;
  /** Distinct (x, t_x, T) triples the likelihood was evaluated on. */
  groups: number;
  evaluations: number;
}

/**
 * ln F(t) for a customer with x repeat purchases: ln ∫_t^∞ (α+τ)^−(r+x) (β+τ)^−(s+1) dτ.
 *
 * With m = max(α, β), z = |α−β| / (m+t), n = r+s+x and c the exponent of the smaller of α+τ and β+τ (s+1 when α ≥ β,
 * r+x otherwise), F(t) = (m+t)^−n / n · ₂F₁(c, n; n+1; z) = (m+t)^−n / n · (1−z)^(1−c) · ₂F₁(1, n+1−c; n+1; z).
 */
export function logTail(p: ParetoNbdParameters, x: number, t: number): number {
  const { r, alpha, s, beta } = p;
  const n = r + s + x;
  const alphaLarger = alpha >= beta;
  const m = alphaLarger ? alpha : beta;
  const c = alphaLarger ? s + 1 : r + x;
  const z = Math.abs(alpha - beta) / (m + t);
  return -n * Math.log(m + t) - Math.log(n) + (1 - c) * Math.log1p(-z) + Math.log(eulerSeries(n + 1 - c, n + 1, z));
}

/** ₂F₁(1, b; c; z) = Σ_k (b)_k / (c)_k z^k for 0 < b < c and 0 ≤ z < 1: positive terms, each ratio below z. */
function eulerSeries(b: number, c: number, z: number): number {
  if (z === 0) return 1;
  let term = 1;
  let sum = 1;
  for (let k = 0; k < 1_000_000; k++) {
    const ratio = ((b + k) / (c + k)) * z;
    term *= ratio;
    sum += term;
    // The rest is below term · ratio / (1 − ratio) since the ratios only grow towards z.
    if (term * z <= 1e-17 * sum * (1 - z)) break;
  }
  return sum;
}

/**
 * One customer's log-likelihood split into its two parts (alive at T; died between t_x and T) after the shared
 * constant ln Γ(r+x) − ln Γ(r) + r ln α + s ln β: P(alive) is e^alive / (e^alive + e^died).
 */
export function likelihoodParts(
  p: ParetoNbdParameters,
  x: number,
  tx: number,
  T: number,
): { alive: number; died: number } {
  const alive = -(p.r + x) * Math.log(p.alpha + T) - p.s * Math.log(p.beta + T);
  if (!(T > tx)) return { alive, died: -Infinity };
  const upper = logTail(p, x, tx);
  const lower = logTail(p, x, T);
  const difference = upper + Math.log(-Math.expm1(lower - upper));
  return { alive, died: Math.log(p.s) + difference };
}

/** Total log-likelihood of grouped customers. */
export function paretoNbdLogLikelihood(p: ParetoNbdParameters, g: GroupedSummary): number {
  const { r, alpha, s, beta } = p;
  const shared = -logGamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  const base = Float64Array.from(g.xs, (x) => shared + logGamma(r + x));
  let total = 0;
  for (let i = 0; i < g.count.length; i++) {
    const j = g.gx[i] as number;
    const x = g.xs[j] as number;
    const { alive, died } = likelihoodParts(
      p,
      x,
      g.txs[g.gtx[i] as number] as number,
      g.Ts[g.gT[i] as number] as number,
    );
    total += (g.count[i] as number) * ((base[j] as number) + logAddExp(alive, died));
  }
  return total;
}

/**
 * Fits Pareto/NBD by maximum likelihood (Nelder–Mead on the log-parameters, restarted until it no longer improves).
 *
 * @example
 * const model = fitParetoNbd({ x, tx, T }); // { model: 'paretonbd', r, alpha, s, beta, logLikelihood, … }
 */
export function fitParetoNbd(summary: FrequencyRecency | GroupedSummary): ParetoNbdModel {
  const g = 'count' in summary ? summary : groupSummary(summary);
  if (g.customers === 0) throw new Error('cannot fit a purchase model on zero customers');
  const parameters = (q: number[]): ParetoNbdParameters => {
    const [lr = 0, la = 0, ls = 0, lb = 0] = q;
    return { model: 'paretonbd', r: Math.exp(lr), alpha: Math.exp(la), s: Math.exp(ls), beta: Math.exp(lb) };
  };
  let meanT = 0;
  for (let i = 0; i < g.count.length; i++)
    meanT += ((g.count[i] as number) * (g.Ts[g.gT[i] as number] as number)) / g.customers;
  const scale = Math.log(Math.max(1, meanT / 4));
  const found = minimise((q) => -paretoNbdLogLikelihood(parameters(q), g) / g.customers, [0, scale, 0, scale], {
    tolerance: 1e-13,
  });
  const best = parameters(found.point);
  return {
    ...best,
    logLikelihood: -found.value * g.customers,
    customers: g.customers,
    groups: g.count.length,
    evaluations: found.evaluations,
  };
}
