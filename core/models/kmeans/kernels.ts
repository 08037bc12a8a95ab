/**
 * The row loops of k-means and the silhouette, cut into fixed blocks so that any number of threads computes the same
 * numbers: every sum is taken per block (or per fixed part), then combined in block order on the calling thread, so
 * one thread and two threads give identical centroids, labels and inertia. The threads take the k-means blocks as they
 * come free (a shared counter), so a thread that the machine's load holds back costs the others little waiting. The worker threads run these very
 * functions (their source is sent to the worker as plain JavaScript), so nothing here may refer to an import or to
 * another module's binding; only to the other functions listed in {@link KERNEL_FUNCTIONS}.
 */

/** Rows per block: the unit a thread takes and the unit every sum over rows is taken on. */
export const BLOCK_ROWS = 4_096;

/**
 * Rows per chunk of the per-cluster sums (a block holds 4): an iteration recomputes the sums of the chunks where a
 * label changed and keeps the others, which are the same numbers.
 */
export const SUM_ROWS = 1_024;

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
  /** Recompute every chunk's sums (the labels are new); otherwise only those of chunks where a label changed. */
  recount: boolean;
  /** Per chunk of {@link SUM_ROWS} rows, k × d sums and k counts, or null. */
  blockSums: Float64Array | null;
  blockCounts: Float64Array | null;
  /** Per block sum of squared distances to the assigned centre, or null. */
  blockInertia: Float64Array | null;
  /** Labels changed, per thread. */
  changed: Int32Array;
  /** The next block to take (shared by the threads, which take blocks as they come free); absent on one thread. */
  next?: Int32Array;
}

/**
 * k-means++, one pass over the rows that first adds centre `index` (unless it is −1) and then prices the `trials`
 * candidates of the next step (unless there are none). Adding a centre updates each row's nearest centre, its squared
 * distance and distance (`closest`, `upper`) and a lower bound on its distance to every other centre (`lower`), which
 * Hamerly's first iteration then uses instead of a full assignment; adding centre 0 sets them, whatever they held. Pricing a candidate sums, per block, the potential it would leave (each row's squared distance to its
 * nearest centre, the candidate included). A row whose nearest centre is at least twice as far from a centre or
 * candidate as the row is from it cannot come nearer to it (triangle inequality), so that distance is not computed;
 * the sums are the same as without the shortcut.
 */
