/** Special functions the likelihoods need, accurate to about 1e-14 relative for positive arguments. */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (reflection below 0.5; Stirling's series from 10, where it is exact to rounding). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  if (x >= STIRLING_FROM) return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + stirlingCorrection(x);
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < 9; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** From here on Stirling's series (to its z⁻¹³ term) is exact to double precision. */
const STIRLING_FROM = 10;

/**
 * ln Γ(z) − ((z − ½) ln z − z + ½ ln 2π), the remainder of Stirling's formula: about 1/(12z), small for large z.
 * Differences of ln Γ at large arguments are taken through it so that nothing large cancels.
 */
export function stirlingCorrection(z: number): number {
  if (z < STIRLING_FROM) return logGamma(z) - ((z - 0.5) * Math.log(z) - z + HALF_LOG_2PI);
  const w = 1 / (z * z);
  return (1 / 12 - w * (1 / 360 - w * (1 / 1260 - w * (1 / 1680 - w * (1 / 1188 - w * (691 / 360360 - w / 156)))))) / z;
}

/** The derivative of {@link stirlingCorrection}: ψ(z) − ln z + 1/(2z). */
export function stirlingCorrectionDerivative(z: number): number {
  if (z < STIRLING_FROM) return digamma(z) - Math.log(z) + 0.5 / z;
  const w = 1 / (z * z);
  return -w * (1 / 12 - w * (1 / 120 - w * (1 / 252 - w * (1 / 240 - w * (1 / 132 - (w * 691) / 32760)))));
}

/**
 * ln Γ(q + a) − ln Γ(q) − a ln q, computed without cancellation for any q > 0 and a > 0 (it tends to 0 as q → ∞),
 * with its derivatives in a and q when asked.
 *
 * @example
 * logGammaRatioExcess(2.8e197, 3); // ≈ 3 / 2.8e197 (the naive difference of ln Γ would be noise)
 */
export function logGammaRatioExcess(q: number, a: number, derivatives?: { da: number; dq: number }): number {
  const t = a / q;
  const l = Math.log1p(t);
  if (derivatives) {
    derivatives.da = l - 0.5 / (q + a) + stirlingCorrectionDerivative(q + a);
    derivatives.dq =
      q < STIRLING_FROM
        ? digamma(q + a) - digamma(q) - t
        : l - t + (0.5 * t) / (q + a) + stirlingCorrectionDerivative(q + a) - stirlingCorrectionDerivative(q);
  }
  return (q + a - 0.5) * l - a + stirlingCorrection(q + a) - stirlingCorrection(q);
}

/** ln B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * Gauss hypergeometric 2F1(a, b; c; z) by its series, for 0 ≤ z < 1 and c > 0 (a and b may be negative). The series
 * is accurate where its terms do not grow first, i.e. where c − a − b is not far below 0: callers transform to that
 * form (see the BG/NBD expectations). NaN if it has not converged after a million terms.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 0; k < 1_000_000; k++) {
    term *= (((a + k) * (b + k)) / ((c + k) * (k + 1))) * z;
    sum += term;
    if (Math.abs(term) <= 1e-16 * Math.abs(sum)) return sum;
  }
  return NaN;
}

/** ψ(x), the derivative of ln Γ, for x > 0. */
export function digamma(x: number): number {
  let result = 0;
  while (x < 10) {
    result -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  return result + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132)))));
}
