/**
 * L2-regularised logistic regression with scikit-learn's objective for `LogisticRegression(C=…)`:
 *
 *   ½‖w‖² + C Σᵢ [ln(1 + e^{zᵢ}) − yᵢ zᵢ],  zᵢ = xᵢ·w + b  (the intercept b is not penalised)
 *
 * minimised by Newton's method (iteratively reweighted least squares) with a backtracking step, which reaches the
 * exact optimum in a handful of iterations for the few dozen features a propensity model has.
 */
import type { Matrix } from '../kmeans/lloyd.js';

export interface LogisticOptions {
  /** Inverse regularisation strength, as scikit-learn's C (default 1). */
  c?: number;
  maxIterations?: number;
  /** Stop when the largest gradient component is below this (default 1e-10 × rows). */
  tolerance?: number;
}

export interface LogisticModel {
  coefficients: number[];
  intercept: number;
  iterations: number;
  converged: boolean;
}

function logOnePlusExp(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * @example
 * const model = fitLogistic({ values, rows: n, features: 3 }, outcomes, { c: 1 }); // { coefficients: [...], intercept }
 * predictLogistic(model, matrix); // Float64Array of probabilities
 */
export function fitLogistic(matrix: Matrix, outcomes: ArrayLike<number>, options: LogisticOptions = {}): LogisticModel {
  const { values: X, rows: n, features: d } = matrix;
  if (n === 0) throw new Error('logistic regression needs at least one row');
  const C = options.c ?? 1;
  const p = d + 1;
  const beta = new Float64Array(p);
  const tolerance = options.tolerance ?? 1e-10 * Math.max(1, n);
  const maxIterations = options.maxIterations ?? 100;
  const objective = (b: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let z = b[d] as number;
      for (let j = 0; j < d; j++) z += (X[i * d + j] as number) * (b[j] as number);
      loss += logOnePlusExp(z) - (outcomes[i] as number) * z;
    }
    let penalty = 0;
    for (let j = 0; j < d; j++) penalty += (b[j] as number) ** 2;
    return 0.5 * penalty + C * loss;
  };
  let value = objective(beta);
  let iterations = 0;
  let converged = false;
  const gradient = new Float64Array(p);
  const hessian = new Float64Array(p * p);
  const row = new Float64Array(p);
  for (; iterations < maxIterations; iterations++) {
    gradient.fill(0);
    hessian.fill(0);
    for (let i = 0; i < n; i++) {
      let z = beta[d] as number;
      for (let j = 0; j < d; j++) {
        row[j] = X[i * d + j] as number;
        z += (row[j] as number) * (beta[j] as number);
      }
      row[d] = 1;
      const q = sigmoid(z);
      const residual = C * (q - (outcomes[i] as number));
      const weight = C * q * (1 - q);
      for (let a = 0; a < p; a++) {
        gradient[a] = (gradient[a] as number) + residual * (row[a] as number);
        const wa = weight * (row[a] as number);
        for (let b = a; b < p; b++) hessian[a * p + b] = (hessian[a * p + b] as number) + wa * (row[b] as number);
      }
    }
    for (let j = 0; j < d; j++) {
      gradient[j] = (gradient[j] as number) + (beta[j] as number);
      hessian[j * p + j] = (hessian[j * p + j] as number) + 1;
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hessian[a * p + b] = hessian[b * p + a] as number;
    let largest = 0;
    for (const g of gradient) largest = Math.max(largest, Math.abs(g));
    if (largest < tolerance) {
      converged = true;
      break;
    }
    const step = solve(hessian, gradient, p);
    let t = 1;
    const trial = new Float64Array(p);
    for (;;) {
      for (let a = 0; a < p; a++) trial[a] = (beta[a] as number) - t * (step[a] as number);
      const next = objective(trial);
      if (next <= value || t < 1e-10) {
        beta.set(trial);
        value = next;
        break;
      }
      t /= 2;
    }
  }
  return { coefficients: Array.from(beta.subarray(0, d)), intercept: beta[d] as number, iterations, converged };
}

/** Solves H x = g for a symmetric positive-definite H (Cholesky). */
function solve(H: Float64Array, g: Float64Array, p: number): Float64Array {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++)
    for (let j = 0; j <= i; j++) {
      let s = H[i * p + j] as number;
      for (let k = 0; k < j; k++) s -= (L[i * p + k] as number) * (L[j * p + k] as number);
      L[i * p + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / (L[j * p + j] as number);
    }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = g[i] as number;
    for (let k = 0; k < i; k++) s -= (L[i * p + k] as number) * (y[k] as number);
    y[i] = s / (L[i * p + i] as number);
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < p; k++) s -= (L[k * p + i] as number) * (x[k] as number);
    x[i] = s / (L[i * p + i] as number);
  }
  return x;
}

/** Probabilities of the outcome for each row. */
export function predictLogistic(
  model: Pick<LogisticModel, 'coefficients' | 'intercept'>,
  matrix: Matrix,
): Float64Array {
  const { values: X, rows: n, features: d } = matrix;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = model.intercept;
    for (let j = 0; j < d; j++) z += (X[i * d + j] as number) * (model.coefficients[j] as number);
    out[i] = sigmoid(z);
  }
  return out;
}
