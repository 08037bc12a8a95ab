/**
 * The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): a customer's transaction values are
 * Gamma(p, ν) around a per-customer ν ~ Gamma(q, γ); fitted by maximum likelihood on the customers with x > 0.
 *
 * The log-likelihood is computed in a form that stays exact at any q and γ: with θ = γ/q and a = p·x, each customer's
 * term is
 *
 *   [ln Γ(q + a) − ln Γ(q) − a ln q] − ln Γ(a) + (a − 1) ln m + a ln x − a ln(θ + x m / q) − q ln(1 + x m / γ)
 *
 * whose bracket tends to 0 and last term to x m / θ as q → ∞. (The textbook form adds q ln γ and − ln Γ(q), each
 * about 1e200 when q ≈ 1e198, and returns noise.) The fit runs on (ln p, ln q, ln θ). When spend varies between
 * customers no more than their own purchases vary, the likelihood rises towards q, γ → ∞ with θ fixed: the limit model,
 * where every customer shares one spend rate, each purchase is Gamma(p, scale θ), and everyone's expected average
 * value is the population's p·θ. The fit then reports that limit and says so; when every average value is the same,
 * the likelihood has no maximum at all (it grows as the spread shrinks) and the model is that constant.
 */
import {
  digamma,
  logGamma,
  logGammaRatioExcess,
  minimise,
  minimiseSmooth,
  stirlingCorrection,
} from '../numeric/index.js';

export interface SpendModelParameters {
  p: number;
  /** Infinite in the limit models. */
  q: number;
  /** Infinite in the limit models. */
  gamma: number;
  /** Set when the fit lies on the model's boundary (see {@link SpendLimit}). */
  limit?: SpendLimit;
}

/**
 * The boundary of the Gamma-Gamma model a fit can end on. `common-rate`: q, γ → ∞ with γ/q = `scale`; every customer
 * has the same spend rate, so the expected average value is p·scale for everyone. `constant`: every repeat buyer's
 * average value is `value` (p, q and γ all infinite), and so is everyone's expected average value.
 */
export type SpendLimit =
  | { kind: 'common-rate'; scale: number }
  | { kind: 'own-average'; q: number; scale: number }
  | { kind: 'constant'; value: number };

export interface SpendModel extends SpendModelParameters {
  /** At the fitted parameters; null for the constant model, whose likelihood is unbounded. */
  logLikelihood: number | null;
  /** Customers with at least one repeat purchase, the ones the model is fitted on. */
  customers: number;
  /** A sentence saying why the fit is a limit model, when it is one. */
  note?: string;
}

/** Customers with x > 0 and m > 0, with the sums the likelihood needs once. */
interface SpendData {
  n: number;
  x: Float64Array;
  m: Float64Array;
  /** x·m per customer. */
  z: Float64Array;
  distinctX: Float64Array;
  countX: Float64Array;
  /** Σ x ln m, Σ ln m, Σ x ln x. */
  sumXLnM: number;
  sumLnM: number;
  sumXLnX: number;
  meanM: number;
}

function spendData(x: ArrayLike<number>, monetary: ArrayLike<number>): SpendData {
  const xs: number[] = [];
  const ms: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const mi = monetary[i] as number;
    if (xi > 0 && mi > 0 && Number.isFinite(mi)) {
      xs.push(xi);
      ms.push(mi);
    }
  }
  const n = xs.length;
  const byX = new Map<number, number>();
  let sumXLnM = 0;
  let sumLnM = 0;
  let sumXLnX = 0;
  let meanM = 0;
  for (let i = 0; i < n; i++) {
    const xi = xs[i] as number;
    const mi = ms[i] as number;
    byX.set(xi, (byX.get(xi) ?? 0) + 1);
    sumXLnM += xi * Math.log(mi);
    sumLnM += Math.log(mi);
    sumXLnX += xi * Math.log(xi);
    meanM += mi / n;
  }
  return {
    n,
    x: Float64Array.from(xs),
    m: Float64Array.from(ms),
    z: Float64Array.from(ms, (m, i) => m * (xs[i] as number)),
    distinctX: Float64Array.from(byX.keys()),
    countX: Float64Array.from(byX.values()),
    sumXLnM,
    sumLnM,
    sumXLnX,
    meanM,
  };
}

