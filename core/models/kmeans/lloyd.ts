/**
 * k-means on a row-major Float64Array (n rows × d features), with scikit-learn's semantics: greedy k-means++
 * seeding (2 + ⌊ln k⌋ local trials), a tolerance relative to the mean feature variance, convergence on unchanged
 * labels or on the summed squared centre shift, empty clusters re-seeded at the points farthest from their centre,
 * and the same iteration count. Assignment uses Hamerly's bounds, which skip distance computations without changing
 * the result of Lloyd's algorithm. From rows × k = 1,000,000 the row loops run on two threads (see threads.ts); every sum is
 * taken per block of rows in a fixed order, so the result is the same on one thread or two.
 */
import { seededRandom, type Random } from '../numeric/index.js';
import { BLOCK_ROWS, SUM_ROWS, type AssignJob } from './kernels.js';
import { defaultThreads, openThreads, type KMeansThreads } from './threads.js';

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
  /**
   * Threads for the row loops: a count, or threads already open (shared by several fits). Default: 2 from rows × k
   * = 1,000,000, else 1. The result does not depend on it.
   */
  threads?: number | KMeansThreads;
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
  const owned = typeof options.threads !== 'object';
  const threads =
    typeof options.threads === 'object' ? options.threads : openThreads(options.threads ?? defaultThreads(rows, k));
  try {
    const shared = shareMatrix(matrix, threads);
    const tolerance = (options.tolerance ?? 1e-4) * meanVariance(shared, threads);
    const maxIterations = options.maxIterations ?? 300;
    if (options.init) return lloyd(shared, { centres: options.init }, k, maxIterations, tolerance, threads);
    const rng = seededRandom(options.seed ?? 0);
    const nInit = options.nInit ?? 10;
    let best: KMeansResult | null = null;
    for (let run = 0; run < nInit; run++) {
      const result = lloyd(shared, seedCentres(shared, k, rng, threads), k, maxIterations, tolerance, threads);
      if (!best || result.inertia < best.inertia) best = result;
    }
    return best as KMeansResult;
  } finally {
    if (owned) threads.close();
  }
}

/** The matrix in memory the threads share (as it is when it already is, or with one thread). */
export function shareMatrix(matrix: Matrix, threads: KMeansThreads): Matrix {
  if (threads.threads === 1 || matrix.values.buffer instanceof SharedArrayBuffer) return matrix;
  const values = threads.floats(matrix.values.length);
  values.set(matrix.values);
  return { values, rows: matrix.rows, features: matrix.features };
}

/**
 * The mean of the features' variances: one pass for the means, one for the variances, each summed per block of rows
 * (on every thread) and the blocks added in order.
 */
