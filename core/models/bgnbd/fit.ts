/**
 * BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007) fitted by maximum likelihood
 * on log-parameters. Customers are grouped by identical (x, t_x, T), and the terms that depend on x, t_x or T alone
 * are computed once per distinct value, so a million customers cost a few thousand distinct groups per evaluation.
 */
import { digamma, logGamma, minimise, minimiseSmooth } from '../numeric/index.js';

/** `bgnbd`: no dropout before the first repeat purchase (P(alive) = 1 when x = 0); `mbgnbd`: dropout may follow any purchase. */
export type PurchaseModelKind = 'bgnbd' | 'mbgnbd';

export interface PurchaseModelParameters {
  model: PurchaseModelKind;
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface PurchaseModel extends PurchaseModelParameters {
  logLikelihood: number;
  customers: number;
  /** Distinct (x, t_x, T) triples the likelihood was evaluated on. */
  groups: number;
  evaluations: number;
}

/** Calibration summary columns (weeks). */
export interface FrequencyRecency {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
}

/** Customers grouped by identical (x, t_x, T), with each column's distinct values. */
export interface GroupedSummary {
  xs: Float64Array;
  txs: Float64Array;
  Ts: Float64Array;
  gx: Int32Array;
  gtx: Int32Array;
  gT: Int32Array;
  count: Float64Array;
  customers: number;
}

export function groupSummary(summary: FrequencyRecency): GroupedSummary {
  const n = summary.x.length;
  const [xs, ix] = distinct(summary.x);
  const [txs, itx] = distinct(summary.tx);
  const [Ts, iT] = distinct(summary.T);
  const nTx = txs.length;
  const nT = Ts.length;
  const packable = xs.length * nTx * nT < 2 ** 52;
  const groupOf = new Map<number | string, number>();
  const gx: number[] = [];
  const gtx: number[] = [];
  const gT: number[] = [];
  const count: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = ix[i] as number;
    const b = itx[i] as number;
    const c = iT[i] as number;
    const key = packable ? (a * nTx + b) * nT + c : `${a},${b},${c}`;
    const g = groupOf.get(key);
    if (g === undefined) {
      groupOf.set(key, gx.length);
      gx.push(a);
      gtx.push(b);
      gT.push(c);
      count.push(1);
    } else count[g] = (count[g] as number) + 1;
  }
  return {
    xs,
    txs,
    Ts,
    gx: Int32Array.from(gx),
    gtx: Int32Array.from(gtx),
    gT: Int32Array.from(gT),
    count: Float64Array.from(count),
    customers: n,
  };
}

function distinct(values: Float64Array): [Float64Array, Int32Array] {
  const index = new Map<number, number>();
  const out: number[] = [];
  const at = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    let j = index.get(v);
    if (j === undefined) {
      j = out.length;
      index.set(v, j);
      out.push(v);
    }
    at[i] = j;
  }
  return [Float64Array.from(out), at];
}

/** Total log-likelihood of grouped customers under the given parameters. */
export function purchaseLogLikelihood(params: PurchaseModelParameters, g: GroupedSummary): number {
  return logLikelihoodAndGradient(params, g, null);
}

/**
 * The log-likelihood, and when `gradient` is given its derivatives with respect to (ln r, ln α, ln a, ln b).
 * With w the posterior weight of "dropped out after the last purchase" for a group:
 * ∂/∂r = ψ(r+x) − ψ(r) + ln α − (1−w) ln(α+T) − w ln(α+t_x), ∂/∂α = r/α − (r+x)((1−w)/(α+T) + w/(α+t_x)),
 * ∂/∂a = ψ(a+b) − ψ(a+b+x') + w/a, ∂/∂b = ψ(a+b) + ψ(b+x') − ψ(b) − ψ(a+b+x') − w/(b+x'−1+s), with x' = x + s and
 * s = 1 for MBG/NBD, 0 for BG/NBD.
 */
