/** The UCI Online Retail data after the usual RFM preparation (test/fixtures/data/online-retail/, one row a customer). */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { applyPreparation, columnIndex, fitPreparation, parseCsv, type Matrix } from '../../core/models/index.js';

const FILE = new URL('../fixtures/data/online-retail/rfm.csv.gz', import.meta.url);

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
  const column = (name: string): Float64Array =>
    Float64Array.from(table.rows, (row) => Number(row[columnIndex(table, name)]));
  const customers = table.rows.map((row) => row[columnIndex(table, 'customer')] ?? '');
  const columns = { recency: column('recency'), frequency: column('frequency'), monetary: column('monetary') };
  const preparation = fitPreparation(columns, {
    features: ['recency', 'frequency', 'monetary'],
    log1p: ['recency', 'frequency', 'monetary'],
  });
  return {
    lines: column('lines').reduce((s, v) => s + v, 0),
    customers,
    ...columns,
    matrix: applyPreparation(preparation, columns),
  };
}
