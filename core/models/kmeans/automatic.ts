/**
 * Automatic choice of k: a sweep over a range (default 2–10) records inertia, the Calinski–Harabasz index and the
 * mean silhouette on a seeded sample, and chooses the k with the largest Calinski–Harabasz index (the ratio of
 * between-group to within-group variance, each per degree of freedom). On a generated suite of Gaussian groups
 * (2–10 groups of 5–50% of the rows, 3–12 features, true silhouette ≥ 0.5; `npm run bench -- kchoice`) it finds the
 * true k far more often than the best silhouette, which merges the two closest groups whenever that raises the mean
 * silhouette, or the elbow of the inertia curve, which a large early drop pulls to small k; both are still reported.
 * Each k of the sweep keeps the best of n_init k-means++ starts (10, as scikit-learn's KMeans(n_init=10)) and of warm
 * starts from the neighbouring k's best solutions (neighbours.ts). Above 20,000 rows the sweep runs on a seeded sample of 20,000 rows
 * with the same n_init, and the chosen k is refitted on every row from the sample's centroids. The silhouettes are
 * taken on a seeded sample of 4,000 of the sweep's rows (reported beside the choice; the choice does not use them).
 * From rows × the largest k = 1,000,000 the refit and the silhouettes share two threads, with the same result as one;
 * a sweep on fewer rows runs on the calling thread unless the caller gives threads.
 */
import { seededRandom } from '../numeric/index.js';
import { SILHOUETTE_PARTS } from './kernels.js';
import { kMeans, shareMatrix, type KMeansResult, type Matrix } from './lloyd.js';
import { improveByNeighbours } from './neighbours.js';
import { defaultThreads, openThreads, type KMeansThreads } from './threads.js';

export interface SweepPoint {
  k: number;
  inertia: number;
  silhouette: number;
  /**
   * (between-group sum of squares / (k − 1)) / (inertia / (n − k)) on the rows the sweep was fitted on; absent where
   * one k was fitted alone.
   */
  calinskiHarabasz?: number;
}

export interface KChoice {
  k: number;
  elbow: number;
  bestSilhouette: number;
  bestCalinskiHarabasz: number;
  reasons: string[];
}

export interface AutomaticKOptions {
  minK?: number;
  maxK?: number;
  seed?: number;
  nInit?: number;
  /** Rows of the seeded sample the silhouette is computed on (default 4,000). */
  silhouetteSample?: number;
  /** Above this many rows the sweep is fitted on a seeded sample of this size with `sweepInit` inits (default 20,000). */
  sweepSample?: number;
  /** Initialisations per k on the sample (default: `nInit`). */
  sweepInit?: number;
  /**
   * Threads for the fits and silhouettes: a count (default: 2 from rows × maxK = 1,000,000, else 1) or threads already open.
   * The result does not depend on it.
   */
  threads?: number | KMeansThreads;
}

export interface AutomaticKResult {
  sweep: SweepPoint[];
  choice: KChoice;
  model: KMeansResult;
}

/**
 * @example
 * const { choice, sweep, model } = automaticK(matrix, { seed: 1 });
 * console.log(choice.k, choice.reasons.join('\n'));
 */
