/**
 * `segflow predict` end to end on real invoice lines of UCI Online Retail (test/fixtures/data/online-retail/lines.csv.gz):
 * unit prices × quantities, cancellation invoices, lines without a customer. What the command prints and writes is
 * checked against counts taken straight from the file here, not through segflow's own code.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../core/models/index.js';
import { tempDir } from '../support/temp.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/segflow.js', import.meta.url).pathname;
const dir = tempDir('segflow-retail-predict-');
const csv = join(dir, 'online-retail-lines.csv');
const text = gunzipSync(readFileSync(new URL('../fixtures/data/online-retail/lines.csv.gz', import.meta.url))).toString(
  'utf8',
);
writeFileSync(csv, text);
const CALIBRATION_END = '2011-09-30';

/** The file's lines as the data README describes them (no field holds a comma). */
const lines = text
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => {
    const [invoice, quantity, date, price, customer] = l.split(',') as [string, string, string, string, string];
    return {
      customer,
      cancelled: invoice.startsWith('C'),
      value: Number(quantity) * Number(price),
      day: date.slice(0, 10),
    };
  });
const withCustomer = lines.filter((l) => l.customer !== '');
const purchases = withCustomer.filter((l) => !l.cancelled && l.value >= 0);
/** Purchase days per customer (naive timestamps are UTC: the day is the date as written). */
const days = new Map<string, Set<string>>();
for (const p of purchases) days.set(p.customer, (days.get(p.customer) ?? new Set()).add(p.day));
const onlyReturns = [...new Set(withCustomer.map((l) => l.customer))].filter((c) => !days.has(c));
const late = [...days].filter(([, d]) => [...d].every((day) => day > CALIBRATION_END)).map(([c]) => c);

async function predict(...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ['predict', csv, '--customer', 'CustomerID', '--date', 'InvoiceDate', '--value', 'UnitPrice'];
  args.push('--quantity', 'Quantity', '--invoice', 'InvoiceNo', '--missing-customer', 'skip');
  args.push('--calibration-end', CALIBRATION_END, '--currency', 'GBP', '--json', ...extra);
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Report {
  customers: number;
  linesWithoutCustomer: number;
  customersAfterCalibrationEnd: number;
  returns: { lines: number; cancellations: number; value: number; netted: number; unmatched: number };
  purchaseModel: Record<string, number | string>;
  spendModel: Record<string, number>;
}

/** The --out rows by customer, each a record of its columns. */
function scores(file: string): Map<string, Record<string, string>> {
  const table = parseCsv(readFileSync(file, 'utf8'));
  return new Map(
    table.rows.map((row) => [row[0] ?? '', Object.fromEntries(table.header.map((h, i) => [h, row[i] ?? '']))]),
  );
}

function expectSensibleScores(row: Record<string, string>): void {
  const p = Number(row.p_alive);
  expect(p).toBeGreaterThanOrEqual(0);
  expect(p).toBeLessThanOrEqual(1);
  for (const column of ['expected_purchases', 'expected_average_value', 'clv', 'average_value']) {
    expect(row[column], column).not.toBe('');
    expect(Number.isFinite(Number(row[column])), column).toBe(true);
    expect(Number(row[column]), column).toBeGreaterThanOrEqual(0);
  }
}

describe('segflow predict on Online Retail invoice lines', () => {
  // The data holds what the test is about: cancellations, a customer with nothing but a cancellation, lines
  // without a customer, customers who first bought after the calibration end.
  it('has the cases the test is about', () => {
    expect(withCustomer.filter((l) => l.cancelled).length).toBe(338);
    expect(onlyReturns.length).toBe(1);
    expect(lines.length - withCustomer.length).toBe(1_351);
    expect(late.length).toBeGreaterThan(0);
  });

  it('leaves cancellations out by default: counts as in the file, no customer made by a return, every score finite', async () => {
    const out = join(dir, 'exclude.csv');
    const { code, stdout, stderr } = await predict('--out', out);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.linesWithoutCustomer).toBe(lines.length - withCustomer.length);
    expect(report.returns.cancellations).toBe(338);
    expect(report.returns.lines).toBe(withCustomer.filter((l) => l.cancelled || l.value < 0).length);
    expect(report.returns.value).toBeLessThan(0);
    expect(report.customersAfterCalibrationEnd).toBe(late.length);
    expect(report.customers).toBe(days.size - late.length);
    for (const v of [...Object.values(report.spendModel), report.purchaseModel.logLikelihood])
      expect(Number.isFinite(Number(v))).toBe(true);

    const rows = scores(out);
    expect(rows.size).toBe(days.size);
    for (const customer of onlyReturns) expect(rows.has(customer)).toBe(false);
    for (const [customer, purchaseDays] of days) {
      const row = rows.get(customer)!;
      if (late.includes(customer)) {
        expect(row.p_alive).toBe('');
        expect(row.note).toMatch(/after the calibration end/);
        continue;
      }
      // Repeat purchase days up to the calibration end: a cancellation never adds one.
      const before = [...purchaseDays].filter((d) => d <= CALIBRATION_END).length;
      expect(Number(row.frequency), customer).toBe(before - 1);
      expectSensibleScores(row);
      expect(row).toMatchObject({ currency: 'GBP', as_of: CALIBRATION_END });
    }
  });

  it('nets cancellations against earlier purchases with --returns net, still with finite scores', async () => {
    const out = join(dir, 'net.csv');
    const { code, stdout } = await predict('--returns', 'net', '--out', out);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.returns.cancellations).toBe(338);
    expect(report.returns.netted + report.returns.unmatched).toBe(report.returns.lines);
    expect(report.returns.netted).toBeGreaterThan(0);
    const rows = scores(out);
    for (const customer of onlyReturns) expect(rows.has(customer)).toBe(false);
    expect(rows.size).toBeLessThanOrEqual(days.size);
    for (const [customer, row] of rows)
      if (!late.includes(customer)) {
        expect(Number(row.frequency)).toBeLessThanOrEqual([...days.get(customer)!].length - 1);
        expectSensibleScores(row);
      }
  });

  it('refuses a line without a customer unless told to skip it, naming the line', async () => {
    const { code, stderr } = await predict('--missing-customer', 'error');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/customer id is empty.*--missing-customer skip/);
  });
});
