/** The UCI Online Retail data with the usual RFM preparation, and a bridge to scikit-learn for reference runs. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { applyPreparation, columnIndex, fitPreparation, parseCsv, type Matrix } from '../../core/models/index.js';

const FILE = new URL('../../../shared/data/online-retail/online_retail.csv.gz', import.meta.url);

export interface RetailRfm {
  lines: number;
  customers: string[];
  recency: Float64Array;
  frequency: Float64Array;
  monetary: Float64Array;
  /** log1p of the three, standardised. */
  matrix: Matrix;
}

export function loadRetailRfm(): RetailRfm {
  const table = parseCsv(gunzipSync(readFileSync(FILE)).toString('utf8'));
  const [invoice, quantity, date, price, customer] = [
    'InvoiceNo',
    'Quantity',
    'InvoiceDate',
    'UnitPrice',
    'CustomerID',
  ].map((c) => columnIndex(table, c)) as [number, number, number, number, number];
  const byCustomer = new Map<string, { last: number; invoices: Set<string>; spend: number }>();
  let lines = 0;
  let latest = -Infinity;
  for (const row of table.rows) {
    const id = row[customer] ?? '';
    const inv = row[invoice] ?? '';
    const q = Number(row[quantity]);
    const p = Number(row[price]);
    if (id === '' || inv.startsWith('C') || !(q > 0) || !(p > 0)) continue;
    lines++;
    const day = Math.floor(Date.parse(`${(row[date] ?? '').slice(0, 10)}T00:00:00Z`) / 86_400_000);
    latest = Math.max(latest, day);
    let c = byCustomer.get(id);
    if (!c) byCustomer.set(id, (c = { last: day, invoices: new Set(), spend: 0 }));
    c.last = Math.max(c.last, day);
    c.invoices.add(inv);
    c.spend += q * p;
  }
  const customers = [...byCustomer.keys()].sort();
  const at = (f: (c: { last: number; invoices: Set<string>; spend: number }) => number): Float64Array =>
    Float64Array.from(customers, (id) => f(byCustomer.get(id)!));
  const recency = at((c) => latest + 1 - c.last);
  const frequency = at((c) => c.invoices.size);
  const monetary = at((c) => c.spend);
  const columns = { recency, frequency, monetary };
  const preparation = fitPreparation(columns, {
    features: ['recency', 'frequency', 'monetary'],
    log1p: ['recency', 'frequency', 'monetary'],
  });
  return { lines, customers, recency, frequency, monetary, matrix: applyPreparation(preparation, columns) };
}

/** Runs a Python snippet with `X` (n × d float64) and extra arrays loaded from temp files; returns its JSON output. */
export function runScikitLearn<T>(matrix: Matrix, script: string, extra: Record<string, Float64Array> = {}): T {
  const dir = mkdtempSync(join(tmpdir(), 'segflow-sklearn-'));
  try {
    writeFileSync(join(dir, 'X.bin'), matrix.values);
    const loads = [
      `X = np.fromfile(${JSON.stringify(join(dir, 'X.bin'))}, dtype=np.float64).reshape(${matrix.rows}, ${matrix.features})`,
    ];
    for (const [name, values] of Object.entries(extra)) {
      writeFileSync(join(dir, `${name}.bin`), values);
      loads.push(`${name} = np.fromfile(${JSON.stringify(join(dir, `${name}.bin`))}, dtype=np.float64)`);
    }
    const program = [
      'import json, sys, time, warnings',
      'import numpy as np',
      'warnings.filterwarnings("ignore")',
      ...loads,
      script,
    ].join('\n');
    writeFileSync(join(dir, 'run.py'), program);
    const out = execFileSync('/usr/bin/python3', [join(dir, 'run.py')], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    return JSON.parse(out) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