export function automaticK(matrix: Matrix, options: AutomaticKOptions = {}): AutomaticKResult {
  const minK = options.minK ?? 2;
  const maxK = Math.min(options.maxK ?? 10, matrix.rows - 1);
  if (matrix.rows < 3)
    throw new Error(`automatic k needs at least 3 rows (k from 2 up to one less than the rows), got ${matrix.rows}`);
  if (minK < 2 || maxK < minK)
    throw new Error(`the k range must lie within 2..${matrix.rows - 1}, got ${minK}..${options.maxK ?? 10}`);
  const seed = options.seed ?? 0;
  const nInit = options.nInit ?? 10;
  const sweepSample = options.sweepSample ?? 20_000;
  const sampled = matrix.rows > sweepSample;
  const given = options.threads;
  const threads = typeof given === 'object' ? given : openThreads(given ?? defaultThreads(matrix.rows, maxK));
  try {
    const sample = sampled ? sampleRows(matrix, sweepSample, seed) : matrix;
    // A count left to the default is chosen per stage: a small sweep gains nothing from a second thread's hand-offs.
    const sweepThreads = given === undefined && defaultThreads(sample.rows, maxK) === 1 ? openThreads(1) : threads;
    const sweepRows = shareMatrix(sample, sweepThreads);
    const silhouetteRows = sampleIndices(sweepRows.rows, options.silhouetteSample ?? 4_000, seed + 1);
    const fits = new Map<number, KMeansResult>();
    const inits = sampled ? (options.sweepInit ?? nInit) : nInit;
    for (let k = minK; k <= maxK; k++)
      fits.set(k, kMeans(sweepRows, { k, nInit: inits, seed: seed + k, threads: sweepThreads }));
    improveByNeighbours(sweepRows, fits, seed, sweepThreads);
    const ks = [...fits.keys()];
    const scores = silhouettes(
      sweepRows,
      ks.map((k) => (fits.get(k) as KMeansResult).labels),
      ks,
      silhouetteRows,
      threads,
    );
    const total = totalSumOfSquares(sweepRows);
    const sweep: SweepPoint[] = ks.map((k, i) => {
      const inertia = (fits.get(k) as KMeansResult).inertia;
      return {
        k,
        inertia,
        silhouette: scores[i] as number,
        calinskiHarabasz: calinskiHarabasz(total, inertia, k, sweepRows.rows),
      };
    });
    const choice = chooseK(sweep);
    if (sampled)
      choice.reasons.push(
        `the sweep ran on a seeded sample of ${sweepSample.toLocaleString('en')} of ${matrix.rows.toLocaleString('en')} rows; k = ${choice.k} was refitted on every row from the sample's centroids`,
      );
    // The sample's centroids are an excellent start, so the refit on every row is one run from them.
    const model = sampled
      ? kMeans(shareMatrix(matrix, threads), {
          k: choice.k,
          init: (fits.get(choice.k) as KMeansResult).centroids,
          threads,
        })
      : (fits.get(choice.k) as KMeansResult);
    return { sweep, choice, model };
  } finally {
    if (threads !== given) threads.close();
  }
}

/** (B / (k − 1)) / (W / (n − k)) with B = total − W; infinite when W = 0 (every row on its centroid). */
export function calinskiHarabasz(total: number, inertia: number, k: number, rows: number): number {
  if (inertia <= 0) return Infinity;
  return (total - inertia) / (k - 1) / (inertia / Math.max(1, rows - k));
}

/** Sum of squared distances of the rows to their mean. */
export function totalSumOfSquares(matrix: Matrix): number {
  const { values, rows, features: d } = matrix;
  let total = 0;
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += values[i * d + j] as number;
    mean /= rows;
    for (let i = 0; i < rows; i++) {
      const e = (values[i * d + j] as number) - mean;
      total += e * e;
    }
  }
  return total;
}

/**
 * Chooses the k with the largest Calinski–Harabasz index; the elbow and the best silhouette are reported beside it.
 * A sweep without the index (older saved runs) falls back to the best silhouette.
 */
export function chooseK(sweep: SweepPoint[]): KChoice {
  const first = sweep[0] as SweepPoint;
  const last = sweep[sweep.length - 1] as SweepPoint;
  let elbow = first.k;
  let farthest = -Infinity;
  const spanK = last.k - first.k || 1;
  const spanI = first.inertia - last.inertia || 1;
  for (const p of sweep) {
    const x = (p.k - first.k) / spanK;
    const y = (first.inertia - p.inertia) / spanI;
    if (y - x > farthest + 1e-12) {
      farthest = y - x;
      elbow = p.k;
    }
  }
  let best = first;
  for (const p of sweep) if (p.silhouette > best.silhouette + 1e-12) best = p;
  let ch = first;
  for (const p of sweep) if ((p.calinskiHarabasz ?? NaN) > (ch.calinskiHarabasz ?? -Infinity)) ch = p;
  const index = ch.calinskiHarabasz;
  const reasons = [
    `elbow of the inertia curve at k = ${elbow} (inertia ${fmt((sweep.find((p) => p.k === elbow) as SweepPoint).inertia)})`,
    `best mean silhouette at k = ${best.k} (${best.silhouette.toFixed(3)})`,
  ];
  if (index === undefined || Number.isNaN(index)) {
    reasons.push(`chose k = ${best.k}: the best silhouette (no Calinski–Harabasz index in this sweep)`);
    return { k: best.k, elbow, bestSilhouette: best.k, bestCalinskiHarabasz: best.k, reasons };
  }
  reasons.push(`largest Calinski–Harabasz index at k = ${ch.k} (${fmt(index)})`);
  const agree = [ch.k === best.k ? 'the silhouette' : '', ch.k === elbow ? 'the elbow' : ''].filter(Boolean);
  reasons.push(
    `chose k = ${ch.k}: the largest Calinski–Harabasz index (between- to within-group variance)` +
      (agree.length > 0 ? `; ${agree.join(' and ')} agree${agree.length === 1 ? 's' : ''}` : '') +
      (ch.k !== best.k ? `; the silhouette's ${best.k} would merge or split groups that the index keeps apart` : ''),
  );
  return { k: ch.k, elbow, bestSilhouette: best.k, bestCalinskiHarabasz: ch.k, reasons };
}

