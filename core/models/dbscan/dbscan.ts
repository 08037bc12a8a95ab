/**
 * DBSCAN as scikit-learn defines it: a row's neighbourhood is every row at distance ≤ eps, itself included; a row is
 * core when its neighbourhood holds at least `minSamples` rows; clusters grow from core rows in row order, and a
 * border row joins the first cluster that reaches it. Neighbours come from a uniform grid of eps-wide cells, so each
 * query scans only the 3^d cells around a row.
 */
import type { Matrix } from '../kmeans/lloyd.js';

export interface DbscanOptions {
  eps: number;
  minSamples?: number;
}

export interface DbscanResult {
  /** Cluster per row; −1 is noise. */
  labels: Int32Array;
  core: Uint8Array;
  clusters: number;
  noise: number;
}

/**
 * @example
 * const { labels, clusters, noise } = dbscan(matrix, { eps: 0.3, minSamples: 10 });
 */
export function dbscan(matrix: Matrix, options: DbscanOptions): DbscanResult {
  const { values, rows: n, features: d } = matrix;
  const eps = options.eps;
  const minSamples = options.minSamples ?? 5;
  if (!(eps > 0)) throw new Error(`eps must be positive, got ${eps}`);
  if (d > 8) throw new Error(`DBSCAN's grid index supports up to 8 features; reduce them with PCA (got ${d})`);
  const eps2 = eps * eps;
  const cellOf = (i: number, j: number): number => Math.floor((values[i * d + j] as number) / eps);
  const cells = new Map<string, number[]>();
  const keys: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    let key = '';
    for (let j = 0; j < d; j++) key += `${cellOf(i, j)},`;
    keys[i] = key;
    let list = cells.get(key);
    if (!list) cells.set(key, (list = []));
    list.push(i);
  }
  const offsets: number[][] = [[]];
  for (let j = 0; j < d; j++) {
    const next: number[][] = [];
    for (const o of offsets) for (const step of [-1, 0, 1]) next.push([...o, step]);
    offsets.splice(0, offsets.length, ...next);
  }
  const neighbours = (i: number): number[] => {
    const found: number[] = [];
    const base = Array.from({ length: d }, (_, j) => cellOf(i, j));
    for (const o of offsets) {
      let key = '';
      for (let j = 0; j < d; j++) key += `${(base[j] as number) + (o[j] as number)},`;
      const list = cells.get(key);
      if (!list) continue;
      for (const other of list) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const e = (values[i * d + j] as number) - (values[other * d + j] as number);
          s += e * e;
        }
        if (s <= eps2) found.push(other);
      }
    }
    return found.sort((a, b) => a - b);
  };
  const lists: number[][] = new Array<number[]>(n);
  const core = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    lists[i] = neighbours(i);
    if ((lists[i] as number[]).length >= minSamples) core[i] = 1;
  }
  const labels = new Int32Array(n).fill(-1);
  let clusters = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] !== -1 || !core[i]) continue;
    const stack = [i];
    labels[i] = clusters;
    while (stack.length > 0) {
      const v = stack.pop() as number;
      if (!core[v]) continue;
      for (const w of lists[v] as number[]) {
        if (labels[w] === -1) {
          labels[w] = clusters;
          stack.push(w);
        }
      }
    }
    clusters++;
  }
  let noise = 0;
  for (let i = 0; i < n; i++) if (labels[i] === -1) noise++;
  return { labels, core, clusters, noise };
}
