/**
 * `segflow cluster <file.csv> --id <col> --features a,b,c`: clusters the rows of a CSV (k-means with automatic k by
 * default, DBSCAN, or Ward hierarchical clustering on a sample), prints the chosen k with its reasons, inertia and silhouette per k, cluster sizes and
 * profiles, and writes each row's cluster with `--out`.
 *
 * `--json` prints one object (stable; fields are only ever added):
 * { "algorithm": "kmeans" | "dbscan" | "hierarchical", "rows": number, "features": string[], "log1p": string[], "k": number,
 *   "sweep": [{ "k", "inertia", "silhouette" }], "choice": { "k", "elbow", "bestSilhouette", "reasons": string[] } | null,
 *   "inertia": number | null, "noise": number, "profiles": [{ "cluster", "name", "size", "share", "revenueShare"?,
 *   "features": { [feature]: { "mean", "median", "q1", "q3", "difference" } } }],
 *   "model": { "preparation": {...}, "centroids": number[], "k": number } | null }
 * `model` is what `assignClusters` needs to score new rows (k-means and hierarchical). The `--out` CSV has columns id, cluster, name (cluster
 * −1 is DBSCAN noise).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  applyPreparation,
  automaticK,
  cellAt,
  columnIndex,
  dbscan,
  fitPreparation,
  formatCsv,
  kMeans,
  numberCell,
  parseCsv,
  profileClusters,
  ward,
  sampleIndices,
  silhouette,
  type FeatureRoles,
  type SweepPoint,
} from '../../core/models/index.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow cluster <file.csv> --id <col> --features a,b,c [--log1p a,c] [--k 2..10 | --k 5]
                       [--algorithm kmeans|dbscan|hierarchical] [--eps 0.5 --min-samples 5]
                       [--sample 5000] [--seed N] [--json] [--out file.csv]

Standardises the features (after ln(1 + x) for those named in --log1p) and clusters the rows. With a k range,
k-means is fitted for every k and one k is recommended from the elbow of the inertia curve and the mean silhouette.
Clusters are profiled (size, revenue share, mean / median / quartiles, difference from the base) and named; a feature
whose name contains "recen", "freq" or "monet"/"spend"/"revenue"/"value" is read as recency, frequency or money.

options:
  --k <a..b | n>        range of k to choose from (default 2..10) or one k
  --algorithm           kmeans (default), dbscan, or hierarchical (Ward; needs one k)
  --eps, --min-samples  DBSCAN's radius (in standardised units) and core size (defaults 0.5 and 5)
  --sample <n>          hierarchical: rows the tree is built on (default 5000); the rest join the nearest cluster
  --seed <n>            random seed (default 0)
  --json                print the run as JSON (see the module comment for the shape)
  --out <file.csv>      write id, cluster, name per row
`;

export const command: Command = {
  summary: 'cluster the rows of a CSV (k-means with automatic k, DBSCAN or hierarchical), with profiles',
  usage: 'cluster <file.csv> --id <col> --features a,b,c',
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          id: { type: 'string' },
          features: { type: 'string' },
          log1p: { type: 'string', default: '' },
          k: { type: 'string', default: '2..10' },
          algorithm: { type: 'string', default: 'kmeans' },
          eps: { type: 'string', default: '0.5' },
          'min-samples': { type: 'string', default: '5' },
          sample: { type: 'string', default: '5000' },
          seed: { type: 'string', default: '0' },
          json: { type: 'boolean', default: false },
          out: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      return usage((error as Error).message);
    }
    const { values: o, positionals } = parsed;
    if (o.help) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    const [file] = positionals;
    if (!file) return usage('name the CSV file');
    if (!o.id || !o.features) return usage('--id and --features are required');
    const features = list(o.features);
    const log1p = list(o.log1p);
    const range = /^(\d+)(?:\.\.(\d+))?$/.exec(o.k);
    if (!range) return usage(`--k expects a range like 2..10 or one k like 5, got "${o.k}"`);
    const minK = Number(range[1]);
    const maxK = Number(range[2] ?? range[1]);
    if (minK < 1 || maxK < minK) return usage(`--k range is empty: "${o.k}"`);
    if (o.algorithm !== 'kmeans' && o.algorithm !== 'dbscan' && o.algorithm !== 'hierarchical')
      return usage(`--algorithm is kmeans, dbscan or hierarchical, got "${o.algorithm}"`);
    if (o.algorithm === 'hierarchical' && (minK !== maxK || minK < 2))
      return usage(`hierarchical clustering cuts the tree at one k: pass --k 5 (got "${o.k}")`);
    const whole = (text: string): number => (/^\d+$/.test(text.trim()) ? Number(text) : NaN);
    const sample = whole(o.sample);
    if (!Number.isInteger(sample) || sample < 2)
      return usage(`--sample expects a whole number of rows (2 or more), got "${o.sample}"`);
    const seed = /^-?\d+$/.test(o.seed.trim()) ? Number(o.seed) : NaN;
    const eps = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(o.eps.trim()) ? Number(o.eps) : NaN;
    const minSamples = whole(o['min-samples']);
    if (!Number.isInteger(seed)) return usage(`--seed expects a whole number, got "${o.seed}"`);
    if (!(eps > 0)) return usage(`--eps expects a positive number, got "${o.eps}"`);
    if (!(minSamples >= 1))
      return usage(`--min-samples expects a whole number of rows (1 or more), got "${o['min-samples']}"`);
    try {
      const table = parseCsv(readFileSync(file, 'utf8'));
      const idAt = columnIndex(table, o.id);
      const n = table.rows.length;
      if (n < 2)
        throw new Error(
          `${file} has ${n === 0 ? 'no rows' : 'one row'} under its header: clustering needs at least 2 rows`,
        );
      // Duplicated ids are refused rather than aggregated: a row is one customer's features, and two rows for one id
      // mean an export or a join went wrong; summing or averaging them would be a guess about which.
      const seen = new Map<string, number>();
      table.rows.forEach((row, r) => {
        const id = (row[idAt] ?? '').trim();
        if (id === '') throw new Error(`${cellAt(file, table, r, o.id as string)}: the id is empty`);
        const first = seen.get(id);
        if (first !== undefined)
          throw new Error(
            `${cellAt(file, table, r, o.id as string)}: the id "${id}" is already on line ${table.lines[first]}; one row per id (aggregate the rows first)`,
          );
        seen.set(id, r);
      });
      const columns: Record<string, Float64Array> = {};
      for (const f of features) {
        const at = columnIndex(table, f);
        columns[f] = Float64Array.from(table.rows, (row, r) => {
          try {
            return numberCell(row[at]);
          } catch (error) {
            throw new Error(`${cellAt(file, table, r, f)}: ${(error as Error).message}`);
          }
        });
      }
      for (const f of log1p) {
        const values = columns[f];
        const r = values ? values.findIndex((v) => v < 0) : -1;
        if (values && r !== -1)
          throw new Error(
            `${cellAt(file, table, r, f)}: ${values[r]} is negative, and --log1p takes ln(1 + x) of values from 0 up; leave "${f}" out of --log1p or correct the data`,
          );
      }
      const preparation = fitPreparation(columns, { features, log1p });
      const matrix = applyPreparation(preparation, columns);
      const distinct = new Set<string>();
      for (let i = 0; i < matrix.rows && distinct.size <= maxK; i++)
        distinct.add(matrix.values.subarray(i * matrix.features, (i + 1) * matrix.features).join(','));
      if (o.algorithm !== 'dbscan' && minK > distinct.size)
        throw new Error(
          `--k asks for ${minK === maxK ? minK : `at least ${minK}`} clusters, but the ${matrix.rows} rows have only ${distinct.size} distinct points`,
        );
      const topK = Math.min(maxK, distinct.size);
      let labels: Int32Array;
      let k: number;
      let sweep: SweepPoint[] = [];
      let choice = null;
      let inertia: number | null = null;
      let model = null;
      let noise = 0;
      if (o.algorithm === 'dbscan') {
        const result = dbscan(matrix, { eps, minSamples });
        labels = result.labels;
        k = result.clusters;
        noise = result.noise;
      } else if (o.algorithm === 'hierarchical') {
        const result = ward(matrix, { k: minK, sample, seed });
        labels = result.labels;
        k = minK;
        inertia = 0;
        const d = matrix.features;
        for (let i = 0; i < matrix.rows; i++)
          for (let j = 0; j < d; j++)
            inertia +=
              ((matrix.values[i * d + j] as number) - (result.centroids[(labels[i] as number) * d + j] as number)) ** 2;
        sweep = [
          { k, inertia, silhouette: silhouette(matrix, labels, k, sampleIndices(matrix.rows, 10_000, seed + 1)) },
        ];
        model = { preparation, centroids: Array.from(result.centroids), k };
      } else if (minK === topK) {
        const result = kMeans(matrix, { k: minK, seed });
        labels = result.labels;
        k = minK;
        inertia = result.inertia;
        sweep = [
          {
            k,
            inertia,
            silhouette: k > 1 ? silhouette(matrix, labels, k, sampleIndices(matrix.rows, 10_000, seed + 1)) : 0,
          },
        ];
        model = { preparation, centroids: Array.from(result.centroids), k };
      } else {
        const result = automaticK(matrix, { minK, maxK: topK, seed });
        if (topK < maxK)
          result.choice.reasons.push(
            `k stopped at ${topK}: the rows have only ${topK} distinct points, so more clusters would be empty`,
          );
        labels = result.model.labels;
        k = result.choice.k;
        sweep = result.sweep;
        choice = result.choice;
        inertia = result.model.inertia;
        model = { preparation, centroids: Array.from(result.model.centroids), k };
      }
      const profiles = profileClusters(columns, labels, k, rolesOf(features), features);
      const report = {
        algorithm: o.algorithm,
        rows: matrix.rows,
        features,
        log1p,
        k,
        sweep,
        choice,
        inertia,
        noise,
        profiles,
        model,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(describe(report));
      if (o.out) {
        const names = new Map(profiles.map((p) => [p.cluster, p.name]));
        const rows = table.rows.map((row, i) => [
          row[idAt] ?? '',
          labels[i] as number,
          names.get(labels[i] as number) ?? 'Noise',
        ]);
        writeFileSync(o.out, formatCsv([o.id, 'cluster', 'name'], rows));
        if (!o.json) process.stdout.write(`wrote ${rows.length} rows to ${o.out}\n`);
      }
      return EXIT.ok;
    } catch (error) {
      process.stderr.write(`segflow cluster: ${(error as Error).message}\n`);
      return EXIT.failed;
    }
  },
};

function rolesOf(features: string[]): FeatureRoles {
  const roles: FeatureRoles = {};
  for (const f of features) {
    const l = f.toLowerCase();
    if (!roles.recency && l.includes('recen')) roles.recency = f;
    else if (!roles.frequency && l.includes('freq')) roles.frequency = f;
    else if (!roles.monetary && /monet|spend|revenue|value/.test(l)) roles.monetary = f;
  }
  return roles;
}

function describe(r: {
  algorithm: string;
  rows: number;
  k: number;
  sweep: SweepPoint[];
  choice: { reasons: string[] } | null;
  noise: number;
  profiles: ReturnType<typeof profileClusters>;
}): string {
  const lines: string[] = [];
  if (r.sweep.length > 1) {
    lines.push('   k      inertia  silhouette');
    for (const p of r.sweep)
      lines.push(
        `${String(p.k).padStart(4)} ${p.inertia.toFixed(2).padStart(12)} ${p.silhouette.toFixed(3).padStart(11)}`,
      );
  }
  lines.push(
    `${r.algorithm === 'dbscan' ? 'DBSCAN found' : 'chose'} k = ${r.k} on ${r.rows} rows${r.algorithm === 'dbscan' ? ` (${r.noise} noise rows)` : ''}`,
  );
  for (const reason of r.choice?.reasons ?? []) lines.push(`  - ${reason}`);
  for (const p of r.profiles) {
    const revenue = p.revenueShare === undefined ? '' : `, ${(100 * p.revenueShare).toFixed(1)}% of revenue`;
    lines.push(`cluster ${p.cluster} "${p.name}": ${p.size} rows (${(100 * p.share).toFixed(1)}%)${revenue}`);
    for (const [f, s] of Object.entries(p.features))
      lines.push(
        `    ${f}: mean ${fmt(s.mean)}, median ${fmt(s.median)}, quartiles ${fmt(s.q1)}–${fmt(s.q3)}, ${s.difference >= 0 ? '+' : ''}${s.difference.toFixed(2)} sd vs base`,
      );
  }
  return `${lines.join('\n')}\n`;
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function usage(message: string): number {
  process.stderr.write(`segflow cluster: ${message}\n\n${HELP}`);
  return EXIT.usage;
}