function fmt(v: number): string {
  return v.toPrecision(6);
}

/** Mean silhouette of the given rows (scikit-learn's definition; a row alone in its cluster scores 0). */
export function silhouette(
  matrix: Matrix,
  labels: Int32Array,
  k: number,
  rows: Int32Array,
  threads: number | KMeansThreads = 1,
): number {
  return silhouettes(matrix, [labels], [k], rows, threads)[0] as number;
}

/**
 * Mean silhouettes of several labellings of the same rows at once: each pairwise distance is computed once and
 * added to every labelling's per-cluster sums, which makes a sweep over k cost little more than one k. The pairs are
 * split into two fixed parts (one per thread when there are two), added in order, so the result does not depend on
 * the threads.
 */
export function silhouettes(
  matrix: Matrix,
  labelings: Int32Array[],
  ks: number[],
  rows: Int32Array,
  threads: number | KMeansThreads = 1,
): number[] {
  const pool = typeof threads === 'object' ? threads : openThreads(threads);
  try {
    return silhouettesOn(pool, matrix, labelings, ks, rows);
  } finally {
    if (pool !== threads) pool.close();
  }
}

function silhouettesOn(
  threads: KMeansThreads,
  matrix: Matrix,
  labelings: Int32Array[],
  ks: number[],
  rows: Int32Array,
): number[] {
  const { values, features: d } = matrix;
  const m = rows.length;
  const L = labelings.length;
  const offsets: number[] = [];
  let width = 0;
  for (const k of ks) {
    offsets.push(width);
    width += k;
  }
  const local = threads.ints(m * L);
  const sizes = new Float64Array(width);
  for (let r = 0; r < m; r++)
    for (let l = 0; l < L; l++) {
      const c = (offsets[l] as number) + ((labelings[l] as Int32Array)[rows[r] as number] as number);
      local[r * L + l] = c;
      sizes[c] = (sizes[c] as number) + 1;
    }
  const points = threads.floats(m * d);
  for (let r = 0; r < m; r++) points.set(values.subarray((rows[r] as number) * d, (rows[r] as number) * d + d), r * d);
  const parts = Array.from({ length: SILHOUETTE_PARTS }, () => threads.floats(m * width));
  threads.run({
    op: 'silhouette',
    points,
    m,
    d,
    local,
    labelings: L,
    width,
    bounds: pairBounds(m, SILHOUETTE_PARTS),
    sums: parts,
  });
  const sums = parts[0] as Float64Array;
  for (const part of parts.slice(1))
    for (let x = 0; x < sums.length; x++) sums[x] = (sums[x] as number) + (part[x] as number);
  return ks.map((k, l) => {
    const off = offsets[l] as number;
    let total = 0;
    for (let r = 0; r < m; r++) {
      const own = local[r * L + l] as number;
      const ownSize = (sizes[own] as number) - 1;
      if (ownSize === 0) continue;
      const a = (sums[r * width + own] as number) / ownSize;
      let b = Infinity;
      for (let c = off; c < off + k; c++)
        if (c !== own && (sizes[c] as number) > 0)
          b = Math.min(b, (sums[r * width + c] as number) / (sizes[c] as number));
      if (Number.isFinite(b)) total += (b - a) / Math.max(a, b);
    }
    return total / m;
  });
}

/** First rows of `parts` parts of the pairs (r, o > r) of m rows, each with about the same number of pairs. */
function pairBounds(m: number, parts: number): Int32Array {
  const bounds = new Int32Array(parts + 1);
  const total = (m * (m - 1)) / 2;
  let done = 0;
  let part = 1;
  for (let r = 0; r < m && part < parts; r++) {
    done += m - 1 - r;
    if (done >= (total * part) / parts) bounds[part++] = r + 1;
  }
  for (; part <= parts; part++) bounds[part] = m;
  return bounds;
}

/** A seeded sample of row indices without replacement (all rows, in order, when there are few enough). */
export function sampleIndices(n: number, size: number, seed: number): Int32Array {
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = seededRandom(seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(n - i);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order.slice(0, size).sort();
}

function sampleRows(matrix: Matrix, size: number, seed: number): Matrix {
  const idx = sampleIndices(matrix.rows, size, seed);
  const d = matrix.features;
  const values = new Float64Array(idx.length * d);
  idx.forEach((row, i) => values.set(matrix.values.subarray(row * d, row * d + d), i * d));
  return { values, rows: idx.length, features: d };
}
