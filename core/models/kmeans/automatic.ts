/**
 * Automatic choice of k: a sweep over a range (default 2–10) records inertia and the mean silhouette on a seeded
 * sample, finds the elbow (the knee of the inertia curve: the point farthest below the chord from the first to the
 * last k), and combines the two into one recommendation with its reasons. On a large base the sweep runs on a
 * seeded sample with fewer initialisations; the chosen k is then refitted on every row.
 */
import { seededRandom } from '../numeric/index.js';
import { kMeans, type KMeansResult, type Matrix } from './lloyd.js';

export interface SweepPoint {
  k: number;
  inertia: number;
  silhouette: number;
}

export interface KChoice {
  k: number;
  elbow: number;
  bestSilhouette: number;
  reasons: string[];
}

export interface AutomaticKOptions {
  minK?: number;
  maxK?: number;
  seed?: number;
  nInit?: number;
  /** Rows of the seeded sample the silhouette is computed on (default 10,000). */
  silhouetteSample?: number;
  /** Above this many rows the sweep is fitted on a seeded sample of this size with `sweepInit` inits (default 50,000). */
  sweepSample?: number;
  sweepInit?: number;
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
  if (minK < 2 || maxK < minK) throw new Error(`the k range must lie within 2..${matrix.rows - 1}, got ${minK}..${options.maxK ?? 10}`);
  const seed = options.seed ?? 0;
  const nInit = options.nInit ?? 10;
  const sweepSample = options.sweepSample ?? 50_000;
  const sampled = matrix.rows > sweepSample;
  const sweepRows = sampled ? sampleRows(matrix, sweepSample, seed) : matrix;
  const silhouetteRows = sampleIndices(sweepRows.rows, options.silhouetteSample ?? 10_000, seed + 1);
  const fits = new Map<number, KMeansResult>();
  for (let k = minK; k <= maxK; k++) fits.set(k, kMeans(sweepRows, { k, nInit: sampled ? (options.sweepInit ?? 3) : nInit, seed: seed + k }));
  const ks = [...fits.keys()];
  const scores = silhouettes(sweepRows, ks.map((k) => (fits.get(k) as KMeansResult).labels), ks, silhouetteRows);
  const sweep: SweepPoint[] = ks.map((k, i) => ({ k, inertia: (fits.get(k) as KMeansResult).inertia, silhouette: scores[i] as number }));
  const choice = chooseK(sweep);
  if (sampled) choice.reasons.push(`the sweep ran on a seeded sample of ${sweepSample.toLocaleString('en')} of ${matrix.rows.toLocaleString('en')} rows; k = ${choice.k} was refitted on every row from the sample's centroids`);
  // The sample's centroids are an excellent start, so the refit on every row is one run from them.
  const model = sampled ? kMeans(matrix, { k: choice.k, init: (fits.get(choice.k) as KMeansResult).centroids }) : (fits.get(choice.k) as KMeansResult);
  return { sweep, choice, model };
}

/** Combines the elbow and the silhouette: the elbow wins when its silhouette is within 10% of the best one. */
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
  const atElbow = sweep.find((p) => p.k === elbow) as SweepPoint;
  const reasons = [
    `elbow of the inertia curve at k = ${elbow} (inertia ${fmt(atElbow.inertia)})`,
    `best mean silhouette at k = ${best.k} (${best.silhouette.toFixed(3)})`,
  ];
  let k: number;
  if (elbow === best.k) {
    k = elbow;
    reasons.push(`both agree on k = ${k}`);
  } else if (atElbow.silhouette >= 0.9 * best.silhouette) {
    k = elbow;
    reasons.push(`chose the elbow k = ${k}: its silhouette ${atElbow.silhouette.toFixed(3)} is within 10% of the best`);
  } else {
    k = best.k;
    reasons.push(`chose k = ${k}: the elbow's silhouette ${atElbow.silhouette.toFixed(3)} is more than 10% below the best`);
  }
  return { k, elbow, bestSilhouette: best.k, reasons };
}

function fmt(v: number): string {
  return v.toPrecision(6);
}

/** Mean silhouette of the given rows (scikit-learn's definition; a row alone in its cluster scores 0). */
export function silhouette(matrix: Matrix, labels: Int32Array, k: number, rows: Int32Array): number {
  return silhouettes(matrix, [labels], [k], rows)[0] as number;
}

/**
 * Mean silhouettes of several labellings of the same rows at once: each pairwise distance is computed once and
 * added to every labelling's per-cluster sums, which makes a sweep over k cost little more than one k.
 */
export function silhouettes(matrix: Matrix, labelings: Int32Array[], ks: number[], rows: Int32Array): number[] {
  const { values, features: d } = matrix;
  const m = rows.length;
  const L = labelings.length;
  const offsets: number[] = [];
  let width = 0;
  for (const k of ks) {
    offsets.push(width);
    width += k;
  }
  const local = new Int32Array(m * L);
  const sizes = new Float64Array(width);
  for (let r = 0; r < m; r++)
    for (let l = 0; l < L; l++) {
      const c = (offsets[l] as number) + ((labelings[l] as Int32Array)[rows[r] as number] as number);
      local[r * L + l] = c;
      sizes[c] = (sizes[c] as number) + 1;
    }
  const sums = new Float64Array(m * width);
  const points = new Float64Array(m * d);
  for (let r = 0; r < m; r++) points.set(values.subarray((rows[r] as number) * d, (rows[r] as number) * d + d), r * d);
  for (let r = 0; r < m; r++) {
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
        const cr = local[rl + l] as number;
        const co = local[ol + l] as number;
        sums[rs + co] = (sums[rs + co] as number) + dist;
        sums[os + cr] = (sums[os + cr] as number) + dist;
      }
    }
  }
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
        if (c !== own && (sizes[c] as number) > 0) b = Math.min(b, (sums[r * width + c] as number) / (sizes[c] as number));
      if (Number.isFinite(b)) total += (b - a) / Math.max(a, b);
    }
    return total / m;
  });
}

/** A seeded sample of row indices without replacement (all rows, in order, when there are few enough). */
export function sampleIndices(n: number, size: number, seed: number): Int32Array {
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = seededRandom(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
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
