import { describe, expect, it } from 'vitest';
import { dbscan } from '../../core/models/index.js';
import { reference } from '../support/reference.js';
import { loadRetailRfm } from './online-retail.js';

const retail = loadRetailRfm();

/** Adjusted Rand index (Hubert & Arabie), computed from the contingency table. */
function adjustedRand(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const table = new Map<string, number>();
  const rowsA = new Map<number, number>();
  const rowsB = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rowsA.set(a[i]!, (rowsA.get(a[i]!) ?? 0) + 1);
    rowsB.set(b[i]!, (rowsB.get(b[i]!) ?? 0) + 1);
  }
  const pairs = (n: number): number => (n * (n - 1)) / 2;
  const sum = (m: Map<unknown, number>): number => [...m.values()].reduce((s, v) => s + pairs(v), 0);
  const index = sum(table);
  const expected = (sum(rowsA) * sum(rowsB)) / pairs(a.length);
  const max = (sum(rowsA) + sum(rowsB)) / 2;
  return (index - expected) / (max - expected);
}

describe('DBSCAN on UCI Online Retail RFM (log1p, standardised)', () => {
  for (const [eps, minSamples] of [
    [0.2, 10],
    [0.25, 20],
  ] as const) {
    it(`gives scikit-learn's partition at eps ${eps}, min_samples ${minSamples}`, () => {
      const ours = dbscan(retail.matrix, { eps, minSamples });
      // scikit-learn: DBSCAN(eps, min_samples).fit(X), its labels_ and core_sample_indices_
      const theirs =
        reference<Record<string, { labels: number[]; core: number[] }>>('dbscan-retail')[`${eps}/${minSamples}`]!;
      expect(ours.clusters).toBeGreaterThanOrEqual(3);
      expect(ours.noise).toBeGreaterThan(0);
      const core = theirs.core;
      expect(core).toEqual(Array.from(ours.core.keys()).filter((i) => ours.core[i] === 1));
      expect(
        adjustedRand(
          core.map((i) => ours.labels[i]!),
          core.map((i) => theirs.labels[i]!),
        ),
      ).toBe(1);
      const noise = (labels: ArrayLike<number>): number[] =>
        Array.from(labels).flatMap((l, i) => (l === -1 ? [i] : []));
      expect(noise(ours.labels)).toEqual(noise(theirs.labels));
    });
  }
});
