/** A difference between two groups with its confidence interval. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
  confidence: number;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's is). */
export function studentCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** P(Z ≤ z) for the standard normal, through erfc(x) = Q(1/2, x²), the upper regularised incomplete gamma. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** erfc by the series of the lower incomplete gamma (small x) or its continued fraction (large x). */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  const a = 0.5;
  const x2 = x * x;
  const lnFront = -x2 + a * Math.log(x2) - lnGamma(a);
  if (x2 < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10_000; n++) {
      term *= x2 / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - sum * Math.exp(lnFront);
  }
  const tiny = 1e-300;
  let b = x2 + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return Math.exp(lnFront) * h;
}

/** The x where an increasing `cdf` reaches p, by bisection (to the last representable digit). */
function quantile(cdf: (x: number) => number, p: number): number {
  let lo = -1e6;
  let hi = 1e6;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function meanVariance(xs: readonly number[]): [number, number] {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return [mean, variance];
}

/**
 * Welch's t interval for mean(a) − mean(b): standard error √(s²a/na + s²b/nb), Welch–Satterthwaite degrees of
 * freedom. Null when a group has fewer than two values or both variances are zero.
 *
 * @example
 * welchInterval([3, 5, 4], [1, 2, 2, 1], 0.95); // { estimate: 2.5, low: ..., high: ..., confidence: 0.95 }
 */
export function welchInterval(a: readonly number[], b: readonly number[], confidence = 0.95): Interval | null {
  if (a.length < 2 || b.length < 2) return null;
  const [ma, va] = meanVariance(a);
  const [mb, vb] = meanVariance(b);
  const qa = va / a.length;
  const qb = vb / b.length;
  const se = Math.sqrt(qa + qb);
  if (se === 0) return null;
  const df = (qa + qb) ** 2 / (qa ** 2 / (a.length - 1) + qb ** 2 / (b.length - 1));
  const t = quantile((x) => studentCdf(x, df), 1 - (1 - confidence) / 2);
  const estimate = ma - mb;
  return { estimate, low: estimate - t * se, high: estimate + t * se, confidence };
}

/** Wilson's score interval for a proportion of x in n. */
function wilson(x: number, n: number, z: number): [number, number] {
  const p = x / n;
  const centre = p + (z * z) / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  const scale = 1 + (z * z) / n;
  return [(centre - spread) / scale, (centre + spread) / scale];
}

/**
 * Newcombe's hybrid score interval (his method 10) for the difference of two proportions xa/na − xb/nb, built from
 * each group's Wilson interval. Null when a group is empty.
 *
 * @example
 * newcombeInterval(30, 100, 45, 100, 0.95); // estimate -0.15
 */
export function newcombeInterval(xa: number, na: number, xb: number, nb: number, confidence = 0.95): Interval | null {
  if (na === 0 || nb === 0) return null;
  const z = quantile(normalCdf, 1 - (1 - confidence) / 2);
  const pa = xa / na;
  const pb = xb / nb;
  const [la, ua] = wilson(xa, na, z);
  const [lb, ub] = wilson(xb, nb, z);
  const estimate = pa - pb;
  return {
    estimate,
    low: estimate - Math.sqrt((pa - la) ** 2 + (ub - pb) ** 2),
    high: estimate + Math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2),
    confidence,
  };
}
