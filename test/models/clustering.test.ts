import { describe, expect, it } from 'vitest';
import {
  assignClusters,
  automaticK,
  fitPreparation,
  applyPreparation,
  kMeans,
  profileClusters,
  sampleIndices,
  silhouette,
  type Preparation,
} from '../../core/models/index.js';
import { reference, referenceInputs } from '../support/reference.js';
import { loadRetailRfm } from './online-retail.js';

const retail = loadRetailRfm();
const columns = { recency: retail.recency, frequency: retail.frequency, monetary: retail.monetary };

/** scikit-learn's silhouette_score and numpy's monetary quartiles for `fit`'s labels; PCA's variances (1/n). */
const theirs = reference<{ silhouette: number; monetaryQuartiles: number[][]; pcaVariance: number[] }>(
  'clustering-retail',
);

describe('automatic k, silhouette, profiles and scoring on Online Retail', () => {
  const fit = kMeans(retail.matrix, { k: 4, seed: 3 });

  it('computes the mean silhouette as scikit-learn does', () => {
    const all = sampleIndices(retail.matrix.rows, 10_000, 1);
    const ours = silhouette(retail.matrix, fit.labels, 4, all);
    referenceInputs('clustering-retail-labels', fit.labels);
    expect(ours).toBeCloseTo(theirs.silhouette, 10);
  });

  it('recommends one k in 2–10 with the inertia and silhouette of every k and its reasons', () => {
    const { sweep, choice, model } = automaticK(retail.matrix, { seed: 1 });
    expect(sweep.map((p) => p.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let i = 1; i < sweep.length; i++) expect(sweep[i]!.inertia).toBeLessThan(sweep[i - 1]!.inertia);
    expect(choice.k).toBeGreaterThanOrEqual(2);
    expect(choice.k).toBeLessThanOrEqual(10);
    expect(model.k).toBe(choice.k);
    expect(choice.reasons.join('\n')).toMatch(/elbow/);
    expect(choice.reasons.join('\n')).toMatch(/silhouette/);
  });

  it('refits the chosen k on every row when the sweep ran on a sample', () => {
    const { model, choice } = automaticK(retail.matrix, { seed: 1, sweepSample: 1_000, maxK: 5 });
    expect(model.labels.length).toBe(retail.matrix.rows);
    expect(choice.reasons.join('\n')).toMatch(/sample of 1,000/);
  });

  it('scores rows through a saved (JSON round-tripped) preparation to the same clusters as training', () => {
    const preparation = JSON.parse(
      JSON.stringify(
        fitPreparation(columns, {
          features: ['recency', 'frequency', 'monetary'],
          log1p: ['recency', 'frequency', 'monetary'],
        }),
      ),
    ) as Preparation;
    const saved = { preparation, centroids: Array.from(fit.centroids), k: 4 };
    expect(Array.from(assignClusters(saved, columns))).toEqual(Array.from(fit.labels));
    const one = assignClusters(saved, {
      recency: [retail.recency[10]!],
      frequency: [retail.frequency[10]!],
      monetary: [retail.monetary[10]!],
    });
    expect(one[0]).toBe(fit.labels[10]);
  });

  it('matches scikit-learn StandardScaler and PCA on the prepared features', () => {
    const withPca = fitPreparation(columns, {
      features: ['recency', 'frequency', 'monetary'],
      log1p: ['recency', 'frequency', 'monetary'],
      components: 2,
    });
    const projected = applyPreparation(withPca, columns);
    const explained = theirs.pcaVariance;
    expect(withPca.pca!.variance[0]).toBeCloseTo(explained[0]!, 8);
    expect(withPca.pca!.variance[1]).toBeCloseTo(explained[1]!, 8);
    let v0 = 0;
    for (let i = 0; i < projected.rows; i++) v0 += projected.values[i * 2]! ** 2;
    expect(v0 / projected.rows).toBeCloseTo(explained[0]!, 8);
  });

  it('profiles every cluster with quartiles matching numpy and revenue shares summing to one', () => {
    const profiles = profileClusters(columns, fit.labels, 4, {
      recency: 'recency',
      frequency: 'frequency',
      monetary: 'monetary',
    });
    expect(profiles.reduce((s, p) => s + p.size, 0)).toBe(4338);
    expect(profiles.reduce((s, p) => s + (p.revenueShare ?? 0), 0)).toBeCloseTo(1, 12);
    referenceInputs('clustering-retail-labels', fit.labels);
    const reference = theirs.monetaryQuartiles;
    profiles.forEach((p, c) => {
      expect(p.features.monetary!.q1).toBeCloseTo(reference[c]![0]!, 8);
      expect(p.features.monetary!.median).toBeCloseTo(reference[c]![1]!, 8);
      expect(p.features.monetary!.q3).toBeCloseTo(reference[c]![2]!, 8);
    });
    expect(new Set(profiles.map((p) => p.name)).size).toBe(4);
  });

  it('names a cluster of long-gone small spenders "Lapsed Low-Value" and one of recent big frequent buyers by value and frequency', () => {
    const recency = [300, 310, 320, 5, 6, 7, 60, 70, 65];
    const monetary = [10, 12, 11, 5000, 5200, 4800, 300, 280, 310];
    const frequency = [5, 5, 5, 40, 45, 50, 1, 2, 1];
    const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const profiles = profileClusters({ recency, frequency, monetary }, labels, 3, {
      recency: 'recency',
      frequency: 'frequency',
      monetary: 'monetary',
    });
    expect(profiles[0]!.name).toBe('Lapsed Low-Value');
    expect(profiles[1]!.name).toBe('High-Value Frequent');
  });
});
