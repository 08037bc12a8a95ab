/**
 * k-means on a row-major Float64Array (n rows × d features), with scikit-learn's semantics: greedy k-means++
 * seeding (2 + ⌊ln k⌋ local trials), a tolerance relative to the mean feature variance, convergence on unchanged
 * labels or on the summed squared centre shift, empty clusters re-seeded at the points farthest from their centre,
 * and the same iteration count. Assignment uses Hamerly's bounds, which skip distance computations without changing
 * the result of Lloyd's algorithm.
 */
import { seededRandom, type Random } from '../numeric/index.js';

/** Rows to cluster: `values[i * features + j]`. */
export interface Matrix {
  values: Float64Array;
  rows: number;
  features: number;
}

export interface KMeansOptions {
  k: number;
  /** Initialisations; the run with the lowest inertia is kept (default 10). */
  nInit?: number;
  maxIterations?: number;
  /** Relative tolerance, multiplied by the mean feature variance (default 1e-4). */
  tolerance?: number;
  seed?: number;
  /** Initial centroids (k × d, row-major); implies one initialisation. */
  init?: Float64Array;
}

export interface KMeansResult {
  k: number;
  centroids: Float64Array;
  labels: Int32Array;
  /** Sum of squared distances of rows to their centroid. */
  inertia: number;
  iterations: number;
}

/**
 * @example
 * const result = kMeans({ values, rows: n, features: 3 }, { k: 5, seed: 1 });
 */