export function meanVariance(matrix: Matrix, threads: KMeansThreads = openThreads(1)): number {
  const { values, rows: n, features: d } = matrix;
  const blocks = Math.ceil(n / BLOCK_ROWS);
  const blockMoments = threads.floats(blocks * d);
  let mean: Float64Array | null = null;
  const moments = new Float64Array(d);
  for (let pass = 0; pass < 2; pass++) {
    threads.run({ op: 'moments', values, d, n, mean, blockMoments });
    moments.fill(0);
    for (let b = 0; b < blocks; b++)
      for (let j = 0; j < d; j++) moments[j] = (moments[j] as number) + (blockMoments[b * d + j] as number);
    if (pass === 0) {
      mean = threads.floats(d);
      for (let j = 0; j < d; j++) mean[j] = (moments[j] as number) / n;
    }
  }
  let total = 0;
  for (let j = 0; j < d; j++) total += (moments[j] as number) / n;
  return total / d;
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

/**
 * Greedy k-means++ as scikit-learn does it: the best of 2 + ⌊ln k⌋ candidates drawn ∝ D² at each step.
 *
 * @example
 * const init = kMeansPlusPlus(matrix, 5, seededRandom(1));
 * kMeans(matrix, { k: 5, init });
 */
export function kMeansPlusPlus(
  matrix: Matrix,
  k: number,
  rng: Random,
  threads: KMeansThreads = openThreads(1),
): Float64Array {
  return seedCentres(matrix, k, rng, threads).centres;
}

/**
 * k-means++ seeding that also leaves what Hamerly's first iteration needs: each row's nearest seed, its distance, and
 * a lower bound on its distance to every other seed. The candidates of a step are drawn first (their draws depend only
 * on the distances so far), then priced in one pass over the rows, the same pass that adds the previous step's winner:
 * the winner's potential per chunk of rows, known from its pricing, tells which chunk each next draw falls in, and
 * only that chunk is walked to find the row. Rows that the triangle inequality puts no nearer to a centre or candidate skip its
 * distance. The centres are those of the plain algorithm.
 */
function seedCentres(matrix: Matrix, k: number, rng: Random, threads: KMeansThreads): Seeding {
  const { values, rows: n, features: d } = matrix;
  const centres = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const chunks = Math.ceil(n / SUM_ROWS);
  const closest = threads.floats(n);
  const upper = threads.floats(n);
  const lower = threads.floats(n);
  const labels = threads.ints(n);
  const candidates = threads.floats(trials * d);
  const trialReach = threads.floats(k * trials);
  const trialPotential = threads.floats(chunks * trials);
  const centre = threads.floats(d);
  const reach = threads.floats(k).fill(-1);
  const gap = threads.floats(k);
  const blockPotential = threads.floats(chunks);
  const rowTo = (row: number, c: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const e = (values[row * d + j] as number) - (centres[c * d + j] as number);
      s += e * e;
    }
    return s;
  };
  /** Makes row `row` centre `index`, to be added to the rows by the next pass. */
  const choose = (row: number, index: number): void => {
    for (let c = 0; c < index; c++) {
      const between = rowTo(row, c);
      reach[c] = between * PRUNE_SQUARED;
      gap[c] = Math.sqrt(between) * PRUNE;
    }
    centre.set(values.subarray(row * d, row * d + d));
    centres.set(centre, index * d);
  };
  /**
   * The first row at which the running potential reaches `target`: `potentials` are the chunks' potentials, in
   * which `pending` (a centre not yet added to the rows, or −1) already counts.
   */
  const locate = (target: number, potentials: (b: number) => number, pending: number): number => {
    let before = 0;
    let b = 0;
    for (; b < chunks - 1; b++) {
      const p = potentials(b);
      if (before + p >= target) break;
      before += p;
    }
    const to = Math.min(n, (b + 1) * SUM_ROWS);
    let running = before;
    for (let i = b * SUM_ROWS; i < to; i++) {
      const near = closest[i] as number;
      const s = pending >= 0 ? rowTo(i, pending) : Infinity;
      running += s < near ? s : near;
      if (running >= target) return i;
    }
    return to - 1;
  };
  const pass = (index: number, count: number): void =>
    threads.run({
      op: 'seed',
      values,
      d,
      n,
      closest,
      upper,
      lower,
      labels,
      centre,
      index,
      reach,
      gap,
      blockPotential,
      candidates,
      trials: count,
      trialReach,
      trialPotential,
    });
  choose(rng.int(n), 0);
  pass(0, 0);
  let potential = 0;
  for (let b = 0; b < chunks; b++) potential += blockPotential[b] as number;
  let pending = -1;
  let winner = 0;
  const rows = new Int32Array(trials);
  const totals = new Float64Array(trials);
  for (let c = 1; c < k; c++) {
    for (let t = 0; t < trials; t++) {
      const target = rng.next() * potential;
      const row =
        pending < 0
          ? locate(target, (b) => blockPotential[b] as number, -1)
          : locate(target, (b) => trialPotential[b * trials + winner] as number, pending);
      rows[t] = row;
      candidates.set(values.subarray(row * d, row * d + d), t * d);
      for (let o = 0; o < c; o++) trialReach[o * trials + t] = rowTo(row, o) * PRUNE_SQUARED;
    }
    pass(pending, trials);
    totals.fill(0);
    for (let b = 0; b < chunks; b++)
      for (let t = 0; t < trials; t++) totals[t] = (totals[t] as number) + (trialPotential[b * trials + t] as number);
    winner = 0;
    for (let t = 1; t < trials; t++) if ((totals[t] as number) < (totals[winner] as number)) winner = t;
    potential = totals[winner] as number;
    choose(rows[winner] as number, c);
    pending = c;
  }
  if (pending >= 0) pass(pending, 0);
  return { centres, labels, upper, lower };
}