/**
 * The log-likelihood at (p, q, θ = γ/q), q possibly infinite (the common-rate limit); with `gradient`, its derivatives
 * in ln p, ln q and ln θ.
 */
function evaluate(data: SpendData, p: number, q: number, theta: number, gradient: number[] | null): number {
  const { n, x, z, distinctX, countX } = data;
  const limit = q === Infinity;
  let total = p * (data.sumXLnM + data.sumXLnX) - data.sumLnM;
  let dp = data.sumXLnM + data.sumXLnX;
  let dq = 0;
  let dt = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i] as number;
    const zi = z[i] as number;
    const a = p * xi;
    if (limit) {
      total += -a * Math.log(theta) - zi / theta;
      if (gradient) {
        dp -= xi * Math.log(theta);
        dt += (zi / theta - a) / theta;
      }
    } else {
      const base = theta + zi / q;
      const u = zi / (q * theta);
      const l = Math.log1p(u);
      total += -a * Math.log(base) - q * l;
      if (gradient) {
        dp -= xi * Math.log(base);
        dq += (a * zi) / (q * q * base) - l + u / (1 + u);
        dt += (zi / theta - a) / base;
      }
    }
  }
  const derivatives = { da: 0, dq: 0 };
  for (let j = 0; j < distinctX.length; j++) {
    const xj = distinctX[j] as number;
    const c = countX[j] as number;
    const a = p * xj;
    total -= c * logGamma(a);
    if (!limit) total += c * logGammaRatioExcess(q, a, gradient ? derivatives : undefined);
    if (gradient) {
      dp -= c * xj * digamma(a);
      if (!limit) {
        dp += c * xj * derivatives.da;
        dq += c * derivatives.dq;
      }
    }
  }
  if (gradient) {
    gradient[0] = dp * p;
    gradient[1] = limit ? 0 : dq * q;
    gradient[2] = dt * theta;
  }
  return total;
}

/**
 * The Gamma-Gamma log-likelihood of customers with x repeat purchases of average value m, at p, q, γ (customers with
 * x = 0 or m ≤ 0 do not enter). Exact to rounding at any parameters, including q and γ far beyond 1e100; with q and γ
 * infinite and `limit.scale` set, the common-rate limit's.
 *
 * @example
 * spendLogLikelihood([2, 1], [22.35, 11.77], { p: 6.25, q: 3.74, gamma: 15.44 });
 */
export function spendLogLikelihood(
  x: ArrayLike<number>,
  monetary: ArrayLike<number>,
  parameters: SpendModelParameters,
): number {
  const data = spendData(x, monetary);
  const { p, q, gamma, limit } = parameters;
  if (limit?.kind === 'constant') return Infinity;
  if (limit?.kind === 'own-average') return ownAverageLogLikelihood(data, limit.q, limit.scale);
  const theta = limit?.kind === 'common-rate' ? limit.scale : gamma / q;
  return evaluate(data, p, limit ? Infinity : q, theta, null);
}

/**
 * The maximum of the common-rate limit. Given p the best scale is Σ x m / (p Σ x); the profile's score in p,
 * Σ x ln(x m) − (Σ x) ln scale − Σ x ψ(p x), decreases in p and changes sign unless every average value is equal.
 */
