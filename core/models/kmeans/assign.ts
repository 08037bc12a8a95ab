import { applyPreparation, type Columns, type Preparation } from '../prepare/index.js';

/** What a saved clustering needs to score new rows: its preparation and centroids (in the prepared space). */
export interface SavedClustering {
  preparation: Preparation;
  centroids: number[];
  k: number;
}

/**
 * Assigns rows to the nearest centroid after applying the saved preparation (real-time scoring of new contacts).
 *
 * @example
 * const clusters = assignClusters(saved, { recency: [3], frequency: [12], monetary: [840] }); // Int32Array [2]
 */
export function assignClusters(model: SavedClustering, columns: Columns): Int32Array {
  const m = applyPreparation(model.preparation, columns);
  const d = m.features;
  const out = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let best = Infinity;
    for (let c = 0; c < model.k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const e = (m.values[i * d + j] as number) - (model.centroids[c * d + j] as number);
        s += e * e;
      }
      if (s < best) {
        best = s;
        out[i] = c;
      }
    }
  }
  return out;
}
