/**
 * Preparation of features for clustering: chosen columns, log1p for skewed money and counts, standardisation
 * (population standard deviation, as scikit-learn's StandardScaler), optional PCA. The fitted transformation is a
 * plain JSON-serialisable object, saved with the model so new contacts are scored exactly as the training base was.
 */
import type { Matrix } from '../kmeans/lloyd.js';
import { sharedFloats } from '../numeric/index.js';

export interface PreparationOptions {
  features: string[];
  /** Features transformed with ln(1 + x) before standardising (values below 0 are clamped to 0). */
  log1p?: string[];
  /** Default true. */
  standardise?: boolean;
  /** Keep this many principal components (after standardising). */
  components?: number;
}

export interface Preparation {
  features: string[];
  log1p: string[];
  means: number[];
  scales: number[];
  /** Principal axes (components × features, row-major) when PCA is on. */
  pca?: { axes: number[]; variance: number[] };
}

/** Columns of numbers by feature name. */
export type Columns = Record<string, Float64Array | number[]>;

/**
 * @example
 * const preparation = fitPreparation(columns, { features: ['recency', 'frequency', 'monetary'], log1p: ['frequency', 'monetary'] });
 * const matrix = applyPreparation(preparation, columns);
 */
export function fitPreparation(columns: Columns, options: PreparationOptions): Preparation {
  const log1p = options.log1p ?? [];
  for (const f of [...options.features, ...log1p])
    if (!(f in columns)) throw new Error(`no feature "${f}"; there are: ${Object.keys(columns).join(', ')}`);
  for (const f of log1p)
    if (!options.features.includes(f)) throw new Error(`--log1p names "${f}", which is not among the features`);
  const d = options.features.length;
  const raw = transformRaw({ features: options.features, log1p }, columns);
  const n = raw.rows;
  const means = new Array<number>(d).fill(0);
  const scales = new Array<number>(d).fill(1);
  if (options.standardise ?? true) {
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += raw.values[i * d + j] as number;
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += ((raw.values[i * d + j] as number) - m) ** 2;
      const sd = Math.sqrt(v / n);
      means[j] = m;
      scales[j] = sd > 0 ? sd : 1;
    }
  }
  const preparation: Preparation = { features: options.features.slice(), log1p: log1p.slice(), means, scales };
  if (options.components !== undefined) {
    const standard = scale(raw, means, scales);
    preparation.pca = principalAxes(standard, options.components);
  }
  return preparation;
}

function transformRaw(p: { features: string[]; log1p: string[] }, columns: Columns): Matrix {
  const d = p.features.length;
  const first = columns[p.features[0] as string];
  const n = first ? first.length : 0;
  const values = new Float64Array(n * d);
  p.features.forEach((f, j) => {
    const column = columns[f];
    if (!column) throw new Error(`no feature "${f}" in the rows to score`);
    const log = p.log1p.includes(f);
    for (let i = 0; i < n; i++) {
      const v = column[i] as number;
      values[i * d + j] = log ? Math.log1p(Math.max(0, v)) : v;
    }
  });
  return { values, rows: n, features: d };
}

function scale(m: Matrix, means: number[], scales: number[], shared = false): Matrix {
  const { rows: n, features: d } = m;
  const values = shared ? sharedFloats(n * d) : new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++)
      values[i * d + j] = ((m.values[i * d + j] as number) - (means[j] as number)) / (scales[j] as number);
  return { values, rows: n, features: d };
}

/**
 * Applies a fitted preparation to columns (training rows or new ones). The rows are in shared memory, so k-means
 * threads read them without a copy.
 */
export function applyPreparation(p: Preparation, columns: Columns): Matrix {
  const standard = scale(transformRaw(p, columns), p.means, p.scales, !p.pca);
  if (!p.pca) return standard;
  const { axes } = p.pca;
  const d = p.features.length;
  const c = axes.length / d;
  const n = standard.rows;
  const values = sharedFloats(n * c);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < c; a++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (standard.values[i * d + j] as number) * (axes[a * d + j] as number);
      values[i * c + a] = s;
    }
  return { values, rows: n, features: c };
}

/** Eigen-decomposition of the covariance (cyclic Jacobi); axes sorted by variance, largest loading positive. */
function principalAxes(m: Matrix, components: number): { axes: number[]; variance: number[] } {
  const { values, rows: n, features: d } = m;
  if (!(components >= 1 && components <= d))
    throw new Error(`PCA components must be between 1 and ${d}, got ${components}`);
  const a = new Float64Array(d * d);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < d; p++)
      for (let q = p; q < d; q++)
        a[p * d + q] = (a[p * d + q] as number) + (values[i * d + p] as number) * (values[i * d + q] as number);
  for (let p = 0; p < d; p++)
    for (let q = p; q < d; q++) {
      a[p * d + q] = (a[p * d + q] as number) / n;
      a[q * d + p] = a[p * d + q] as number;
    }
  const v = new Float64Array(d * d);
  for (let p = 0; p < d; p++) v[p * d + p] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += (a[p * d + q] as number) ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < d; p++)
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = ((a[q * d + q] as number) - (a[p * d + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < d; r++) {
          const arp = a[r * d + p] as number;
          const arq = a[r * d + q] as number;
          a[r * d + p] = c * arp - s * arq;
          a[r * d + q] = s * arp + c * arq;
        }
        for (let r = 0; r < d; r++) {
          const apr = a[p * d + r] as number;
          const aqr = a[q * d + r] as number;
          a[p * d + r] = c * apr - s * aqr;
          a[q * d + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < d; r++) {
          const vrp = v[r * d + p] as number;
          const vrq = v[r * d + q] as number;
          v[r * d + p] = c * vrp - s * vrq;
          v[r * d + q] = s * vrp + c * vrq;
        }
      }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort(
    (x, y) => (a[y * d + y] as number) - (a[x * d + x] as number),
  );
  const axes: number[] = [];
  const variance: number[] = [];
  for (const col of order.slice(0, components)) {
    const axis = Array.from({ length: d }, (_, r) => v[r * d + col] as number);
    let largest = 0;
    for (const x of axis) if (Math.abs(x) > Math.abs(largest)) largest = x;
    const sign = largest < 0 ? -1 : 1;
    axes.push(...axis.map((x) => x * sign));
    variance.push(a[col * d + col] as number);
  }
  return { axes, variance };
}
