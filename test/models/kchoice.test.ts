import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { automaticK, kChoiceSuite, type Matrix } from '../../core/models/index.js';
import { reference as referenceOf } from '../support/reference.js';

interface Reference {
  ks: number[];
  n_init: number;
  median: number[];
}

// test/fixtures/reference/kmeans_groups.py (scikit-learn KMeans(n_init=10)), written by regenerate.py.
const reference = referenceOf<Reference>('kmeans-groups');
const rows = readFileSync(new URL('../fixtures/reference/kmeans_groups.csv', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => line.split(',').map(Number));
const groups: Matrix = { values: Float64Array.from(rows.flat()), rows: rows.length, features: 5 };

describe('automatic k', () => {
  it('finds the true number of groups on a small generated suite (the full one is npm run bench -- kchoice)', () => {
    const cases = [...kChoiceSuite({ counted: 8, rows: 500, seed: 11 })].filter((c) => !c.hard);
    expect(cases.length).toBe(8);
    expect(new Set(cases.map((c) => c.groups)).size).toBeGreaterThan(3);
    const right = cases.filter((c) => automaticK(c.matrix, { seed: c.id, threads: 1 }).choice.k === c.groups);
    expect(right.length).toBeGreaterThanOrEqual(Math.ceil(0.95 * cases.length));
  });

  const fixed = automaticK(groups, { seed: 0, threads: 1 });

  it('keeps five groups apart where the best silhouette would merge two of them', () => {
    const { choice } = fixed;
    expect(choice.k).toBe(5);
    expect(choice.bestSilhouette).toBe(4);
    expect(choice.reasons.at(-1)).toMatch(/^chose k = 5: the largest Calinski–Harabasz index/);
  });

  it('reaches scikit-learn’s KMeans(n_init=10) inertia within 0.01% at every k of the sweep (median of 5 seeds)', () => {
    const { sweep } = fixed;
    expect(sweep.map((p) => p.k)).toEqual(reference.ks);
    sweep.forEach((p, i) => expect(p.inertia, `k = ${p.k}`).toBeLessThanOrEqual(reference.median[i]! * 1.0001));
  });
});
