/** Clustering models over the store: k-means with automatic k, DBSCAN and Ward, profiled, named and saved. */
import { dbscan } from '../dbscan/index.js';
import { ward } from '../hierarchical/index.js';
import {
  automaticK,
  defaultThreads,
  kMeans,
  silhouette,
  sampleIndices,
  type Matrix,
  type SweepPoint,
  type KChoice,
  type SavedClustering,
} from '../kmeans/index.js';
import { applyPreparation, fitPreparation } from '../prepare/index.js';
import { profileClusters, type ClusterProfile, type FeatureRoles } from '../profile/index.js';
import type { ClusterSettings } from './settings.js';
import type { FeatureRows, OutputColumn } from './store.js';

/** What a clustering run saves: enough to score a new contact exactly as the base was, and to name its cluster. */
export interface SavedClusterModel extends SavedClustering {
  features: string[];
  fill: Record<string, number>;
  /** Cluster names by cluster number (after the config's overrides). */
  names: string[];
}

export interface ClusterMetrics {
  algorithm: ClusterSettings['kind'];
  rows: number;
  skipped: Record<string, number>;
  k: number;
  sweep?: SweepPoint[];
  choice?: KChoice;
  inertia?: number;
  iterations?: number;
  silhouette?: number;
  noise?: number;
  profiles: ClusterProfile[];
}

export interface ClusterOutcome {
  outputs: OutputColumn[];
  labels: (string | null)[];
  metrics: ClusterMetrics;
  saved: SavedClusterModel;
}

/** Feature roles read from built-in names, so clusters are named "Lapsed High-Value" rather than by column. */
export function featureRoles(features: readonly string[]): FeatureRoles {
  const roles: FeatureRoles = {};
  const recency = features.find((f) => /days_since_last|recen/.test(f));
  const frequency = features.find((f) => /freq/.test(f));
  const monetary = features.find((f) => /monet|spend|revenue|value/.test(f));
  if (recency) roles.recency = recency;
  if (frequency) roles.frequency = frequency;
  if (monetary) roles.monetary = monetary;
  return roles;
}

function inertiaOf(m: Matrix, labels: Int32Array, centroids: Float64Array): number {
  let total = 0;
  const d = m.features;
  for (let i = 0; i < m.rows; i++) {
    const c = labels[i] as number;
    if (c < 0) continue;
    for (let j = 0; j < d; j++) total += ((m.values[i * d + j] as number) - (centroids[c * d + j] as number)) ** 2;
  }
  return total;
}

function centroidsOf(m: Matrix, labels: Int32Array, k: number): Float64Array {
  const d = m.features;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < m.rows; i++) {
    const c = labels[i] as number;
    if (c < 0) continue;
    counts[c] = (counts[c] as number) + 1;
    for (let j = 0; j < d; j++) sums[c * d + j] = (sums[c * d + j] as number) + (m.values[i * d + j] as number);
  }
  for (let c = 0; c < k; c++)
    for (let j = 0; j < d; j++) sums[c * d + j] = (sums[c * d + j] as number) / ((counts[c] as number) || 1);
  return sums;
}

/** Fits a clustering model on the feature rows read from the store. */
export function fitClusterModel(name: string, settings: ClusterSettings, rows: FeatureRows): ClusterOutcome {
  const n = rows.ids.length;
  if (n < 2)
    throw new Error(
      `models.${name}: ${n} contact${n === 1 ? '' : 's'} with every feature present; clustering needs at least 2 (compute features first, or set fill: for empty features)`,
    );
  const preparation = fitPreparation(rows.columns, {
    features: settings.features,
    log1p: settings.log1p,
    ...(settings.components === undefined ? {} : { components: settings.components }),
  });
  const matrix = applyPreparation(preparation, rows.columns);
  const metrics: Omit<ClusterMetrics, 'profiles' | 'k'> = { algorithm: settings.kind, rows: n, skipped: rows.skipped };
  let labels: Int32Array;
  let centroids: Float64Array;
  let k: number;
  if (settings.kind === 'kmeans') {
    if (settings.k.min === settings.k.max) {
      k = Math.min(settings.k.min, n);
      const fit = kMeans(matrix, { k, nInit: settings.n_init, seed: settings.seed });
      ({ labels, centroids } = fit);
      Object.assign(metrics, { inertia: fit.inertia, iterations: fit.iterations });
      if (k >= 2 && k < n)
        metrics.silhouette = silhouette(
          matrix,
          labels,
          k,
          sampleIndices(n, settings.sample, settings.seed + 1),
          defaultThreads(n),
        );
    } else {
      const automatic = automaticK(matrix, {
        minK: settings.k.min,
        maxK: settings.k.max,
        seed: settings.seed,
        nInit: settings.n_init,
        silhouetteSample: settings.sample,
      });
      ({ labels, centroids, k } = automatic.model);
      const chosen = automatic.sweep.find((p) => p.k === k);
      Object.assign(metrics, {
        sweep: automatic.sweep,
        choice: automatic.choice,
        inertia: automatic.model.inertia,
        iterations: automatic.model.iterations,
      });
      if (chosen) metrics.silhouette = chosen.silhouette;
    }
  } else if (settings.kind === 'hierarchical') {
    const fit = ward(matrix, { k: settings.k, sample: settings.sample, seed: settings.seed });
    ({ labels, k } = fit);
    centroids = centroidsOf(matrix, labels, k);
    metrics.inertia = inertiaOf(matrix, labels, centroids);
    if (k < n) metrics.silhouette = silhouette(matrix, labels, k, sampleIndices(n, 10_000, settings.seed + 1));
  } else {
    const fit = dbscan(matrix, { eps: settings.eps, minSamples: settings.min_samples });
    ({ labels } = fit);
    k = fit.clusters;
    centroids = centroidsOf(matrix, labels, k);
    metrics.noise = fit.noise;
  }
  const profiles = profileClusters(rows.columns, labels, k, featureRoles(settings.features), settings.features);
  for (const p of profiles) p.name = settings.names[p.name] ?? settings.names[String(p.cluster)] ?? p.name;
  const names = profiles.map((p) => p.name);
  const clusterLabels = Array.from(labels, (c) => (c >= 0 ? (names[c] as string) : 'Noise'));
  return {
    outputs: [{ output: 'cluster', values: Array.from(labels), labels: clusterLabels }],
    labels: clusterLabels,
    metrics: { ...metrics, k, profiles },
    saved: {
      preparation,
      centroids: Array.from(centroids),
      k,
      features: settings.features,
      fill: settings.fill,
      names,
    },
  };
}

/** Contacts whose cluster name differs from the previous run, and the moves between names. */
export function clusterChanges(
  ids: readonly number[],
  labels: readonly (string | null)[],
  previous: Map<number, string | null>,
): { changed: number; compared: number; moves: { from: string; to: string; contacts: number }[] } {
  let changed = 0;
  let compared = 0;
  const moves = new Map<string, number>();
  ids.forEach((id, i) => {
    if (!previous.has(id)) return;
    compared++;
    const before = previous.get(id) ?? 'none';
    const after = labels[i] ?? 'none';
    if (before === after) return;
    changed++;
    const key = `${before}\u0000${after}`;
    moves.set(key, (moves.get(key) ?? 0) + 1);
  });
  return {
    changed,
    compared,
    moves: [...moves]
      .map(([key, contacts]) => {
        const [from = '', to = ''] = key.split('\u0000');
        return { from, to, contacts };
      })
      .sort((a, b) => b.contacts - a.contacts || a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
  };
}
