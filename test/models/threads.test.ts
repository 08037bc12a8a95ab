import { describe, expect, it } from 'vitest';
import {
  automaticK,
  kMeans,
  kMeansPlusPlus,
  openThreads,
  sampleIndices,
  seededRandom,
  silhouette,
  type Matrix,
} from '../../core/models/index.js';
import { reference, referenceInputs } from '../support/reference.js';

/** 150,000 rows × 5 features from 6 overlapping Gaussian clusters (several blocks of rows, many iterations). */
function overlapping(rows: number, features: number, seed: number): Matrix {
  const rng = seededRandom(seed);
  const centres = Array.from({ length: 6 }, () => Array.from({ length: features }, () => rng.normal() * 1.5));
  const values = new Float64Array(rows * features);
  for (let i = 0; i < rows; i++) {
    const c = centres[rng.int(6)]!;
    for (let j = 0; j < features; j++) values[i * features + j] = c[j]! + rng.normal();
  }
  return { values, rows, features };
}

const matrix = overlapping(150_000, 5, 5);
/** scikit-learn on the same rows (regenerate.py rebuilds them with a copy of seededRandom). */
const theirs = reference<{ fromInit: { inertia: number; iterations: number }; silhouette: number }>(
  'threads-overlapping',
);

describe('k-means on two threads', () => {
  it('really starts a second thread on this machine', () => {
    const threads = openThreads(2);
    try {
      expect(threads.threads).toBe(2);
    } finally {
      threads.close();
    }
  });

  it('gives the same centroids, labels, inertia and iterations as one thread', () => {
    const one = kMeans(matrix, { k: 7, nInit: 2, seed: 3, threads: 1 });
    const two = kMeans(matrix, { k: 7, nInit: 2, seed: 3, threads: 2 });
    const byDefault = kMeans(matrix, { k: 7, nInit: 2, seed: 3 });
    expect(one.iterations).toBeGreaterThan(5);
    for (const other of [two, byDefault]) {
      expect(other.inertia).toBe(one.inertia);
      expect(other.iterations).toBe(one.iterations);
      expect(Array.from(other.centroids)).toEqual(Array.from(one.centroids));
      expect(Buffer.from(other.labels.buffer).equals(Buffer.from(one.labels.buffer))).toBe(true);
    }
  });

  it('reaches scikit-learn’s inertia in the same number of iterations from the same initial centroids', () => {
    const init = kMeansPlusPlus(matrix, 6, seededRandom(8));
    referenceInputs('threads-overlapping-init', init);
    const ours = kMeans(matrix, { k: 6, init, threads: 2 });
    expect(Math.abs(ours.inertia / theirs.fromInit.inertia - 1)).toBeLessThan(1e-9);
    expect(ours.iterations).toBe(theirs.fromInit.iterations);
  });

  it('chooses k with the same sweep, silhouettes and refitted model as one thread', { timeout: 120_000 }, () => {
    const options = { seed: 2, maxK: 7, sweepSample: 20_000, silhouetteSample: 3_000 };
    const one = automaticK(matrix, { ...options, threads: 1 });
    const two = automaticK(matrix, { ...options, threads: 2 });
    expect(two.sweep).toEqual(one.sweep);
    expect(two.choice).toEqual(one.choice);
    expect(two.model.inertia).toBe(one.model.inertia);
    expect(Buffer.from(two.model.labels.buffer).equals(Buffer.from(one.model.labels.buffer))).toBe(true);
  });

  it('computes the silhouette of a sample as scikit-learn does', () => {
    const fit = kMeans(matrix, { k: 6, nInit: 1, seed: 4 });
    const rows = sampleIndices(matrix.rows, 4_000, 9);
    const ours = silhouette(matrix, fit.labels, 6, rows, 2);
    referenceInputs('threads-overlapping-sample', { rows, labels: Array.from(rows, (r) => fit.labels[r]!) });
    expect(ours).toBeCloseTo(theirs.silhouette, 10);
    expect(silhouette(matrix, fit.labels, 6, rows, 1)).toBe(ours);
  });
});