/**
 * A row no farther than half the distance between two centres from the first is no nearer to the second. The
 * factors leave room for rounding, so a skipped distance is never one that would have counted.
 */
const PRUNE = 1 - 1e-9;
const PRUNE_SQUARED = 0.25 * PRUNE * PRUNE;

/** Initial centroids, and (after k-means++) each row's nearest one with Hamerly's bounds. */
interface Seeding {
  centres: Float64Array;
  labels?: Int32Array;
  upper?: Float64Array;
  lower?: Float64Array;
}

function lloyd(
  matrix: Matrix,
  start: Seeding,
  k: number,
  maxIterations: number,
  tolerance: number,
  threads: KMeansThreads,
): KMeansResult {
  const { values, rows: n, features: d } = matrix;
  const blocks = Math.ceil(n / BLOCK_ROWS);
  const chunks = Math.ceil(n / SUM_ROWS);
  const labels = start.labels ?? threads.ints(n).fill(-1);
  const upper = start.upper ?? threads.floats(n);
  const lower = start.lower ?? threads.floats(n);
  const shift = threads.floats(k);
  const half = threads.floats(k);
  const blockSums = threads.floats(chunks * k * d);
  const blockCounts = threads.floats(chunks * k);
  const blockInertia = threads.floats(blocks);
  const changedBy = threads.ints(threads.threads);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  let centres = threads.floats(k * d);
  centres.set(start.centres);
  let next = threads.floats(k * d);
  const job = (assign: boolean, full: boolean, recount: boolean, tally: 'sums' | 'inertia'): AssignJob => ({
    op: 'assign',
    values,
    d,
    n,
    k,
    centres,
    labels,
    upper,
    lower,
    shift,
    half,
    ...boundsOf(centres, k, d, shift, half),
    full,
    assign,
    recount,
    blockSums: tally === 'sums' ? blockSums : null,
    blockCounts: tally === 'sums' ? blockCounts : null,
    blockInertia: tally === 'inertia' ? blockInertia : null,
    changed: changedBy,
  });
  let iterations = 0;
  let strict = false;
  let first = start.labels === undefined;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    iterations = iteration + 1;
    threads.run(job(true, first, iteration === 0, 'sums'));
    first = false;
    let changed = 0;
    for (const c of changedBy) changed += c;
    sums.fill(0);
    counts.fill(0);
    for (let b = 0; b < chunks; b++) {
      for (let x = 0; x < k * d; x++) sums[x] = (sums[x] as number) + (blockSums[b * k * d + x] as number);
      for (let c = 0; c < k; c++) counts[c] = (counts[c] as number) + (blockCounts[b * k + c] as number);
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
  threads.run(job(!strict, false, false, 'inertia'));
  let inertia = 0;
  for (const v of blockInertia) inertia += v;
  return { k, centroids: centres.slice(), labels, inertia, iterations };
}

/** scikit-learn's rule: each empty cluster takes the point farthest from its (old) centre. */
function relocateEmpty(
  matrix: Matrix,
  centres: Float64Array,
  labels: Int32Array,
  sums: Float64Array,
  counts: Float64Array,
  k: number,
): void {
  const empty: number[] = [];
  for (let c = 0; c < k; c++) if (counts[c] === 0) empty.push(c);
  if (empty.length === 0) return;
  const { values, rows: n, features: d } = matrix;
  const distance = new Float64Array(n);
  for (let i = 0; i < n; i++) distance[i] = squaredDistance(values, i, centres, labels[i] as number, d);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (distance[b] as number) - (distance[a] as number),
  );
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
 * Hamerly's bounds for the next assignment: half the distance from each centre to its nearest other centre, and the
 * largest and second largest centre shifts (by which every lower bound shrinks).
 */
function boundsOf(
  centres: Float64Array,
  k: number,
  d: number,
  shift: Float64Array,
  half: Float64Array,
): { maxShift: number; maxShiftAt: number; secondShift: number } {
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
  return { maxShift, maxShiftAt, secondShift };
}