function fitCommonRate(data: SpendData): { p: number; scale: number; logLikelihood: number } {
  let sx = 0;
  let sz = 0;
  let slnz = 0;
  for (let i = 0; i < data.n; i++) {
    const xi = data.x[i] as number;
    const zi = data.z[i] as number;
    sx += xi;
    sz += zi;
    slnz += xi * Math.log(zi);
  }
  const score = (lp: number): number => {
    const p = Math.exp(lp);
    let s = slnz - sx * Math.log(sz / (p * sx));
    for (let j = 0; j < data.distinctX.length; j++)
      s -= (data.countX[j] as number) * (data.distinctX[j] as number) * digamma(p * (data.distinctX[j] as number));
    return s;
  };
  let lo = -30;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-13; i++) {
    const mid = (lo + hi) / 2;
    if (score(mid) > 0) lo = mid;
    else hi = mid;
  }
  const p = Math.exp((lo + hi) / 2);
  const scale = sz / (p * sx);
  return { p, scale, logLikelihood: evaluate(data, p, Infinity, scale, null) };
}

/** The p → ∞ limit: average values are inverse-gamma(q, scale), whatever the number of purchases. */
function ownAverageLogLikelihood(data: SpendData, q: number, scale: number): number {
  let total = 0;
  for (const m of data.m) total += q * Math.log(scale) - logGamma(q) - (q + 1) * Math.log(m) - scale / m;
  return total;
}

/**
 * The maximum of the p → ∞ limit: a gamma fit to 1/m. With s = ln(mean of 1/m) − mean of ln(1/m) (≥ 0, and 0 only
 * when every average is equal), q solves ln q − ψ(q) = s and scale = q / mean(1/m); the log-likelihood there is
 * n (½ ln q − ½ ln 2π − c(q) − q s) − Σ ln m, c being Stirling's remainder, which stays exact when q is large.
 */
function fitOwnAverage(data: SpendData): { q: number; scale: number; logLikelihood: number } {
  const { n, m } = data;
  let meanY = 0;
  for (const v of m) meanY += 1 / v / n;
  let s = 0;
  for (const v of m) s -= Math.log1p(1 / v / meanY - 1) / n;
  let lo = -30;
  let hi = 80;
  for (let i = 0; i < 200 && hi - lo > 1e-13; i++) {
    const mid = (lo + hi) / 2;
    const q = Math.exp(mid);
    if (Math.log(q) - digamma(q) > s) lo = mid;
    else hi = mid;
  }
  const q = Math.exp((lo + hi) / 2);
  return {
    q,
    scale: q / meanY,
    logLikelihood: n * (0.5 * Math.log(q) - 0.5 * Math.log(2 * Math.PI) - stirlingCorrection(q) - q * s) - data.sumLnM,
  };
}

/** Fits by BFGS on (ln p, ln q, ln θ) from `start`, polished by Nelder–Mead when BFGS stops short. */
function fitInterior(data: SpendData, start: number[]): { point: number[]; value: number } {
  const n = data.n;
  const objective = (point: number[], gradient: number[] | null): number => {
    const [lp = 0, lq = 0, lt = 0] = point;
    // Far outside any data's range (and before exp overflows), the limit decides; keep the search finite.
    if (Math.abs(lp) > 80 || Math.abs(lt) > 80 || lq < -80 || lq > 160) return Infinity;
    const value = -evaluate(data, Math.exp(lp), Math.exp(lq), Math.exp(lt), gradient) / n;
    if (gradient) for (let k = 0; k < 3; k++) gradient[k] = -(gradient[k] as number) / n;
    return value;
  };
  let found = minimiseSmooth((point, gradient) => objective(point, gradient), start, {
    gradientTolerance: 1e-9,
  });
  if (found.converged === false) {
    const polish = minimise((point) => objective(point, null), found.point, {
      step: 0.01,
      tolerance: 1e-14,
      maxEvaluations: 400,
    });
    if (polish.value < found.value) found = polish;
  }
  return { point: found.point, value: -found.value * n };
}

/** Above this q, or this p, the interior fit has gone towards a limit, which is then reported instead. */
const LIMIT_Q = 1e15;
const LIMIT_P = 1e7;

/**
 * @example
 * const spend = fitSpendModel(summary.x, summary.monetary); // { p, q, gamma, logLikelihood, customers }
 */
