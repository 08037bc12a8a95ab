/**
 * Cluster profiles and names: per cluster its size, share of the base, share of revenue (when a money feature is
 * named), mean / median / quartiles of every feature, and how far its mean sits from the base's in base standard
 * deviations. The name is deterministic: the two features that differ most (|z| ≥ 0.5) become words, in the order
 * recency, value, frequency, then other features ("High-Value Frequent", "Lapsed Low-Value").
 */
import type { Columns } from '../prepare/index.js';

export interface FeatureProfile {
  mean: number;
  median: number;
  q1: number;
  q3: number;
  /** (cluster mean − base mean) / base standard deviation. */
  difference: number;
}

export interface ClusterProfile {
  cluster: number;
  name: string;
  size: number;
  share: number;
  revenueShare?: number;
  features: Record<string, FeatureProfile>;
}

/** Which features mean what, so names can say "Lapsed" rather than "High recency". */
export interface FeatureRoles {
  /** Days since the last purchase or activity (higher is worse). */
  recency?: string;
  frequency?: string;
  /** Money: also gives each cluster's share of revenue. */
  monetary?: string;
}

/**
 * @example
 * const profiles = profileClusters(columns, labels, 4, { recency: 'recency', frequency: 'frequency', monetary: 'monetary' });
 */
export function profileClusters(
  columns: Columns,
  labels: Int32Array,
  k: number,
  roles: FeatureRoles = {},
  features = Object.keys(columns),
): ClusterProfile[] {
  const n = labels.length;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) {
    const c = labels[i] as number;
    if (c >= 0) members[c]!.push(i);
  }
  const base = new Map<string, { mean: number; sd: number }>();
  for (const f of features) {
    const col = columns[f] as Float64Array | number[];
    let m = 0;
    for (let i = 0; i < n; i++) m += col[i] as number;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += ((col[i] as number) - m) ** 2;
    base.set(f, { mean: m, sd: Math.sqrt(v / n) });
  }
  let revenue = 0;
  const money = roles.monetary ? columns[roles.monetary] : undefined;
  if (money) for (let i = 0; i < n; i++) revenue += money[i] as number;
  const profiles = members.map((rows, cluster): ClusterProfile => {
    const profile: ClusterProfile = { cluster, name: '', size: rows.length, share: rows.length / n, features: {} };
    if (money) profile.revenueShare = rows.reduce((s, i) => s + (money[i] as number), 0) / (revenue || 1);
    for (const f of features) {
      const col = columns[f] as Float64Array | number[];
      const values = Float64Array.from(rows, (i) => col[i] as number).sort();
      const mean = values.reduce((s, v) => s + v, 0) / (values.length || 1);
      const b = base.get(f) as { mean: number; sd: number };
      profile.features[f] = {
        mean,
        median: quantile(values, 0.5),
        q1: quantile(values, 0.25),
        q3: quantile(values, 0.75),
        difference: b.sd > 0 ? (mean - b.mean) / b.sd : 0,
      };
    }
    profile.name = nameCluster(profile.features, roles);
    return profile;
  });
  const seen = new Map<string, number>();
  for (const p of profiles) {
    const count = (seen.get(p.name) ?? 0) + 1;
    seen.set(p.name, count);
    if (count > 1) p.name = `${p.name} ${count}`;
  }
  return profiles;
}

/** Linear interpolation between order statistics (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + (at - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

const THRESHOLD = 0.5;

/** The deterministic descriptive name of a cluster from its feature differences. */
export function nameCluster(features: Record<string, FeatureProfile>, roles: FeatureRoles): string {
  const order = (f: string): number =>
    f === roles.recency ? 0 : f === roles.monetary ? 1 : f === roles.frequency ? 2 : 3;
  const notable = Object.entries(features)
    .filter(([, p]) => Math.abs(p.difference) >= THRESHOLD)
    .sort(([fa, a], [fb, b]) => Math.abs(b.difference) - Math.abs(a.difference) || fa.localeCompare(fb))
    .slice(0, 2)
    .sort(([fa], [fb]) => order(fa) - order(fb) || fa.localeCompare(fb));
  if (notable.length === 0) return 'Typical';
  return notable
    .map(([f, p]) => {
      const high = p.difference > 0;
      if (f === roles.recency) return high ? 'Lapsed' : 'Recent';
      if (f === roles.monetary) return high ? 'High-Value' : 'Low-Value';
      if (f === roles.frequency) return high ? 'Frequent' : 'Infrequent';
      return `${high ? 'High' : 'Low'} ${f}`;
    })
    .join(' ');
}
