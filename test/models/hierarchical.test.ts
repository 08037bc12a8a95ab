import { describe, expect, it } from 'vitest';
import { sampleIndices, ward } from '../../core/models/index.js';
import { reference, referenceInputs } from '../support/reference.js';
import { loadRetailRfm } from './online-retail.js';

const retail = loadRetailRfm();

function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]!) ?? b[i]) !== b[i] || (ba.get(b[i]!) ?? a[i]) !== a[i]) return false;
    ab.set(a[i]!, b[i]!);
    ba.set(b[i]!, a[i]!);
  }
  return true;
}

describe('Ward hierarchical clustering on Online Retail RFM', () => {
  it('cuts the same partition as scikit-learn AgglomerativeClustering(linkage="ward") on a 1,500-row sample, k = 3–6', () => {
    const sample = 1_500;
    const ks = [3, 4, 5, 6];
    const rows = sampleIndices(retail.matrix.rows, sample, 9);
    referenceInputs('hierarchical-retail-sample', rows);
    // scikit-learn: AgglomerativeClustering(n_clusters=k, linkage='ward').fit(X[rows]).labels_ for each k
    const theirs = reference<number[][]>('hierarchical-retail');
    ks.forEach((k, i) => {
      const ours = ward(retail.matrix, { k, sample, seed: 9 });
      expect(Array.from(ours.sampled)).toEqual(Array.from(rows));
      expect(
        samePartition(
          Array.from(rows, (r) => ours.labels[r]!),
          theirs[i]!,
        ),
        `k=${k}`,
      ).toBe(true);
    });
  });

  it('assigns every row outside the sample to its nearest cluster centroid', () => {
    const result = ward(retail.matrix, { k: 4, sample: 800, seed: 2 });
    const { values, features: d } = retail.matrix;
    const inSample = new Set(result.sampled);
    for (let i = 0; i < retail.matrix.rows; i += 37) {
      if (inSample.has(i)) continue;
      const distances = [0, 1, 2, 3].map((c) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += (values[i * d + j]! - result.centroids[c * d + j]!) ** 2;
        return s;
      });
      expect(result.labels[i]).toBe(distances.indexOf(Math.min(...distances)));
    }
  });
});
