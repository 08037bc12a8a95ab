/**
 * The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): a customer's transaction values are
 * Gamma(p, ν) around a per-customer ν ~ Gamma(q, γ); fitted by maximum likelihood on the customers with x > 0.
 */
import { digamma, logGamma, minimise, minimiseSmooth } from '../numeric/index.js';

export interface SpendModelParameters {
  p: number;
  q: number;
  gamma: number;
}

export interface SpendModel extends SpendModelParameters {
  logLikelihood: number;
  /** Customers with at least one repeat purchase, the ones the model is fitted on. */
  customers: number;
}

/**
 * @example
 * const spend = fitSpendModel(summary.x, summary.monetary); // { p, q, gamma, logLikelihood, customers }
 */
export function fitSpendModel(x: Float64Array, monetary: Float64Array): SpendModel {
  const xs: number[] = [];
  const ms: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const mi = monetary[i] as number;
    if (xi > 0 && mi > 0) {
      xs.push(xi);
      ms.push(mi);
    }
  }
  const n = xs.length;
  if (n === 0) throw new Error('the spend model needs customers with a repeat purchase and a positive value');
  // Only Σ ln(γ + m·x) and Σ x·ln(γ + m·x) need a pass over customers; the rest is summed once or per distinct x.
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
  const distinctX = Float64Array.from(byX.keys());
  const countX = Float64Array.from(byX.values());
  const mx = Float64Array.from(ms, (m, i) => m * (xs[i] as number));
  const xArr = Float64Array.from(xs);
  const evaluate = (p: number, q: number, g: number, gradient: number[] | null): number => {
    let s0 = 0;
    let s1 = 0;
    let inv0 = 0;
    let inv1 = 0;
    for (let i = 0; i < n; i++) {
      const x = xArr[i] as number;
      const v = g + (mx[i] as number);
      const l = Math.log(v);
      s0 += l;
      s1 += x * l;
      if (gradient) {
        inv0 += 1 / v;
        inv1 += x / v;
      }
    }
    let total = -n * logGamma(q) + n * q * Math.log(g) + p * sumXLnM - sumLnM + p * sumXLnX - p * s1 - q * s0;
    let dp = sumXLnM + sumXLnX - s1;
    let dq = -n * digamma(q) + n * Math.log(g) - s0;
    for (let j = 0; j < distinctX.length; j++) {
      const x = distinctX[j] as number;
      const c = countX[j] as number;
      total += c * (logGamma(p * x + q) - logGamma(p * x));
      if (gradient) {
        const psi = digamma(p * x + q);
        dp += c * x * (psi - digamma(p * x));
        dq += c * psi;
      }
    }
    if (gradient) {
      gradient[0] = dp * p;
      gradient[1] = dq * q;
      gradient[2] = ((n * q) / g - p * inv1 - q * inv0) * g;
    }
    return total;
  };
  let start = [0, 0, Math.log(meanM)];
  // On a large base, take the first iterations on every 20th repeat buyer.
  if (n > 100_000) {
    const rough = fitSpendModel(
      Float64Array.from(xs.filter((_, i) => i % 20 === 0)),
      Float64Array.from(ms.filter((_, i) => i % 20 === 0)),
    );
    start = [Math.log(rough.p), Math.log(rough.q), Math.log(rough.gamma)];
  }
  let found = minimiseSmooth(
    ([lp = 0, lq = 0, lg = 0], gradient) => {
      const value = -evaluate(Math.exp(lp), Math.exp(lq), Math.exp(lg), gradient) / n;
      for (let k = 0; k < 3; k++) gradient[k] = -(gradient[k] as number) / n;
      return value;
    },
    start,
    { gradientTolerance: 1e-9 },
  );
  if (found.converged === false) {
    const polish = minimise(
      ([lp = 0, lq = 0, lg = 0]) => -evaluate(Math.exp(lp), Math.exp(lq), Math.exp(lg), null) / n,
      found.point,
      { step: 0.01, tolerance: 1e-14, maxEvaluations: 400 },
    );
    if (polish.value < found.value) found = polish;
  }
  const [lp = 0, lq = 0, lg = 0] = found.point;
  return { p: Math.exp(lp), q: Math.exp(lq), gamma: Math.exp(lg), logLikelihood: -found.value * n, customers: n };
}

/**
 * E[Z | x, m̄]: the expected average transaction value of a customer, shrunk towards the population mean.
 * A customer with x = 0 gets the population mean pγ/(q − 1).
 */
export function expectedAverageValue(m: SpendModelParameters, x: number, monetary: number): number {
  return (m.p * (m.gamma + x * monetary)) / (m.p * x + m.q - 1);
}
