/**
 * The row loops of k-means and the silhouette, cut into fixed blocks so that any number of threads computes the same
 * numbers: every sum is taken per block (or per fixed part), then combined in block order on the calling thread, so
 * one thread and two threads give identical centroids, labels and inertia. The worker threads run these very
 * functions (their source is sent to the worker as plain JavaScript), so nothing here may refer to an import or to
 * another module's binding; only to the other functions listed in {@link KERNEL_FUNCTIONS}.
 */

/** Rows per block: the unit a thread takes and the unit every sum over rows is taken on. */
export const BLOCK_ROWS = 16_384;

/** Parts the silhouette's pairs are split into (each with its own sums, added in order); two, for two cores. */
export const SILHOUETTE_PARTS = 2;

/**
 * Hamerly assignment of every row of the thread's blocks, then (optionally) each block's per-cluster sums and counts
 * or its inertia. `full` assigns without the bounds (the first iteration); `assign: false` only tallies.
 */
export interface AssignJob {
  op: 'assign';
  values: Float64Array;
  d: number;
  n: number;
  k: number;
  centres: Float64Array;
  labels: Int32Array;
  upper: Float64Array;
  lower: Float64Array;
  shift: Float64Array;
  half: Float64Array;
  maxShift: number;
  maxShiftAt: number;
  secondShift: number;
  full: boolean;
  assign: boolean;
  /** Per block k × d sums and k counts, or null. */
  blockSums: Float64Array | null;
  blockCounts: Float64Array | null;
  /** Per block sum of squared distances to the assigned centre, or null. */
  blockInertia: Float64Array | null;
  /** Labels changed, per thread. */
  changed: Int32Array;
}

/** k-means++: each row's squared distance to a candidate centre, capped by its distance so far, and per-block sums. */
export interface SeedJob {
  op: 'seed';
  values: Float64Array;
  d: number;
  n: number;
  candidate: number;
  closest: Float64Array;
  out: Float64Array;
  blockPotential: Float64Array;
}

/** Pairwise distances of the silhouette sample added to per-row, per-cluster sums; part p writes `sums[p]`. */
export interface SilhouetteJob {
  op: 'silhouette';
  points: Float64Array;
  m: number;
  d: number;
  /** Per row and labelling, the cluster's column in the sums (labelling offset + cluster). */
  local: Int32Array;
  labelings: number;
  width: number;
  /** Rows [bounds[p], bounds[p + 1]) are part p's first members. */
  bounds: Int32Array;
  sums: Float64Array[];
}

export type KernelJob = AssignJob | SeedJob | SilhouetteJob;

/** Called after each block of rows (a worker counts its progress with it, so a stalled worker can be told apart). */
export type Progress = () => void;

function noProgress(): void {}

/** Runs thread `thread`'s share (of `threads`) of a job. */
export function runKernel(job: KernelJob, thread: number, threads: number, progress: Progress = noProgress): void {
  if (job.op === 'assign') assignBlocks(job, thread, threads, progress);
  else if (job.op === 'seed') seedBlocks(job, thread, threads, progress);
  else silhouetteParts(job, thread, threads, progress);
}

export function assignBlocks(job: AssignJob, thread: number, threads: number, progress: Progress = noProgress): void {
  const { values, d, n, k, centres, labels, upper, lower, shift, half } = job;
  const blocks = Math.ceil(n / BLOCK_ROWS);
  let changed = 0;
  for (let b = thread; b < blocks; b += threads) {
    const from = b * BLOCK_ROWS;
    const to = Math.min(n, from + BLOCK_ROWS);
    if (job.assign) {
      for (let i = from; i < to; i++) {
        let a = labels[i] as number;
        const base = i * d;
        if (!job.full) {
          upper[i] = (upper[i] as number) + (shift[a] as number);
          lower[i] = (lower[i] as number) - (a === job.maxShiftAt ? job.secondShift : job.maxShift);
          const bound = Math.max(half[a] as number, lower[i] as number);
          if ((upper[i] as number) <= bound) continue;
          let s = 0;
          const cb = a * d;
          for (let j = 0; j < d; j++) {
            const e = (values[base + j] as number) - (centres[cb + j] as number);
            s += e * e;
          }
          upper[i] = Math.sqrt(s);
          if ((upper[i] as number) <= bound) continue;
        }
        let best = Infinity;
        let second = Infinity;
        let bestC = 0;
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
    }
    const sums = job.blockSums;
    const counts = job.blockCounts;
    if (sums && counts) {
      const sb = b * k * d;
      const cb = b * k;
      for (let x = 0; x < k * d; x++) sums[sb + x] = 0;
      for (let c = 0; c < k; c++) counts[cb + c] = 0;
      for (let i = from; i < to; i++) {
        const c = labels[i] as number;
        counts[cb + c] = (counts[cb + c] as number) + 1;
        const a = i * d;
        const o = sb + c * d;
        for (let j = 0; j < d; j++) sums[o + j] = (sums[o + j] as number) + (values[a + j] as number);
      }
    }
    const inertia = job.blockInertia;
    if (inertia) {
      let total = 0;
      for (let i = from; i < to; i++) {
        const a = i * d;
        const cb = (labels[i] as number) * d;
        let s = 0;
        for (let j = 0; j < d; j++) {
          const e = (values[a + j] as number) - (centres[cb + j] as number);
          s += e * e;
        }
        total += s;
      }
      inertia[b] = total;
    }
    progress();
  }
  job.changed[thread] = changed;
}

export function seedBlocks(job: SeedJob, thread: number, threads: number, progress: Progress = noProgress): void {
  const { values, d, n, closest, out, blockPotential } = job;
  const blocks = Math.ceil(n / BLOCK_ROWS);
  const cb = job.candidate * d;
  for (let b = thread; b < blocks; b += threads) {
    const to = Math.min(n, (b + 1) * BLOCK_ROWS);
    let potential = 0;
    for (let i = b * BLOCK_ROWS; i < to; i++) {
      let s = 0;
      const a = i * d;
      for (let j = 0; j < d; j++) {
        const e = (values[a + j] as number) - (values[cb + j] as number);
        s += e * e;
      }
      const m = Math.min(s, closest[i] as number);
      out[i] = m;
      potential += m;
    }
    blockPotential[b] = potential;
    progress();
  }
}

export function silhouetteParts(
  job: SilhouetteJob,
  thread: number,
  threads: number,
  progress: Progress = noProgress,
): void {
  const { points, m, d, local, labelings: L, width, bounds } = job;
  for (let p = thread; p < bounds.length - 1; p += threads) {
    const sums = job.sums[p] as Float64Array;
    for (let r = bounds[p] as number; r < (bounds[p + 1] as number); r++) {
      const rb = r * d;
      const rs = r * width;
      const rl = r * L;
      for (let o = r + 1; o < m; o++) {
        let q = 0;
        const ob = o * d;
        for (let j = 0; j < d; j++) {
          const e = (points[rb + j] as number) - (points[ob + j] as number);
          q += e * e;
        }
        const dist = Math.sqrt(q);
        const os = o * width;
        const ol = o * L;
        for (let l = 0; l < L; l++) {
          const x = rs + (local[ol + l] as number);
          const y = os + (local[rl + l] as number);
          sums[x] = (sums[x] as number) + dist;
          sums[y] = (sums[y] as number) + dist;
        }
      }
      if ((r & 63) === 63) progress();
    }
  }
}

/** The functions a worker thread is given, in an order where each is declared before it runs. */
export const KERNEL_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [
  noProgress,
  assignBlocks,
  seedBlocks,
  silhouetteParts,
  runKernel,
];
