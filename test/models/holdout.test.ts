import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContactRecord, EventRecord } from '../../plugins/model/index.js';
import {
  compareByHoldout,
  dayNumber,
  formatHoldoutTable,
  readModelRun,
  runModels,
  type ChurnMetrics,
} from '../../core/models/index.js';
import type { Store } from '../../core/index.js';
import { tempStore } from '../store/fixtures.js';
import { happened, load, person } from '../features/fixture.js';
import { cdnowPurchases } from './cdnow.js';
import { tempDir } from '../support/temp.js';

const purchases = cdnowPurchases();
const CALIBRATION_END = dayNumber('1997-09-30');
const HOLDOUT_END = dayNumber('1998-06-30');

describe('choosing the purchase model by holdout on CDNOW (calibration to 1997-09-30, holdout to 1998-06-30)', () => {
  const comparison = compareByHoldout(purchases, CALIBRATION_END, HOLDOUT_END);

  it('tabulates the real holdout purchase days per calibration-frequency bucket 0 … 5, 6+', () => {
    // Counted here from the raw file, independently of the summary code.
    const days = new Map<string, Set<number>>();
    for (const p of purchases) days.set(p.customer, (days.get(p.customer) ?? new Set()).add(p.day));
    const byBucket = new Map<string, { customers: number; holdout: number }>();
    for (const set of days.values()) {
      const calibration = [...set].filter((d) => d <= CALIBRATION_END).length;
      const bucket = calibration - 1 >= 6 ? '6+' : String(calibration - 1);
      const entry = byBucket.get(bucket) ?? { customers: 0, holdout: 0 };
      entry.customers++;
      entry.holdout += [...set].filter((d) => d > CALIBRATION_END).length;
      byBucket.set(bucket, entry);
    }
    expect(comparison.customers).toBe(2357);
    expect(comparison.holdoutWeeks).toBe(39);
    expect(comparison.buckets.map((b) => b.frequency)).toEqual(['0', '1', '2', '3', '4', '5', '6+']);
    for (const b of comparison.buckets) {
      const expected = byBucket.get(b.frequency)!;
      expect(b.customers, b.frequency).toBe(expected.customers);
      expect(b.actual, b.frequency).toBeCloseTo(expected.holdout / expected.customers, 12);
    }
  });

  it('fits all three on the calibration period, scores them by the bucket error, and keeps the lowest: BG/NBD', () => {
    expect(comparison.models.map((m) => m.model)).toEqual(['bgnbd', 'mbgnbd', 'paretonbd']);
    for (const m of comparison.models) {
      // The error is the customer-weighted mean |mean predicted − mean actual| over the buckets.
      const recomputed =
        comparison.buckets.reduce((s, b) => s + b.customers * Math.abs(b.predicted[m.model]! - b.actual), 0) /
        comparison.customers;
      expect(m.error).toBeCloseTo(recomputed, 12);
    }
    // The calibration fits are the published ones (the calibration period is the papers').
    expect(comparison.models[0]!.fitted!.logLikelihood.toFixed(1)).toBe('-9582.4');
    expect(comparison.models[2]!.fitted!.logLikelihood.toFixed(1)).toBe('-9595.0');
    const best = Math.min(...comparison.models.map((m) => m.error));
    expect(comparison.chosen).toBe('bgnbd');
    expect(comparison.models.find((m) => m.model === 'bgnbd')!.error).toBe(best);
    expect(comparison.reason).toMatch(/^BG\/NBD: the lowest holdout error, 0\.09\d\d purchases per customer/);
  });
});

