import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../core/models/index.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/segflow.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'segflow-predict-messy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

export async function segflow(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let files = 0;
function csv(text: string): string {
  const file = join(dir, `t${files++}.csv`);
  writeFileSync(file, text);
  return file;
}

const COLUMNS = ['--customer', 'customer', '--date', 'date', '--value', 'value'];

/** Three customers with repeat purchases, late-evening timestamps without an offset, and one first seen later. */
const base = [
  'customer,date,value',
  'a,2011-01-03 23:30:00,10',
  'a,2011-02-10 23:45:00,12',
  'a,2011-03-01 00:15:00,9',
  'b,2011-01-05 08:00:00,30',
  'b,2011-01-20 23:59:00,25',
  'c,2011-01-07 12:00:00,5',
  'c,2011-03-20 22:00:00,6',
  'c,2011-03-21 01:00:00,7',
  'd,2011-02-01 10:00:00,50',
];

describe('segflow predict on messy transactions', () => {
  it('gives the same report and scores under any TZ: naive times are UTC unless --timezone names a zone', async () => {
    const file = csv(`${base.join('\n')}\n`);
    const args = ['predict', file, ...COLUMNS, '--calibration-end', '2011-04-30', '--json'];
    const utc = await segflow(args, { TZ: 'UTC' });
    const tokyo = await segflow(args, { TZ: 'Asia/Tokyo' });
    const honolulu = await segflow(args, { TZ: 'Pacific/Honolulu' });
    expect(utc.code).toBe(0);
    expect(tokyo.stdout).toBe(utc.stdout);
    expect(honolulu.stdout).toBe(utc.stdout);
    const zoned = await segflow([...args, '--timezone', 'Asia/Tokyo'], { TZ: 'UTC' });
    expect(zoned.code).toBe(0);
    expect(JSON.parse(zoned.stdout).timeZone).toBe('Asia/Tokyo');
    const bad = await segflow([...args, '--timezone', 'Mars/Olympus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Mars\/Olympus" is not a time zone/);
  });

  it.each([
    [
      'an impossible date',
      'a,1997-02-30,10',
      /t\d+\.csv:3, column "date": "1997-02-30" is not a timestamp: February 1997 has 28 days/,
    ],
    ['a bare number as a date', 'a,2,10', /:3, column "date": "2" is not a timestamp: a bare number/],
    ['a year outside 1900–2200', 'a,1850-01-01,10', /:3, column "date": .*outside 1900–2200/],
    ['an empty value', 'a,2011-01-09,', /:3, column "value": the cell is empty/],
    ['NaN', 'a,2011-01-09,NaN', /:3, column "value": "NaN" is not a decimal number/],
    ['hexadecimal', 'a,2011-01-09,0x10', /:3, column "value": "0x10" is not a decimal number/],
    ['text', 'a,2011-01-09,12 EUR', /:3, column "value": "12 EUR" is not a decimal number/],
    ['an empty customer id', ',2011-01-09,10', /:3, column "customer": the customer id is empty/],
  ])('refuses %s with its file, line and column', async (_, line, message) => {
    const file = csv(`customer,date,value\na,2011-01-02,10\n${line}\nb,2011-01-03,4\n`);
    const { code, stderr } = await segflow(['predict', file, ...COLUMNS, '--calibration-end', '2011-04-30']);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('says in a sentence that a file without purchases, or with one, cannot be fitted', async () => {
    const empty = await segflow([
      'predict',
      csv('customer,date,value\n'),
      ...COLUMNS,
      '--calibration-end',
      '2011-04-30',
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/has a header but no purchases/);
    const one = await segflow([
      'predict',
      csv('customer,date,value\na,2011-01-02,10\n'),
      ...COLUMNS,
      '--calibration-end',
      '2011-04-30',
    ]);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/bought on one day only.*cannot be estimated.*later --calibration-end/);
  });

  it('refuses when every customer bought once, with the reason and the remedy, instead of writing blanks', async () => {
    const out = join(dir, 'blank.csv');
    const file = csv('customer,date,value\na,2011-01-02,10\nb,2011-01-05,20\nc,2011-02-01,30\n');
    const { code, stderr } = await segflow([
      'predict',
      file,
      ...COLUMNS,
      '--calibration-end',
      '2011-04-30',
      '--out',
      out,
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/every one of the 3 customers bought on one day only/);
    expect(stderr).toMatch(/Choose a later --calibration-end or use a longer history/);
  });

  it('keeps customers first seen after the calibration end in --out, with a note, and states the context of every figure', async () => {
    const out = join(dir, 'scores.csv');
    const file = csv(`${[...base, 'e,2011-05-03,20'].join('\n')}\n`);
    const { code, stdout } = await segflow([
      'predict',
      file,
      ...COLUMNS,
      '--calibration-end',
      '2011-04-30',
      '--horizon',
      '10y',
      '--discount',
      '0.02',
      '--currency',
      'GBP',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/1 customers first bought after the calibration end/);
    const table = parseCsv(readFileSync(out, 'utf8'));
    expect(table.header.slice(-5)).toEqual(['horizon_days', 'monthly_discount_rate', 'currency', 'as_of', 'note']);
    const col = (name: string): number => table.header.indexOf(name);
    const late = table.rows.find((r) => r[0] === 'e')!;
    expect(late[col('note')]).toMatch(/first purchase after the calibration end 2011-04-30/);
    expect(late[col('p_alive')]).toBe('');
    for (const row of table.rows) {
      expect(row[col('horizon_days')]).toBe('3652.5');
      expect(row[col('monthly_discount_rate')]).toBe('0.02');
      expect(row[col('currency')]).toBe('GBP');
      expect(row[col('as_of')]).toBe('2011-04-30');
      if (row[0] !== 'e')
        for (const c of ['p_alive', 'expected_purchases', 'clv'])
          expect(Number.isFinite(Number(row[col(c)]))).toBe(true);
    }
  });

  it('never counts a return as a purchase: excluded by default, or netted, with the counts printed', async () => {
    const lines = [
      'invoice,customer,date,value,qty',
      '1,a,2011-01-03,10,1',
      '2,a,2011-02-03,12,1',
      'C3,a,2011-02-05,12,1',
      '4,b,2011-01-04,20,2',
      '5,b,2011-03-04,20,1',
      'C6,z,2011-03-05,8,1',
      '7,b,2011-03-06,-5,1',
    ];
    const file = csv(`${lines.join('\n')}\n`);
    const args = [
      'predict',
      file,
      ...COLUMNS,
      '--quantity',
      'qty',
      '--invoice',
      'invoice',
      '--calibration-end',
      '2011-04-30',
      '--json',
    ];
    const excluded = await segflow(args);
    expect(excluded.code).toBe(0);
    const ex = JSON.parse(excluded.stdout);
    expect(ex.customers).toBe(2); // z exists only because of a return: not a customer
    expect(ex.returns).toMatchObject({ policy: 'exclude', lines: 3, cancellations: 2, value: -25 });
    const netted = await segflow([...args, '--returns', 'net']);
    const net = JSON.parse(netted.stdout);
    expect(net.customers).toBe(2);
    // a's 2011-02-03 purchase is fully returned: a bought on one day only; b's 2011-03-04 nets to 15.
    expect(net.returns).toMatchObject({ policy: 'net', lines: 3, netted: 2, cancelledDays: 1, unmatched: 1 });
    const text = await segflow(args.filter((a) => a !== '--json'));
    expect(text.stdout).toMatch(/returns: 3 return lines \(2 cancellations\) left out, worth -25.00/);
  });

  it('reports the limit model when spend is flat, and the constant when every value is the same', async () => {
    const rows = ['customer,date,value'];
    for (let c = 0; c < 30; c++)
      for (let k = 0; k <= 1 + (c % 4); k++) rows.push(`c${c},2011-0${1 + k}-${10 + (c % 9)},1`);
    const { code, stdout } = await segflow([
      'predict',
      csv(`${rows.join('\n')}\n`),
      ...COLUMNS,
      '--calibration-end',
      '2011-12-31',
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.spendModel.limit).toEqual({ kind: 'constant', value: 1 });
    expect(report.spendModel.logLikelihood).toBeNull();
    expect(report.spendModel.note).toMatch(/same average value, 1/);
  });
});