export function kMeans(matrix: Matrix, options: KMeansOptions): KMeansResult {
  const { rows } = matrix;
  const k = options.k;
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive whole number, got ${k}`);
  if (rows < k) throw new Error(`k-means needs at least k = ${k} rows, got ${rows}`);
  const tolerance = (options.tolerance ?? 1e-4) * meanVariance(matrix);
  const maxIterations = options.maxIterations ?? 300;
  if (options.init) return lloyd(matrix, options.init.slice(), k, maxIterations, tolerance);
  const rng = seededRandom(options.seed ?? 0);
  const nInit = options.nInit ?? 10;
  let best: KMeansResult | null = null;
  for (let run = 0; run < nInit; run++) {
    const result = lloyd(matrix, kMeansPlusPlus(matrix, k, rng), k, maxIterations, tolerance);
    if (!best || result.inertia < best.inertia) best = result;
  }
  return best as KMeansResult;
}

export function meanVariance(matrix: Matrix): number {
  const { values, rows, features } = matrix;
  let total = 0;
  for (let j = 0; j < features; j++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += values[i * features + j] as number;
    mean /= rows;
    let v = 0;
    for (let i = 0; i < rows; i++) {
      const e = (values[i * features + j] as number) - mean;
      v += e * e;
    }
    total += v / rows;
  }
  return total / features;
}

function squaredDistance(values: Float64Array, row: number, centres: Float64Array, c: number, d: number): number {
  let s = 0;
  const a = row * d;
  const b = c * d;
  for (let j = 0; j < d; j++) {
    const e = (values[a + j] as number) - (centres[b + j] as number);
    s += e * e;
  }
  return s;
}

/** Greedy k-means++ as scikit-learn does it: the best of 2 + ⌊ln k⌋ candidates drawn ∝ D² at each step. */
export function kMeansPlusPlus(matrix: Matrix, k: number, rng: Random): Float64Array {
  const { values, rows: n, features: d } = matrix;
  const centres = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(n);
  centres.set(values.subarray(first * d, first * d + d), 0);
  let closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) potential += closest[i] = squaredDistance(values, i, centres, 0, d);
  const cumulative = new Float64Array(n);
  let candidateBest = new Float64Array(n);
  let candidateTry = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let running = 0;
    for (let i = 0; i < n; i++) cumulative[i] = running += closest[i] as number;
    let bestPotential = Infinity;
    let bestRow = 0;
    for (let t = 0; t < trials; t++) {
      const target = rng.next() * potential;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] as number) < target) lo = mid + 1;
        else hi = mid;
      }
      const row = lo;
      let pot = 0;
      const base = row * d;
      for (let i = 0; i < n; i++) {
        let s = 0;
        const a = i * d;
        for (let j = 0; j < d; j++) {
          const e = (values[a + j] as number) - (values[base + j] as number);
          s += e * e;
        }
        const m = Math.min(s, closest[i] as number);
        candidateTry[i] = m;
        pot += m;
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestRow = row;
        [candidateBest, candidateTry] = [candidateTry, candidateBest];
      }
    }
    centres.set(values.subarray(bestRow * d, bestRow * d + d), c * d);
    [closest, candidateBest] = [candidateBest, closest];
    potential = bestPotential;
  }
  return centres;
}

function lloyd(matrix: Matrix, centres: Float64Array<ArrayBufferLike>, k: number, maxIterations: number, tolerance: number): KMeansResult {
  const { values, rows: n, features: d } = matrix;
  const labels = new Int32Array(n).fill(-1);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const shift = new Float64Array(k);
  const half = new Float64Array(k);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  let next: Float64Array<ArrayBufferLike> = new Float64Array(k * d);
  let iterations = 0;
  let strict = false;
  let first = true;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    iterations = iteration + 1;
    const changed = assign(matrix, centres, k, labels, upper, lower, shift, half, first);
    first = false;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i] as number;
      counts[c] = (counts[c] as number) + 1;
      const a = i * d;
      const b = c * d;
      for (let j = 0; j < d; j++) sums[b + j] = (sums[b + j] as number) + (values[a + j] as number);
    }
    relocateEmpty(matrix, centres, labels, sums, counts, k);
    let shiftTotal = 0;
    for (let c = 0; c < k; c++) {
      const b = c * d;
      let s = 0;
      const count = counts[c] as number;
      for (let j = 0; j < d; j++) {
        const v = count > 0 ? (sums[b + j] as number) / count : (centres[b + j] as number);
        next[b + j] = v;
        const e = v - (centres[b + j] as number);
        s += e * e;
      }
      shift[c] = Math.sqrt(s);
      shiftTotal += s;
    }
    const previous = centres;
    centres = next;
    next = previous;
    if (iteration > 0 && changed === 0) {
      strict = true;
      break;
    }
    if (shiftTotal <= tolerance) break;
  }
  if (!strict) assign(matrix, centres, k, labels, upper, lower, shift, half, false);
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += squaredDistance(values, i, centres, labels[i] as number, d);
  return { k, centroids: centres, labels, inertia, iterations };
}

/** scikit-learn's rule: each empty cluster takes the point farthest from its (old) centre. */
function relocateEmpty(matrix: Matrix, centres: Float64Array, labels: Int32Array, sums: Float64Array, counts: Float64Array, k: number): void {
  const empty: number[] = [];
  for (let c = 0; c < k; c++) if (counts[c] === 0) empty.push(c);
  if (empty.length === 0) return;
  const { values, rows: n, features: d } = matrix;
  const distance = new Float64Array(n);
  for (let i = 0; i < n; i++) distance[i] = squaredDistance(values, i, centres, labels[i] as number, d);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (distance[b] as number) - (distance[a] as number));
  empty.forEach((c, e) => {
    const row = order[e] as number;
    const old = labels[row] as number;
    for (let j = 0; j < d; j++) {
      const v = values[row * d + j] as number;
      sums[old * d + j] = (sums[old * d + j] as number) - v;
      sums[c * d + j] = v;
    }
    counts[old] = (counts[old] as number) - 1;
    counts[c] = 1;
  });
}

/**
 * Hamerly assignment: `upper` bounds the distance to the assigned centre, `lower` the distance to the second
 * closest; a row is rescanned only when the bounds cannot prove its label. Returns how many labels changed.
 */
function assign(
  matrix: Matrix,
  centres: Float64Array,
  k: number,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
  shift: Float64Array,
  half: Float64Array,
  full: boolean,
): number {
  return assignRange(matrix.values, matrix.features, 0, matrix.rows, centres, k, labels, upper, lower, shift, half, full);
}

export function assignRange(
  values: Float64Array,
  d: number,
  from: number,
  to: number,
  centres: Float64Array,
  k: number,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
  shift: Float64Array,
  half: Float64Array,
  full: boolean,
): number {
  let maxShift = 0;
  let maxShiftAt = -1;
  let secondShift = 0;
  for (let c = 0; c < k; c++) {
    const s = shift[c] as number;
    if (s > maxShift) {
      secondShift = maxShift;
      maxShift = s;
      maxShiftAt = c;
    } else if (s > secondShift) secondShift = s;
  }
  for (let c = 0; c < k; c++) {
    let m = Infinity;
    for (let o = 0; o < k; o++) {
      if (o === c) continue;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const e = (centres[c * d + j] as number) - (centres[o * d + j] as number);
        s += e * e;
      }
      if (s < m) m = s;
    }
    half[c] = 0.5 * Math.sqrt(m);
  }
  let changed = 0;
  for (let i = from; i < to; i++) {
    let a = labels[i] as number;
    if (!full) {
      upper[i] = (upper[i] as number) + (shift[a] as number);
      lower[i] = (lower[i] as number) - (a === maxShiftAt ? secondShift : maxShift);
      const bound = Math.max(half[a] as number, lower[i] as number);
      if ((upper[i] as number) <= bound) continue;
      upper[i] = Math.sqrt(squaredDistance(values, i, centres, a, d));
      if ((upper[i] as number) <= bound) continue;
    }
    let best = Infinity;
    let second = Infinity;
    let bestC = 0;
    const base = i * d;
    for (let c = 0; c < k; c++) {
      let s = 0;
      const cb = c * d;
      for (let j = 0; j < d; j++) {
        const e = (values[base + j] as number) - (centres[cb + j] as number);
        s += e * e;
      }
      if (s < best) {
        second = best;
        best = s;
        bestC = c;
      } else if (s < second) second = s;
    }
    if (bestC !== a) {
      changed++;
      a = bestC;
      labels[i] = a;
    }
    upper[i] = Math.sqrt(best);
    lower[i] = Math.sqrt(second);
  }
  return changed;
}
