/**
 * Generated bases with a known number of groups, for validating the automatic choice of k: Gaussian groups with
 * unequal sizes and per-feature spreads, their centres drawn in a box whose size sets how far apart they lie.
 */
import { seededRandom } from '../numeric/index.js';
import { silhouette } from './automatic.js';
import type { Matrix } from './lloyd.js';

export interface GaussianGroupsOptions {
  groups: number;
  features: number;
  rows: number;
  seed: number;
  /** Side of the box the centres are drawn in, in units of a group's typical standard deviation. */
  spread: number;
  /** Smallest and largest share of the rows in one group (default 5% and 50%; with two groups, 30% and 70%). */
  minShare?: number;
  maxShare?: number;
}

export interface GaussianGroups {
  matrix: Matrix;
  labels: Int32Array;
  shares: number[];
}

/**
 * @example
 * const { matrix, labels } = gaussianGroups({ groups: 5, features: 4, rows: 2_000, seed: 1, spread: 8 });
 */
export function gaussianGroups(options: GaussianGroupsOptions): GaussianGroups {
  const { groups: k, features: d, rows: n } = options;
  const rng = seededRandom(options.seed);
  const minShare = options.minShare ?? (k === 2 ? 0.3 : 0.05);
  const maxShare = options.maxShare ?? (k === 2 ? 0.7 : 0.5);
  let shares: number[] = [];
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const w = Array.from({ length: k }, () => rng.gamma(2, 1));
    const total = w.reduce((s, v) => s + v, 0);
    shares = w.map((v) => v / total);
    if (shares.every((s) => s >= minShare && s <= maxShare)) break;
  }
  const counts = shares.map((s) => Math.floor(s * n));
  for (let i = 0, left = n - counts.reduce((s, c) => s + c, 0); left > 0; i = (i + 1) % k, left--)
    counts[i] = (counts[i] as number) + 1;
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.next() * options.spread));
  const sigmas = Array.from({ length: k }, () => Array.from({ length: d }, () => 0.6 + 0.8 * rng.next()));
  const values = new Float64Array(n * d);
  const labels = new Int32Array(n);
  let row = 0;
  counts.forEach((count, g) => {
    for (let i = 0; i < count; i++, row++) {
      labels[row] = g;
      for (let j = 0; j < d; j++)
        values[row * d + j] = (centres[g]![j] as number) + (sigmas[g]![j] as number) * rng.normal();
    }
  });
  return { matrix: { values, rows: n, features: d }, labels, shares };
}

export interface SuiteCase extends GaussianGroups {
  id: number;
  groups: number;
  features: number;
  spread: number;
  /** Mean silhouette of the true labelling (on every row). */
  trueSilhouette: number;
  /** True silhouette below 0.5: reported, not counted. */
  hard: boolean;
}

/**
 * The validation suite of the automatic k: seeded cases with 2–10 groups, 3–12 features and a random spread, kept when
 * the true labelling's silhouette is at least 0.5 (counted) or in [0.25, 0.5) (harder, overlapping: reported only).
 *
 * @example
 * for (const c of kChoiceSuite({ counted: 100, rows: 2_000, seed: 1 })) automaticK(c.matrix).choice.k === c.groups;
 */
export function* kChoiceSuite(options: { counted: number; rows: number; seed: number }): Generator<SuiteCase> {
  const rng = seededRandom(options.seed);
  let counted = 0;
  for (let id = 0; counted < options.counted && id < options.counted * 50; id++) {
    const groups = 2 + rng.int(9);
    const features = 3 + rng.int(10);
    const spread = 3 + rng.next() * 12;
    const g = gaussianGroups({ groups, features, rows: options.rows, seed: options.seed * 100_003 + id, spread });
    const all = Int32Array.from({ length: options.rows }, (_, i) => i);
    const trueSilhouette = silhouette(g.matrix, g.labels, groups, all);
    if (trueSilhouette < 0.25) continue;
    const hard = trueSilhouette < 0.5;
    if (!hard) counted++;
    yield { ...g, id, groups, features, spread, trueSilhouette, hard };
  }
}
