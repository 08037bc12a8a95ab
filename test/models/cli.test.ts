import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { assignClusters, parseCsv, type SavedClustering } from '../../core/models/index.js';
import { reference } from '../support/reference.js';
import { loadRetailRfm } from './online-retail.js';
import { tempDir } from '../support/temp.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/segflow.js', import.meta.url).pathname;
const dir = tempDir('segflow-models-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function segflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('segflow predict on the CDNOW sample as a CSV', () => {
  const csv = join(dir, 'cdnow.csv');
  const lines = readFileSync(new URL('../fixtures/data/cdnow/CDNOW_sample.txt', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [, id, date, , dollars] = l.trim().split(/\s+/);
      return `${id},${date!.slice(0, 4)}-${date!.slice(4, 6)}-${date!.slice(6)},${dollars}`;
    });
  writeFileSync(csv, `customer,order_date,amount\n${lines.join('\n')}\n`);
  /** `segflow predict` on the CDNOW CSV with its three columns named, then `options`. */
  const predict = (...options: string[]): ReturnType<typeof segflow> =>
    segflow('predict', csv, '--customer', 'customer', '--date', 'order_date', '--value', 'amount', ...options);

  it('prints the published BG/NBD and Gamma-Gamma parameters and writes per-customer scores', async () => {
    const out = join(dir, 'scores.csv');
    const { code, stdout } = await predict(
      '--calibration-end',
      '1997-09-30',
      '--horizon',
      '39w',
      '--json',
      '--out',
      out,
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      customers: number;
      purchaseModel: Record<string, number | string>;
      spendModel: Record<string, number>;
    };
    expect(report.customers).toBe(2357);
    expect(report.purchaseModel.model).toBe('bgnbd');
    expect(Number(report.purchaseModel.r).toFixed(3)).toBe('0.243');
    expect(Number(report.purchaseModel.alpha).toFixed(3)).toBe('4.414');
    expect(Number(report.purchaseModel.a).toFixed(3)).toBe('0.793');
    expect(Number(report.purchaseModel.b).toFixed(3)).toBe('2.426');
    expect(Number(report.purchaseModel.logLikelihood).toFixed(1)).toBe('-9582.4');
    expect(report.spendModel.p!.toFixed(2)).toBe('6.25');
    expect(report.spendModel.q!.toFixed(2)).toBe('3.74');
    expect(report.spendModel.gamma!.toFixed(2)).toBe('15.44');
    const scores = parseCsv(readFileSync(out, 'utf8'));
    expect(scores.rows.length).toBe(2357);
    const col = (name: string): number => scores.header.indexOf(name);
    const one = scores.rows.find((r) => r[col('customer')] === '0001')!;
    // Customer 1 of the sample is the paper's example: x = 2, t_x = 30.43, T = 38.86 → E[X(39)] = 1.226.
    expect(Number(one[col('expected_purchases')])).toBeCloseTo(1.226, 3);
    for (const r of scores.rows) if (r[col('frequency')] === '0') expect(r[col('p_alive')]).toBe('1');
  });

  it('says which model scored and keeps the one that best predicts the holdout with --model auto', async () => {
    const { code, stdout } = await predict('--calibration-end', '1997-09-30', '--model', 'auto', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      purchaseModel: { model: string; logLikelihood: number };
      logLikelihoods: Record<string, number>;
      holdout: { chosen: string };
    };
    expect(Object.keys(report.logLikelihoods).sort()).toEqual(['bgnbd', 'mbgnbd', 'paretonbd']);
    expect(report.purchaseModel.model).toBe(report.holdout.chosen);
  });

  it('exits 2 with the usage when a required column is not named', async () => {
    const { code, stderr } = await segflow('predict', csv, '--customer', 'customer');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--calibration-end/);
  });
});

describe('segflow cluster on an RFM export', () => {
  const retail = loadRetailRfm();
  const csv = join(dir, 'rfm.csv');
  const n = 800;
  writeFileSync(
    csv,
    `customer,recency,frequency,monetary\n${retail.customers
      .slice(0, n)
      .map((c, i) => `${c},${retail.recency[i]},${retail.frequency[i]},${retail.monetary[i]}`)
      .join('\n')}\n`,
  );
  /** `segflow cluster` on the RFM export, by customer, on the log of its three features, then `options`. */
  const cluster = (...options: string[]): ReturnType<typeof segflow> =>
    segflow(
      'cluster',
      csv,
      '--id',
      'customer',
      '--features',
      'recency,frequency,monetary',
      '--log1p',
      'recency,frequency,monetary',
      ...options,
    );

  it('chooses k in the range with reasons, profiles every cluster, and writes rows that the saved model scores the same', async () => {
    const out = join(dir, 'clusters.csv');
    const { code, stdout } = await cluster('--k', '2..5', '--seed', '3', '--json', '--out', out);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      k: number;
      sweep: { k: number }[];
      choice: { reasons: string[] };
      profiles: { size: number; revenueShare: number }[];
      model: SavedClustering;
    };
    expect(report.sweep.map((p) => p.k)).toEqual([2, 3, 4, 5]);
    expect(report.k).toBeGreaterThanOrEqual(2);
    expect(report.k).toBeLessThanOrEqual(5);
    expect(report.choice.reasons.length).toBeGreaterThanOrEqual(3);
    expect(report.profiles.reduce((s, p) => s + p.size, 0)).toBe(n);
    expect(report.profiles.reduce((s, p) => s + p.revenueShare, 0)).toBeCloseTo(1, 9);
    const rows = parseCsv(readFileSync(out, 'utf8')).rows;
    expect(rows.length).toBe(n);
    const rescored = assignClusters(report.model, {
      recency: retail.recency.slice(0, n),
      frequency: retail.frequency.slice(0, n),
      monetary: retail.monetary.slice(0, n),
    });
    expect(rows.map((r) => Number(r[1]))).toEqual(Array.from(rescored));
  });

  it('runs DBSCAN and marks noise rows', async () => {
    const { code, stdout } = await cluster('--algorithm', 'dbscan', '--eps', '0.3', '--min-samples', '5', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { algorithm: string; noise: number; profiles: { size: number }[] };
    expect(report.algorithm).toBe('dbscan');
    expect(report.profiles.reduce((s, p) => s + p.size, 0) + report.noise).toBe(n);
  });

  it('runs Ward hierarchical clustering to the partition scikit-learn finds on the same standardised log features', async () => {
    const out = join(dir, 'ward.csv');
    const { code, stdout } = await cluster(
      '--algorithm',
      'hierarchical',
      '--k',
      '4',
      '--sample',
      String(n),
      '--json',
      '--out',
      out,
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      algorithm: string;
      k: number;
      profiles: { size: number }[];
      model: SavedClustering;
    };
    expect(report).toMatchObject({ algorithm: 'hierarchical', k: 4 });
    const ours = parseCsv(readFileSync(out, 'utf8')).rows.map((r) => Number(r[1]));
    // scikit-learn: AgglomerativeClustering(n_clusters=4, linkage='ward') on StandardScaler().fit_transform(log1p(rows))
    const theirs = reference<number[]>('cli-ward-retail');
    expect(theirs).toHaveLength(n);
    const pairs = new Set(ours.map((c, i) => `${c}:${theirs[i]}`));
    expect(pairs.size).toBe(4);
    expect(new Set(ours).size).toBe(4);
  });

  it('refuses hierarchical clustering with a k range', async () => {
    const { code, stderr } = await cluster('--algorithm', 'hierarchical', '--k', '2..5');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--k 5/);
  });
});