export function logLikelihoodAndGradient(
  params: PurchaseModelParameters,
  g: GroupedSummary,
  gradient: number[] | null,
): number {
  const { r, alpha, a, b } = params;
  const shift = params.model === 'mbgnbd' ? 1 : 0;
  const xs = g.xs;
  const nx = xs.length;
  const base = new Float64Array(nx);
  const dropout = new Float64Array(nx);
  const dropoutDenominator = new Float64Array(nx);
  const shared = -logGamma(r) + r * Math.log(alpha) + logGamma(a + b) - logGamma(b);
  const lnA = Math.log(a);
  for (let j = 0; j < nx; j++) {
    const x = xs[j] as number;
    base[j] = shared + logGamma(r + x) + logGamma(b + x + shift) - logGamma(a + b + x + shift);
    const denominator = b + x - 1 + shift;
    dropoutDenominator[j] = denominator;
    dropout[j] = shift === 1 || x > 0 ? lnA - Math.log(denominator) : -Infinity;
  }
  const Ts = g.Ts;
  const txs = g.txs;
  const lnT = new Float64Array(Ts.length);
  const invT = new Float64Array(Ts.length);
  for (let j = 0; j < Ts.length; j++) {
    lnT[j] = Math.log(alpha + (Ts[j] as number));
    invT[j] = 1 / (alpha + (Ts[j] as number));
  }
  const lnTx = new Float64Array(txs.length);
  const invTx = new Float64Array(txs.length);
  for (let j = 0; j < txs.length; j++) {
    lnTx[j] = Math.log(alpha + (txs[j] as number));
    invTx[j] = 1 / (alpha + (txs[j] as number));
  }
  const { gx, gtx, gT, count } = g;
  const groups = count.length;
  const want = gradient !== null;
  // Per distinct x: sums of count, count·w over its groups feed the x-only derivative terms.
  const countByX = new Float64Array(nx);
  const weightByX = new Float64Array(nx);
  let total = 0;
  let dr = 0;
  let dAlpha = 0;
  for (let i = 0; i < groups; i++) {
    const j = gx[i] as number;
    const c = count[i] as number;
    const rx = r + (xs[j] as number);
    const iT = gT[i] as number;
    const a3 = -rx * (lnT[iT] as number);
    const d = dropout[j] as number;
    let rest = a3;
    let w = 0;
    let itx = 0;
    if (d !== -Infinity) {
      itx = gtx[i] as number;
      const a4 = d - rx * (lnTx[itx] as number);
      if (a3 > a4) {
        const e = Math.exp(a4 - a3);
        rest = a3 + Math.log1p(e);
        w = e / (1 + e);
      } else {
        const e = Math.exp(a3 - a4);
        rest = a4 + Math.log1p(e);
        w = 1 / (1 + e);
      }
    }
    total += c * ((base[j] as number) + rest);
    if (want) {
      const v = 1 - w;
      const lnTerm = v * (lnT[iT] as number) + (w === 0 ? 0 : w * (lnTx[itx] as number));
      const invTerm = v * (invT[iT] as number) + (w === 0 ? 0 : w * (invTx[itx] as number));
      dr -= c * lnTerm;
      dAlpha -= c * rx * invTerm;
      countByX[j] = (countByX[j] as number) + c;
      weightByX[j] = (weightByX[j] as number) + c * w;
    }
  }
  if (gradient) {
    const psiR = digamma(r);
    const psiAB = digamma(a + b);
    const psiB = digamma(b);
    let da = 0;
    let db = 0;
    for (let j = 0; j < nx; j++) {
      const c = countByX[j] as number;
      if (c === 0) continue;
      const x = xs[j] as number;
      const psiABX = digamma(a + b + x + shift);
      dr += c * (digamma(r + x) - psiR + Math.log(alpha));
      dAlpha += (c * r) / alpha;
      const cw = weightByX[j] as number;
      da += c * (psiAB - psiABX) + cw / a;
      db +=
        c * (psiAB + digamma(b + x + shift) - psiB - psiABX) - (cw === 0 ? 0 : cw / (dropoutDenominator[j] as number));
    }
    gradient[0] = dr * r;
    gradient[1] = dAlpha * alpha;
    gradient[2] = da * a;
    gradient[3] = db * b;
  }
  return total;
}

/**
 * Fits BG/NBD (default) or MBG/NBD by maximum likelihood.
 *
 * @example
 * const model = fitPurchaseModel({ x, tx, T }); // { model: 'bgnbd', r, alpha, a, b, logLikelihood, … }
 */
export function fitPurchaseModel(
  summary: FrequencyRecency | GroupedSummary,
  options: { model?: PurchaseModelKind } = {},
): PurchaseModel {
  const model = options.model ?? 'bgnbd';
  const g = 'count' in summary ? summary : groupSummary(summary);
  if (g.customers === 0) throw new Error('cannot fit a purchase model on zero customers');
  const parameters = (p: number[]): PurchaseModelParameters => {
    const [lr = 0, lal = 0, la = 0, lb = 0] = p;
    return { model, r: Math.exp(lr), alpha: Math.exp(lal), a: Math.exp(la), b: Math.exp(lb) };
  };
  const meanT = g.Ts.reduce((s, v) => s + v, 0) / Math.max(1, g.Ts.length);
  let start = [0, Math.log(Math.max(1, meanT / 4)), 0, 0];
  // On a large base most iterations are spent far from the optimum: take them on every 20th group first.
  if (g.count.length > 50_000) {
    const every = (a: Int32Array): Int32Array => a.filter((_, i) => i % 20 === 0);
    const count = g.count.filter((_, i) => i % 20 === 0);
    const thin: GroupedSummary = {
      ...g,
      gx: every(g.gx),
      gtx: every(g.gtx),
      gT: every(g.gT),
      count,
      customers: count.reduce((s, c) => s + c, 0),
    };
    const rough = fitPurchaseModel(thin, { model });
    start = [Math.log(rough.r), Math.log(rough.alpha), Math.log(rough.a), Math.log(rough.b)];
  }
  let found = minimiseSmooth(
    (p, gradient) => {
      const value = -logLikelihoodAndGradient(parameters(p), g, gradient) / g.customers;
      for (let k = 0; k < 4; k++) gradient[k] = -(gradient[k] as number) / g.customers;
      return value;
    },
    start,
    { gradientTolerance: 1e-9 },
  );
  // A derivative-free polish for the rare line search that stalls on a flat ridge.
  if (found.converged === false) {
    const polish = minimise((p) => -purchaseLogLikelihood(parameters(p), g) / g.customers, found.point, {
      step: 0.01,
      tolerance: 1e-14,
      maxEvaluations: 400,
    });
    if (polish.value < found.value) found = { ...polish, evaluations: found.evaluations + polish.evaluations };
  }
  const [lr = 0, lal = 0, la = 0, lb = 0] = found.point;
  return {
    model,
    r: Math.exp(lr),
    alpha: Math.exp(lal),
    a: Math.exp(la),
    b: Math.exp(lb),
    logLikelihood: -found.value * g.customers,
    customers: g.customers,
    groups: g.count.length,
    evaluations: found.evaluations,
  };
}