export interface SeedJob {
  op: 'seed';
  values: Float64Array;
  d: number;
  n: number;
  closest: Float64Array;
  upper: Float64Array;
  lower: Float64Array;
  labels: Int32Array;
  /** The centre to add (its coordinates and index), or index −1. */
  centre: Float64Array;
  index: number;
  /** reach[c]: a row of centre c with `closest` at most this is no nearer to the added centre. */
  reach: Float64Array;
  /** gap[c]: a lower bound on the distance from centre c to the added one. */
  gap: Float64Array;
  /** Per chunk of {@link SUM_ROWS} rows, the potential once the centre is added. */
  blockPotential: Float64Array;
  /** The candidates' coordinates, trials × d (trials may be 0). */
  candidates: Float64Array;
  trials: number;
  /** trialReach[c * trials + t]: a row of centre c with `closest` at most this is no nearer to candidate t. */
  trialReach: Float64Array;
  /** Per chunk b of {@link SUM_ROWS} rows and candidate t: trialPotential[b * trials + t]. */
  trialPotential: Float64Array;
  next?: Int32Array;
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

/**
 * Per block of rows, each feature's sum (`mean` null) or its sum of squared deviations from `mean` (the two passes of
 * the features' variances), added per chunk of {@link SUM_ROWS} rows.
 */
export interface MomentsJob {
  op: 'moments';
  values: Float64Array;
  d: number;
  n: number;
  mean: Float64Array | null;
  /** blockMoments[b * d + j]: block b's sum for feature j. */
  blockMoments: Float64Array;
  next?: Int32Array;
}

export type KernelJob = AssignJob | SeedJob | SilhouetteJob | MomentsJob;

/** Called after each block of rows (a worker counts its progress with it, so a stalled worker can be told apart). */
export type Progress = () => void;

function noProgress(): void {}

/** Runs thread `thread`'s share (of `threads`) of a job. */
export function runKernel(job: KernelJob, thread: number, threads: number, progress: Progress = noProgress): void {
  if (job.op === 'assign') assignBlocks(job, thread, threads, progress);
  else if (job.op === 'seed') seedBlocks(job, thread, threads, progress);
  else if (job.op === 'moments') momentBlocks(job, progress);
  else silhouetteParts(job, thread, threads, progress);
}

export function assignBlocks(job: AssignJob, thread: number, threads: number, progress: Progress = noProgress): void {
  const { values, d, n, k, centres, labels, upper, lower, shift, half } = job;
  const blocks = Math.ceil(n / BLOCK_ROWS);
  const every = new Int32Array(k);
  for (let c = 0; c < k; c++) every[c] = c;
  const distance = new Float64Array(k);
  const dirty = new Uint8Array(BLOCK_ROWS / SUM_ROWS);
  let changed = 0;
  const next = job.next ?? new Int32Array(1);
  for (let b = Atomics.add(next, 0, 1); b < blocks; b = Atomics.add(next, 0, 1)) {
    const from = b * BLOCK_ROWS;
    const to = Math.min(n, from + BLOCK_ROWS);
    dirty.fill(0);
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
        distancesTo(values, base, d, centres, every, k, distance);
        for (let c = 0; c < k; c++) {
          const s = distance[c] as number;
          if (s < best) {
            second = best;
            best = s;
            bestC = c;
          } else if (s < second) second = s;
        }
        if (bestC !== a) {
          changed++;
          dirty[((i - from) / SUM_ROWS) | 0] = 1;
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
      for (let chunk = from / SUM_ROWS; chunk * SUM_ROWS < to; chunk++) {
        const first = chunk * SUM_ROWS;
        if (!job.recount && dirty[chunk - from / SUM_ROWS] === 0) continue;
        const sb = chunk * k * d;
        const cb = chunk * k;
        for (let x = 0; x < k * d; x++) sums[sb + x] = 0;
        for (let c = 0; c < k; c++) counts[cb + c] = 0;
        const last = Math.min(to, first + SUM_ROWS);
        for (let i = first; i < last; i++) {
          const c = labels[i] as number;
          counts[cb + c] = (counts[cb + c] as number) + 1;
          const a = i * d;
          const o = sb + c * d;
          for (let j = 0; j < d; j++) sums[o + j] = (sums[o + j] as number) + (values[a + j] as number);
        }
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

export function momentBlocks(job: MomentsJob, progress: Progress = noProgress): void {
  const { values, d, n, mean, blockMoments } = job;
  const blocks = Math.ceil(n / BLOCK_ROWS);
  const centre = mean ?? new Float64Array(d);
  const square = mean !== null;
  const next = job.next ?? new Int32Array(1);
  for (let b = Atomics.add(next, 0, 1); b < blocks; b = Atomics.add(next, 0, 1)) {
    const out = b * d;
    for (let j = 0; j < d; j++) blockMoments[out + j] = 0;
    const end = Math.min(n, (b + 1) * BLOCK_ROWS);
    // a chunk of rows at a time (it stays in cache), four features at a time, each summed in a local
    for (let from = b * BLOCK_ROWS; from < end; from += SUM_ROWS) {
      const last = Math.min(end, from + SUM_ROWS) * d;
      for (let j = 0; j < d; j += 4) {
        const w = Math.min(4, d - j);
        const m0 = centre[j] as number;
        const m1 = w > 1 ? (centre[j + 1] as number) : 0;
        const m2 = w > 2 ? (centre[j + 2] as number) : 0;
        const m3 = w > 3 ? (centre[j + 3] as number) : 0;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        if (w === 4 && square)
          for (let a = from * d + j; a < last; a += d) {
            const e0 = (values[a] as number) - m0;
            const e1 = (values[a + 1] as number) - m1;
            const e2 = (values[a + 2] as number) - m2;
            const e3 = (values[a + 3] as number) - m3;
            s0 += e0 * e0;
            s1 += e1 * e1;
            s2 += e2 * e2;
            s3 += e3 * e3;
          }
        else if (w === 4)
          for (let a = from * d + j; a < last; a += d) {
            s0 += values[a] as number;
            s1 += values[a + 1] as number;
            s2 += values[a + 2] as number;
            s3 += values[a + 3] as number;
          }
        else
          for (let a = from * d + j; a < last; a += d) {
            const e0 = (values[a] as number) - m0;
            s0 += square ? e0 * e0 : e0;
            if (w > 1) {
              const e1 = (values[a + 1] as number) - m1;
              s1 += square ? e1 * e1 : e1;
            }
            if (w > 2) {
              const e2 = (values[a + 2] as number) - m2;
              s2 += square ? e2 * e2 : e2;
            }
          }
        blockMoments[out + j] = (blockMoments[out + j] as number) + s0;
        if (w > 1) blockMoments[out + j + 1] = (blockMoments[out + j + 1] as number) + s1;
        if (w > 2) blockMoments[out + j + 2] = (blockMoments[out + j + 2] as number) + s2;
        if (w > 3) blockMoments[out + j + 3] = (blockMoments[out + j + 3] as number) + s3;
      }
    }
    progress();
  }
}

/**
 * Squared distances from the row at `a` to the centres listed in `which[0..m)` (rows of `centres`, d wide), written to
 * `out[centre]`. Four (or two) centres go through one loop with a sum each: the sums are independent, so the processor
 * overlaps them, and each is still added up in feature order (the same bits as one at a time).
 */
export function distancesTo(
  values: Float64Array,
  a: number,
  d: number,
  centres: Float64Array,
  which: Int32Array,
  m: number,
  out: Float64Array,
): void {
  let p = 0;
  for (; p + 4 <= m; p += 4) {
    const c0 = which[p] as number;
    const c1 = which[p + 1] as number;
    const c2 = which[p + 2] as number;
    const c3 = which[p + 3] as number;
    const b0 = c0 * d;
    const b1 = c1 * d;
    const b2 = c2 * d;
    const b3 = c3 * d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < d; j++) {
      const x = values[a + j] as number;
      const e0 = x - (centres[b0 + j] as number);
      const e1 = x - (centres[b1 + j] as number);
      const e2 = x - (centres[b2 + j] as number);
      const e3 = x - (centres[b3 + j] as number);
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    out[c0] = s0;
    out[c1] = s1;
    out[c2] = s2;
    out[c3] = s3;
  }
  for (; p + 2 <= m; p += 2) {
    const c0 = which[p] as number;
    const c1 = which[p + 1] as number;
    const b0 = c0 * d;
    const b1 = c1 * d;
    let s0 = 0;
    let s1 = 0;
    for (let j = 0; j < d; j++) {
      const x = values[a + j] as number;
      const e0 = x - (centres[b0 + j] as number);
      const e1 = x - (centres[b1 + j] as number);
      s0 += e0 * e0;
      s1 += e1 * e1;
    }
    out[c0] = s0;
    out[c1] = s1;
  }
  if (p < m) {
    const c = which[p] as number;
    const b = c * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const e = (values[a + j] as number) - (centres[b + j] as number);
      s += e * e;
    }
    out[c] = s;
  }
}

export function seedBlocks(job: SeedJob, thread: number, threads: number, progress: Progress = noProgress): void {
  const { values, d, n, centre, index, closest, upper, lower, labels, reach, gap, blockPotential } = job;
  const { candidates, trials, trialReach, trialPotential } = job;
  const blocks = Math.ceil(n / BLOCK_ROWS);
  const potential = new Float64Array(Math.max(4, trials));
  const distance = new Float64Array(Math.max(4, trials));
  const every = new Int32Array(trials);
  for (let t = 0; t < trials; t++) every[t] = t;
  const next = job.next ?? new Int32Array(1);
  for (let b = Atomics.add(next, 0, 1); b < blocks; b = Atomics.add(next, 0, 1)) {
    const end = Math.min(n, (b + 1) * BLOCK_ROWS);
    for (let from = b * BLOCK_ROWS; from < end; from += SUM_ROWS) {
      const to = Math.min(end, from + SUM_ROWS);
      let added = 0;
      // the first four candidates' sums in locals, any others in `potential`
      let p0 = 0;
      let p1 = 0;
      let p2 = 0;
      let p3 = 0;
      potential.fill(0);
      for (let i = from; i < to; i++) {
        let near = closest[i] as number;
        let own = labels[i] as number;
        if (index === 0) {
          let s = 0;
          const a = i * d;
          for (let j = 0; j < d; j++) {
            const e = (values[a + j] as number) - (centre[j] as number);
            s += e * e;
          }
          closest[i] = s;
          upper[i] = Math.sqrt(s);
          lower[i] = Infinity;
          labels[i] = 0;
          near = s;
          own = 0;
          added += near;
        } else if (index > 0) {
          if (near <= (reach[own] as number)) {
            const bound = (gap[own] as number) - (upper[i] as number);
            if (bound < (lower[i] as number)) lower[i] = bound;
          } else {
            let s = 0;
            const a = i * d;
            for (let j = 0; j < d; j++) {
              const e = (values[a + j] as number) - (centre[j] as number);
              s += e * e;
            }
            if (s < near) {
              const previous = upper[i] as number;
              if (previous < (lower[i] as number)) lower[i] = previous;
              closest[i] = s;
              upper[i] = Math.sqrt(s);
              labels[i] = index;
              near = s;
              own = index;
            } else {
              const far = Math.sqrt(s);
              if (far < (lower[i] as number)) lower[i] = far;
            }
          }
          added += near;
        }
        if (trials === 0) continue;
        const rb = own * trials;
        let shut = true;
        for (let t = 0; t < trials; t++) if (near > (trialReach[rb + t] as number)) shut = false;
        if (shut) {
          p0 += near;
          p1 += near;
          p2 += near;
          p3 += near;
          for (let t = 4; t < trials; t++) potential[t] = (potential[t] as number) + near;
        } else {
          distancesTo(values, i * d, d, candidates, every, trials, distance);
          p0 += Math.min(distance[0] as number, near);
          p1 += Math.min(distance[1] as number, near);
          p2 += Math.min(distance[2] as number, near);
          p3 += Math.min(distance[3] as number, near);
          for (let t = 4; t < trials; t++)
            potential[t] = (potential[t] as number) + Math.min(distance[t] as number, near);
        }
      }
      const chunk = from / SUM_ROWS;
      blockPotential[chunk] = added;
      potential[0] = p0;
      potential[1] = p1;
      potential[2] = p2;
      potential[3] = p3;
      for (let t = 0; t < trials; t++) trialPotential[chunk * trials + t] = potential[t] as number;
    }
    progress();
  }
}

/**
 * Rows are taken two at a time against every later row: the two sums of each pair of rows are independent, so the
 * processor overlaps them, and every sum still receives its terms in the order one row at a time would add them.
 */
export function silhouetteParts(
  job: SilhouetteJob,
  thread: number,
  threads: number,
  progress: Progress = noProgress,
): void {
  const { points, m, d, local, labelings: L, width, bounds } = job;
  for (let p = thread; p < bounds.length - 1; p += threads) {
    const sums = job.sums[p] as Float64Array;
    const end = bounds[p + 1] as number;
    let r = bounds[p] as number;
    for (; r + 1 < end; r += 2) {
      const next = r + 1;
      const rb = r * d;
      const nb = next * d;
      const rs = r * width;
      const ns = next * width;
      const rl = r * L;
      const nl = next * L;
      let q = 0;
      for (let j = 0; j < d; j++) {
        const e = (points[rb + j] as number) - (points[nb + j] as number);
        q += e * e;
      }
      const between = Math.sqrt(q);
      for (let l = 0; l < L; l++) {
        const x = rs + (local[nl + l] as number);
        const y = ns + (local[rl + l] as number);
        sums[x] = (sums[x] as number) + between;
        sums[y] = (sums[y] as number) + between;
      }
      for (let o = next + 1; o < m; o++) {
        let q0 = 0;
        let q1 = 0;
        const ob = o * d;
        for (let j = 0; j < d; j++) {
          const v = points[ob + j] as number;
          const e0 = (points[rb + j] as number) - v;
          const e1 = (points[nb + j] as number) - v;
          q0 += e0 * e0;
          q1 += e1 * e1;
        }
        const d0 = Math.sqrt(q0);
        const d1 = Math.sqrt(q1);
        const os = o * width;
        const ol = o * L;
        for (let l = 0; l < L; l++) {
          const c = local[ol + l] as number;
          sums[rs + c] = (sums[rs + c] as number) + d0;
          sums[ns + c] = (sums[ns + c] as number) + d1;
          const y0 = os + (local[rl + l] as number);
          sums[y0] = (sums[y0] as number) + d0;
          const y1 = os + (local[nl + l] as number);
          sums[y1] = (sums[y1] as number) + d1;
        }
      }
      if ((r & 62) === 62) progress();
    }
    for (; r < end; r++) {
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
    }
    progress();
  }
}

/** The functions a worker thread is given, in an order where each is declared before it runs. */
export const KERNEL_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [
  noProgress,
  distancesTo,
  assignBlocks,
  momentBlocks,
  seedBlocks,
  silhouetteParts,
  runKernel,
];
