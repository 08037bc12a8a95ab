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
import { logAddExp, logGamma, minimise, minimiseSmooth } from '../numeric/index.js';

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
/** The largest |ln r| and |ln s| the fit explores. */
const SHAPE_LIMIT = 12;

/** Above this z the series needs too many terms (about 37 / (1 − z)); the integral is then taken numerically. */
const SERIES_LIMIT = 0.9;

/**
 * ln ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ by adaptive Gauss–Legendre, for the parameters where the series is
 * slow (one of α, β far larger than the other plus t_x). The integrand is log-convex and decreasing; it is scaled by
 * its value at t_x, and a panel is halved while it and its two halves disagree (within a budget of panels).
 */
export function logDiedIntegral(p: ParetoNbdParameters, x: number, tx: number, T: number): number {
  const a = p.r + x;
  const b = p.s + 1;
  // Relative to t_x through log1p, so that the integrand keeps full precision when α or β is huge.
  const f = (tau: number): number =>
    Math.exp(-a * Math.log1p((tau - tx) / (p.alpha + tx)) - b * Math.log1p((tau - tx) / (p.beta + tx)));
  const panel = (from: number, to: number): number => {
    const half = (to - from) / 2;
    const middle = (from + to) / 2;
    let sum = 0;
    for (let i = 0; i < GAUSS_NODES.length; i++)
      sum += (GAUSS_WEIGHTS[i] as number) * f(middle + half * (GAUSS_NODES[i] as number));
    return sum * half;
  };
  let budget = 4096;
  const adapt = (from: number, to: number, whole: number): number => {
    const middle = (from + to) / 2;
    const left = panel(from, middle);
    const right = panel(middle, to);
    if (--budget <= 0 || Math.abs(left + right - whole) <= 1e-13 * (left + right)) return left + right;
    return adapt(from, middle, left) + adapt(middle, to, right);
  };
  const top = -a * Math.log(p.alpha + tx) - b * Math.log(p.beta + tx);
  return top + Math.log(adapt(tx, T, panel(tx, T)));
}

/** 20-point Gauss–Legendre nodes and weights on [−1, 1], by Newton's method on the Legendre polynomial. */
const [GAUSS_NODES, GAUSS_WEIGHTS] = ((n: number): [Float64Array, Float64Array] => {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p0 = 1;
      let p1 = 0;
      for (let j = 1; j <= n; j++) {
        const p2 = p1;
        p1 = p0;
        p0 = ((2 * j - 1) * z * p1 - (j - 1) * p2) / j;
      }
      derivative = (n * (z * p0 - p1)) / (z * z - 1);
      const step = p0 / derivative;
      z -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    nodes[i] = z;
    weights[i] = 2 / ((1 - z * z) * derivative * derivative);
  }
  return [nodes, weights];
})(20);

export function likelihoodParts(
  p: ParetoNbdParameters,
  x: number,
  tx: number,
  T: number,
): { alive: number; died: number } {
  const alive = -(p.r + x) * Math.log(p.alpha + T) - p.s * Math.log(p.beta + T);
  if (!(T > tx)) return { alive, died: -Infinity };
  const larger = Math.max(p.alpha, p.beta);
  if (Math.abs(p.alpha - p.beta) / (larger + tx) > SERIES_LIMIT)
    return { alive, died: Math.log(p.s) + logDiedIntegral(p, x, tx, T) };
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
  // Searched on (ln r, ln r/α, ln s, ln s/β): the logs of the shapes and of the mean purchase and dropout rates, which
  // the data pin down well. A base whose dropout rates hardly vary drives s and β to infinity along a ridge of equal
  // likelihood; shapes beyond e^12 (rates varying by 0.25%) gain nothing, so a penalty keeps the search there.
  const parameters = (q: number[]): ParetoNbdParameters => {
    const [lr = 0, lm = 0, ls = 0, ld = 0] = q;
    return { model: 'paretonbd', r: Math.exp(lr), alpha: Math.exp(lr - lm), s: Math.exp(ls), beta: Math.exp(ls - ld) };
  };
  const beyond = (v: number): number => Math.max(0, Math.abs(v) - SHAPE_LIMIT) ** 2;
  let meanT = 0;
  let meanX = 0;
  for (let i = 0; i < g.count.length; i++) {
    meanT += ((g.count[i] as number) * (g.Ts[g.gT[i] as number] as number)) / g.customers;
    meanX += ((g.count[i] as number) * (g.xs[g.gx[i] as number] as number)) / g.customers;
  }
  const rate = Math.log(Math.max(1e-3, meanX) / Math.max(1e-3, meanT));
  const objective = (q: number[]): number =>
    -paretoNbdLogLikelihood(parameters(q), g) / g.customers + beyond(q[0] as number) + beyond(q[2] as number);
  // BFGS on central differences (the likelihood is smooth; its analytic gradient would need the hypergeometric
  // function's derivatives), then Nelder–Mead from there in case the line search stalled.
  const h = 1e-5;
  let found = minimiseSmooth(
    (q, gradient) => {
      for (let k = 0; k < 4; k++) {
        const up = q.slice();
        const down = q.slice();
        up[k] = (up[k] as number) + h;
        down[k] = (down[k] as number) - h;
        gradient[k] = (objective(up) - objective(down)) / (2 * h);
      }
      return objective(q);
    },
    [0, rate, 0, Math.log(1 / Math.max(1, meanT))],
    { gradientTolerance: 1e-8, maxIterations: 300 },
  );
  if (found.converged === false) {
    const polish = minimise(objective, found.point, { step: 0.01, tolerance: 1e-14, maxEvaluations: 600 });
    if (polish.value < found.value) found = { ...polish, evaluations: found.evaluations + polish.evaluations };
  }
  const best = parameters(found.point);
  return {
    ...best,
    logLikelihood: -found.value * g.customers,
    customers: g.customers,
    groups: g.count.length,
    evaluations: found.evaluations,
  };
}
