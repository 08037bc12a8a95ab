/**
 * Hierarchical clustering with Ward's linkage on a seeded sample (the nearest-neighbour chain over Lance–Williams
 * updates of squared Euclidean distances: O(m²) memory and time), cut at k clusters; every other row joins the
 * cluster whose sample centroid is nearest.
 */
import { sampleIndices } from '../kmeans/automatic.js';
import type { Matrix } from '../kmeans/lloyd.js';

export interface WardOptions {
  k: number;
  /** Rows the tree is built on (default 5,000); the rest are assigned to the nearest centroid. */
  sample?: number;
  seed?: number;
}

export interface WardResult {
  labels: Int32Array;
  centroids: Float64Array;
  k: number;
  /** Rows the tree was built on. */
  sampled: Int32Array;
}

/**
 * @example
 * const { labels } = ward(matrix, { k: 5 });
 */
export function ward(matrix: Matrix, options: WardOptions): WardResult {
  const { values, rows: n, features: d } = matrix;
  const k = options.k;
  const sampled = sampleIndices(n, options.sample ?? 5_000, options.seed ?? 0);
  const m = sampled.length;
  if (k < 1 || k > m) throw new Error(`k must be between 1 and the ${m} sampled rows, got ${k}`);
  const dist = new Float64Array(m * m);
  for (let a = 0; a < m; a++)
    for (let b = a + 1; b < m; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const e =
          (values[(sampled[a] as number) * d + j] as number) - (values[(sampled[b] as number) * d + j] as number);
        s += e * e;
      }
      dist[a * m + b] = s;
      dist[b * m + a] = s;
    }
  const size = new Float64Array(m).fill(1);
  const active = new Uint8Array(m).fill(1);
  const merges: { a: number; b: number; height: number }[] = [];
  const chain: number[] = [];
  let remaining = m;
  while (remaining > 1) {
    if (chain.length === 0) chain.push(active.indexOf(1));
    for (;;) {
      const x = chain[chain.length - 1] as number;
      const previous = chain.length > 1 ? (chain[chain.length - 2] as number) : -1;
      let best = previous;
      let bestD = previous >= 0 ? (dist[x * m + previous] as number) : Infinity;
      for (let y = 0; y < m; y++) {
        if (!active[y] || y === x) continue;
        const v = dist[x * m + y] as number;
        if (v < bestD) {
          bestD = v;
          best = y;
        }
      }
      if (best === previous) {
        chain.pop();
        chain.pop();
        merges.push({ a: Math.min(x, best), b: Math.max(x, best), height: bestD });
        const [keep, drop] = [Math.min(x, best), Math.max(x, best)];
        const ni = size[keep] as number;
        const nj = size[drop] as number;
        const dij = bestD;
        for (let z = 0; z < m; z++) {
          if (!active[z] || z === keep || z === drop) continue;
          const nk = size[z] as number;
          const v =
            ((ni + nk) * (dist[z * m + keep] as number) + (nj + nk) * (dist[z * m + drop] as number) - nk * dij) /
            (ni + nj + nk);
          dist[z * m + keep] = v;
          dist[keep * m + z] = v;
        }
        size[keep] = ni + nj;
        active[drop] = 0;
        remaining--;
        break;
      }
      chain.push(best);
    }
  }
  // Ward is monotone, so applying the m − k lowest merges gives the k-cluster cut.
  merges.sort((p, q) => p.height - q.height);
  const parent = Int32Array.from({ length: m }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] as number] as number;
    return i;
  };
  for (const merge of merges.slice(0, m - k)) parent[find(merge.b)] = find(merge.a);
  const clusterOfRoot = new Map<number, number>();
  const sampleLabels = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const root = find(i);
    if (!clusterOfRoot.has(root)) clusterOfRoot.set(root, clusterOfRoot.size);
    sampleLabels[i] = clusterOfRoot.get(root) as number;
  }
  const centroids = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    const c = sampleLabels[i] as number;
    counts[c] = (counts[c] as number) + 1;
    for (let j = 0; j < d; j++)
      centroids[c * d + j] = (centroids[c * d + j] as number) + (values[(sampled[i] as number) * d + j] as number);
  }
  for (let c = 0; c < k; c++)
    for (let j = 0; j < d; j++) centroids[c * d + j] = (centroids[c * d + j] as number) / (counts[c] as number);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const e = (values[i * d + j] as number) - (centroids[c * d + j] as number);
        s += e * e;
      }
      if (s < best) {
        best = s;
        labels[i] = c;
      }
    }
  }
  sampled.forEach((row, i) => (labels[row] = sampleLabels[i] as number));
  return { labels, centroids, k, sampled };
}
