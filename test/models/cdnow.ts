/** The CDNOW sample (test/fixtures/data/cdnow): raw purchases and the published calibration summary. */
import { readFileSync } from 'node:fs';
import { dayNumber, type Purchase } from '../../core/models/index.js';

export const CDNOW_DIR = new URL('../fixtures/data/cdnow/', import.meta.url);

/** Every purchase of the 2,357 sampled customers, 1997-01-01 to 1998-06-30. */
export function cdnowPurchases(): Purchase[] {
  return readFileSync(new URL('CDNOW_sample.txt', CDNOW_DIR), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, id = '', date = '', , dollars = ''] = line.trim().split(/\s+/);
      return { customer: id, day: dayNumber(date), value: Number(dollars) };
    });
}

/** The published summary in weeks: x, t_x, T at the 1997-09-30 calibration end. */
export function cdnowSummary(): { x: Float64Array; tx: Float64Array; T: Float64Array } {
  const [, ...lines] = readFileSync(new URL('cdnow_customers_summary_with_transactions.csv', CDNOW_DIR), 'utf8')
    .trim()
    .split('\n');
  const rows = lines.map((line) => line.split(',').map(Number));
  const column = (i: number): Float64Array => Float64Array.from(rows, (r) => r[i] as number);
  return { x: column(1), tx: column(2), T: column(3) };
}