export function fitSpendModel(x: ArrayLike<number>, monetary: ArrayLike<number>): SpendModel {
  const data = spendData(x, monetary);
  const n = data.n;
  if (n === 0) throw new Error('the spend model needs customers with a repeat purchase and a positive value');
  let lowest = Infinity;
  let highest = -Infinity;
  for (const m of data.m) {
    lowest = Math.min(lowest, m);
    highest = Math.max(highest, m);
  }
  if (highest - lowest <= 1e-12 * highest) {
    const value = data.m[0] as number;
    return {
      p: Infinity,
      q: Infinity,
      gamma: Infinity,
      limit: { kind: 'constant', value },
      logLikelihood: null,
      customers: n,
      note:
        n === 1
          ? `one repeat buyer: the spend model cannot be estimated from one average value, so the expected average value is that customer's, ${value}, for everyone`
          : `every one of the ${n} repeat buyers has the same average value, ${value}: the spend model is that constant (its likelihood has no maximum), and everyone's expected average value is ${value}`,
    };
  }
  const common = fitCommonRate(data);
  const own = fitOwnAverage(data);
  let start = [0, 0, Math.log(data.meanM)];
  // On a large base, take the first iterations on every 20th repeat buyer.
  if (n > 100_000) {
    const rough = fitSpendModel(
      data.x.filter((_, i) => i % 20 === 0),
      data.m.filter((_, i) => i % 20 === 0),
    );
    if (!rough.limit) start = [Math.log(rough.p), Math.log(rough.q), Math.log(rough.gamma / rough.q)];
  }
  let interior = fitInterior(data, start);
  const fromLimit = fitInterior(data, [Math.log(common.p), Math.log(100), Math.log(common.scale)]);
  if (fromLimit.value > interior.value) interior = fromLimit;
  const [lp = 0, lq = 0, lt = 0] = interior.point;
  const best = Math.max(common.logLikelihood, own.logLikelihood);
  if (lp < Math.log(LIMIT_P) && lq < Math.log(LIMIT_Q) && interior.value > best + 1e-9 * Math.max(1, Math.abs(best)))
    return { p: Math.exp(lp), q: Math.exp(lq), gamma: Math.exp(lq + lt), logLikelihood: interior.value, customers: n };
  if (own.logLikelihood > common.logLikelihood)
    return {
      p: Infinity,
      q: own.q,
      gamma: 0,
      limit: { kind: 'own-average', q: own.q, scale: own.scale },
      logLikelihood: own.logLikelihood,
      customers: n,
      note: `the spend fit lies at its boundary p → ∞: the ${n} repeat buyers' purchases vary so little around their own averages, next to how the averages differ between customers, that the model is its limit: each customer's expected average value is their own average (averages follow an inverse gamma with q ${own.q.toPrecision(4)}, scale ${own.scale.toPrecision(4)})`,
    };
  const mean = common.p * common.scale;
  return {
    p: common.p,
    q: Infinity,
    gamma: Infinity,
    limit: { kind: 'common-rate', scale: common.scale },
    logLikelihood: common.logLikelihood,
    customers: n,
    note: `the spend fit lies at its boundary q, γ → ∞: average values vary between the ${n} repeat buyers no more than one customer's purchases vary, so the model is its limit, one spend rate for everyone (p ${common.p.toPrecision(4)}, scale ${common.scale.toPrecision(4)}), and everyone's expected average value is the mean ${mean.toPrecision(6)}`,
  };
}

/**
 * E[Z | x, m̄]: the expected average transaction value of a customer, shrunk towards the population mean.
 * A customer with x = 0 gets the population mean pγ/(q − 1). In the limit models, everyone's is the same.
 */
export function expectedAverageValue(m: SpendModelParameters, x: number, monetary: number): number {
  if (m.limit?.kind === 'constant') return m.limit.value;
  if (m.limit?.kind === 'common-rate') return m.p * m.limit.scale;
  if (m.limit?.kind === 'own-average') return x > 0 ? monetary : m.limit.scale / (m.limit.q - 1);
  return (m.p * (m.gamma + x * monetary)) / (m.p * x + m.q - 1);
}
