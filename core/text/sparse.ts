/**
 * Sparse rows (compressed sparse row) and the truncated SVD topics are found with: Halko, Martinsson & Tropp's
 * randomized range finder with power iterations, as scikit-learn's TruncatedSVD(algorithm='randomized') does. The
 * document-term matrix is never dense: every product walks its non-zeros.
 */
import { seededRandom } from '../models/numeric/index.js';

/** Rows of a sparse matrix: row i holds `columns[offsets[i]..offsets[i+1])` with their `values`. */
export interface SparseRows {
  rows: number;
  columns: number;
  offsets: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

export interface TruncatedSvd {
  /** Components × columns, row-major: the right singular vectors (each row a unit vector over the terms). */
  components: Float64Array;
  singularValues: Float64Array;
  dimensions: number;
}

export interface SvdOptions {
  dimensions: number;
  oversample?: number;
  powerIterations?: number;
  seed?: number;
}

/**
 * @example
 * const { components } = truncatedSvd(tfidf, { dimensions: 20, seed: 1 });
 */
export function truncatedSvd(a: SparseRows, options: SvdOptions): TruncatedSvd {
  const r = Math.min(options.dimensions, a.rows, a.columns);
  const l = Math.min(r + (options.oversample ?? 10), a.rows, a.columns);
  const rng = seededRandom(options.seed ?? 0);
  const omega = new Float64Array(a.columns * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  let q = orthonormalise(multiply(a, omega, l), a.rows, l);
  for (let it = 0; it < (options.powerIterations ?? 4); it++) {
    const z = orthonormalise(multiplyTransposed(a, q, l), a.columns, l);
    q = orthonormalise(multiply(a, z, l), a.rows, l);
  }
  // B = Qᵀ A (l × columns), held transposed; B Bᵀ = W Λ Wᵀ gives A's top singular values and right vectors Bᵀ W / σ.
  const bt = multiplyTransposed(a, q, l);
  const gram = new Float64Array(l * l);
  for (let j = 0; j < a.columns; j++)
    for (let p = 0; p < l; p++) {
      const x = bt[j * l + p]!;
      if (x === 0) continue;
      for (let s = p; s < l; s++) gram[p * l + s]! += x * bt[j * l + s]!;
    }
  for (let p = 0; p < l; p++) for (let s = 0; s < p; s++) gram[p * l + s] = gram[s * l + p]!;
  const { values, vectors } = symmetricEigen(gram, l);
  const components = new Float64Array(r * a.columns);
  const singularValues = new Float64Array(r);
  for (let c = 0; c < r; c++) {
    const sigma = Math.sqrt(Math.max(values[c]!, 0));
    singularValues[c] = sigma;
    if (sigma === 0) continue;
    for (let j = 0; j < a.columns; j++) {
      let s = 0;
      for (let p = 0; p < l; p++) s += bt[j * l + p]! * vectors[p * l + c]!;
      components[c * a.columns + j] = s / sigma;
    }
  }
  return { components, singularValues, dimensions: r };
}

/** A (rows × columns, sparse) times X (columns × width, dense row-major). */
function multiply(a: SparseRows, x: Float64Array, width: number): Float64Array {
  const out = new Float64Array(a.rows * width);
  for (let i = 0; i < a.rows; i++)
    for (let e = a.offsets[i]!; e < a.offsets[i + 1]!; e++) {
      const v = a.values[e]!;
      const base = a.indices[e]! * width;
      for (let p = 0; p < width; p++) out[i * width + p]! += v * x[base + p]!;
    }
  return out;
}

/** Aᵀ (columns × rows) times Y (rows × width, dense row-major). */
function multiplyTransposed(a: SparseRows, y: Float64Array, width: number): Float64Array {
  const out = new Float64Array(a.columns * width);
  for (let i = 0; i < a.rows; i++)
    for (let e = a.offsets[i]!; e < a.offsets[i + 1]!; e++) {
      const v = a.values[e]!;
      const base = a.indices[e]! * width;
      for (let p = 0; p < width; p++) out[base + p]! += v * y[i * width + p]!;
    }
  return out;
}

/** Modified Gram–Schmidt on the columns of a dense rows × width matrix, in place; a vanishing column becomes zero. */
function orthonormalise(m: Float64Array, rows: number, width: number): Float64Array {
  for (let c = 0; c < width; c++) {
    for (let prev = 0; prev < c; prev++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += m[i * width + c]! * m[i * width + prev]!;
      for (let i = 0; i < rows; i++) m[i * width + c]! -= dot * m[i * width + prev]!;
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += m[i * width + c]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < rows; i++) m[i * width + c] = norm > 1e-12 ? m[i * width + c]! / norm : 0;
  }
  return m;
}

/** Eigenvalues (descending) and eigenvectors (columns of `vectors`) of a small symmetric matrix, by cyclic Jacobi. */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let p = 0; p < d; p++) v[p * d + p] = 1;
  let scale = 0;
  for (let p = 0; p < d; p++) scale += a[p * d + p]! ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off <= 1e-22 * scale || off === 0) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => a[y * d + y]! - a[x * d + x]!);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((col, c) => {
    values[c] = a[col * d + col]!;
    for (let k = 0; k < d; k++) vectors[k * d + c] = v[k * d + col]!;
  });
  return { values, vectors };
}
