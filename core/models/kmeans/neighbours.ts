/**
 * Warm starts between neighbouring k of a sweep: the best solution at k − 1 plus one centre (drawn as k-means++ draws
 * it, the best of a few candidates) and the best at k + 1 minus the centre whose loss costs least are each run to
 * convergence, and kept when they beat the k-means++ starts. Passes go up and down the range until none improves.
 * Cheap (each run starts near an optimum) and it removes most of the luck of n_init starts at the larger k, where
 * many local optima lie a few hundredths of a percent apart.
 */
import { seededRandom, type Random } from '../numeric/index.js';
import { kMeans, type KMeansResult, type Matrix } from './lloyd.js';
import type { KMeansThreads } from './threads.js';

/** Improves `fits` (k → best fit) in place; returns how many fits were replaced. */
export function improveByNeighbours(
  matrix: Matrix,
  fits: Map<number, KMeansResult>,
  seed: number,
  threads: number | KMeansThreads,
  passes = 3,
): number {
  const ks = [...fits.keys()].sort((a, b) => a - b);
  const rng = seededRandom(seed ^ 0x5eed);
  let replaced = 0;
  for (let pass = 0; pass < passes; pass++) {
    let improved = false;
    const consider = (k: number, init: Float64Array): void => {
      const candidate = kMeans(matrix, { k, init, threads });
      const current = fits.get(k) as KMeansResult;
      if (candidate.inertia < current.inertia * (1 - 1e-12)) {
        fits.set(k, candidate);
        improved = true;
        replaced++;
      }
    };
    for (const k of ks) {
      const below = fits.get(k - 1);
      if (below) consider(k, withOneMore(matrix, below, rng));
    }
    for (const k of [...ks].reverse()) {
      const above = fits.get(k + 1);
      if (above) consider(k, withOneLess(matrix, above));
    }
    if (!improved) break;
  }
  return replaced;
}

function squaredDistance(values: Float64Array, row: number, centres: Float64Array, c: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const e = (values[row * d + j] as number) - (centres[c * d + j] as number);
    s += e * e;
  }
  return s;
}

/** The k centres plus one row drawn ∝ D², the best (lowest potential) of 2 + ⌊ln k⌋ candidates. */
function withOneMore(matrix: Matrix, fit: KMeansResult, rng: Random): Float64Array {
  const { values, rows: n, features: d } = matrix;
  const k = fit.k;
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = squaredDistance(values, i, fit.centroids, fit.labels[i] as number, d);
    potential += closest[i] as number;
  }
  let bestRow = 0;
  let bestPotential = Infinity;
  for (let t = 0; t < 2 + Math.floor(Math.log(k + 1)); t++) {
    let target = rng.next() * potential;
    let row = n - 1;
    for (let i = 0; i < n; i++) {
      target -= closest[i] as number;
      if (target <= 0) {
        row = i;
        break;
      }
    }
    let p = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const e = (values[i * d + j] as number) - (values[row * d + j] as number);
        s += e * e;
      }
      p += Math.min(s, closest[i] as number);
    }
    if (p < bestPotential) {
      bestPotential = p;
      bestRow = row;
    }
  }
  const init = new Float64Array((k + 1) * d);
  init.set(fit.centroids);
  init.set(values.subarray(bestRow * d, bestRow * d + d), k * d);
  return init;
}

/** The k centres less the one whose rows, moved to their next-nearest centre, add the least inertia. */
function withOneLess(matrix: Matrix, fit: KMeansResult): Float64Array {
  const { values, rows: n, features: d } = matrix;
  const k = fit.k;
  const loss = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const own = fit.labels[i] as number;
    const dOwn = squaredDistance(values, i, fit.centroids, own, d);
    let next = Infinity;
    for (let c = 0; c < k; c++) if (c !== own) next = Math.min(next, squaredDistance(values, i, fit.centroids, c, d));
    loss[own] = (loss[own] as number) + next - dOwn;
  }
  let drop = 0;
  for (let c = 1; c < k; c++) if ((loss[c] as number) < (loss[drop] as number)) drop = c;
  const init = new Float64Array((k - 1) * d);
  for (let c = 0, o = 0; c < k; c++) if (c !== drop) init.set(fit.centroids.subarray(c * d, c * d + d), o++ * d);
  return init;
}