describe('--model auto and the jobs’ churn model on CDNOW', async () => {
  const dir = tempDir('segflow-holdout-');
  const store: Store = await tempStore();
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('segflow predict --model auto prints the holdout table and its choice', async () => {
    const csv = join(dir, 'cdnow.csv');
    const iso = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);
    writeFileSync(
      csv,
      `customer,order_date,amount\n${purchases.map((p) => `${p.customer},${iso(p.day)},${p.value}`).join('\n')}\n`,
    );
    const args = ['--customer', 'customer', '--date', 'order_date', '--value', 'amount'];
    const text = await segflow('predict', csv, ...args, '--calibration-end', '1997-09-30', '--model', 'auto');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('holdout: purchases after 1997-09-30 to 1998-06-30 (39.0 weeks)');
    const table = formatHoldoutTable(compareByHoldout(purchases, CALIBRATION_END, HOLDOUT_END));
    expect(text.stdout).toContain(table);
    expect(table.split('\n')[0]).toMatch(/^calibration x\s+customers\s+actual\s+BG\/NBD\s+MBG\/NBD\s+Pareto\/NBD$/);
    expect(text.stdout).toMatch(/^chose BG\/NBD: the lowest holdout error/m);
    expect(text.stdout).toMatch(/^BG\/NBD: r 0\.243, alpha 4\.414, a 0\.793, b 2\.426, log-likelihood -9582\.4/m);

    const json = await segflow('predict', csv, ...args, '--calibration-end', '1997-09-30', '--model', 'auto', '--json');
    const report = JSON.parse(json.stdout) as {
      purchaseModel: { model: string };
      logLikelihoods: Record<string, number>;
      holdout: { chosen: string; errors: Record<string, number>; buckets: { frequency: string }[] };
    };
    expect(Object.keys(report.logLikelihoods).sort()).toEqual(['bgnbd', 'mbgnbd', 'paretonbd']);
    expect(report.purchaseModel.model).toBe(report.holdout.chosen);
    expect(report.holdout.errors[report.holdout.chosen]).toBe(Math.min(...Object.values(report.holdout.errors)));
    expect(report.holdout.buckets).toHaveLength(7);
  });

  it('segflow predict --model pareto-nbd fits Pareto/NBD to the published estimates', async () => {
    const csv = join(dir, 'cdnow.csv');
    const args = ['--customer', 'customer', '--date', 'order_date', '--value', 'amount'];
    const { code, stdout } = await segflow(
      'predict',
      csv,
      ...args,
      '--calibration-end',
      '1997-09-30',
      '--model',
      'pareto-nbd',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Pareto\/NBD: r 0\.553, alpha 10\.578, s 0\.606, beta 11\.66\d, log-likelihood -9595\.0/m);
  });

  it('a churn model with model: auto holds back its horizon, records the table, and says why', async () => {
    const records: (ContactRecord | EventRecord)[] = [];
    const seen = new Set<string>();
    for (const p of purchases) {
      if (!seen.has(p.customer)) records.push(person(`c${p.customer}`));
      seen.add(p.customer);
      records.push(happened(`c${p.customer}`, 'purchase', new Date(p.day * 86_400_000).toISOString(), p.value));
    }
    await load(store, records);
    // Holding back the last 273 days before 1998-06-30 puts the calibration end at 1997-09-30, as above.
    const [report] = await runModels(
      store,
      { churn: { kind: 'churn', model: 'auto', horizon_days: 273 } },
      { now: new Date('1998-06-30T00:00:00.000Z') },
    );
    expect(report!.status).toBe('succeeded');
    expect(report!.summary).toMatch(/^BG\/NBD: the lowest holdout error/);
    const metrics = (await readModelRun(store, report!.runId))!.metrics as unknown as ChurnMetrics;
    expect(metrics.model).toBe('bgnbd');
    expect(metrics.holdout!.calibrationEnd).toBe('1997-09-30');
    expect(metrics.holdout!.table).toBe(formatHoldoutTable(compareByHoldout(purchases, CALIBRATION_END, HOLDOUT_END)));
    // The chosen model is refitted on every purchase up to now, so it scores all 2,357 customers.
    expect(metrics.customers).toBe(2357);
  });

  it('a churn model naming paretonbd scores with Pareto/NBD, which lets one-time buyers drop out', async () => {
    const [report] = await runModels(
      store,
      { churn: { kind: 'churn', model: 'paretonbd', horizon_days: 90 } },
      { now: new Date('1997-09-30T00:00:00.000Z') },
    );
    expect(report!.status).toBe('succeeded');
    const metrics = (await readModelRun(store, report!.runId))!.metrics as unknown as ChurnMetrics;
    expect(metrics.model).toBe('paretonbd');
    expect(metrics.purchaseModel.logLikelihood).toBeLessThan(0);
    const scores = (await store.get(
      "SELECT MIN(value) AS lowest, COUNT(*) AS n FROM model_outputs WHERE model = 'churn' AND output = 'p_alive'",
    )) as { lowest: number; n: number };
    expect(scores.n).toBe(2357);
    expect(scores.lowest).toBeLessThan(0.5);
    const labels = await store.all(
      "SELECT DISTINCT label FROM model_outputs WHERE model = 'churn' AND output = 'scored_by'",
    );
    expect(labels).toEqual([{ label: 'paretonbd' }]);
  });
});

const run = promisify(execFile);
const BIN = new URL('../../bin/segflow.js', import.meta.url).pathname;

async function segflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
