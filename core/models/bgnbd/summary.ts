/** Builds the per-customer frequency / recency / age / average value summary the prediction models are fitted on. */
import { calendarDay, parseTimestamp } from '../../../plugins/model/timestamps.js';

/** One customer's calibration summary; times are in weeks. */
export interface CustomerSummary {
  /** Repeat purchase days in the calibration period (purchases on one day count once). */
  x: Float64Array;
  /** Weeks from the first purchase to the last one in the calibration period. */
  tx: Float64Array;
  /** Weeks from the first purchase to the calibration end. */
  T: Float64Array;
  /** Mean value of the repeat purchase days (same-day purchases summed); 0 when x = 0. */
  monetary: Float64Array;
  /** Purchase days after the calibration end (the holdout), for validation. */
  holdout: Float64Array;
  /** Customer ids, in the order of the arrays. */
  customers: string[];
}

export interface Purchase {
  customer: string;
  /** Whole days since 1970-01-01 (see {@link dayNumber}). */
  day: number;
  value: number;
}

/**
 * Whole days since 1970-01-01 of the calendar day a timestamp falls on in `timeZone` (UTC by default), read by the one
 * timestamp parser (plugins/model/timestamps): `YYYY-MM-DD`, `YYYYMMDD`, naive `YYYY-MM-DD HH:MM:SS` (in the zone),
 * or ISO-8601 with an offset. Impossible dates, bare numbers and years outside 1900–2200 throw a TimestampError.
 *
 * @example
 * dayNumber('1997-09-30') - dayNumber('19970101'); // 272
 */
export function dayNumber(text: string, options: { timeZone?: string } = {}): number {
  const timeZone = options.timeZone ?? 'UTC';
  return calendarDay(parseTimestamp(text, { compactDates: true, timeZone }), timeZone);
}

/**
 * Summarises purchases at a calibration end (a day number, inclusive). Customers whose first purchase is after the
 * calibration end are left out.
 *
 * @example
 * const summary = summarisePurchases(purchases, dayNumber('1997-09-30'));
 */
export function summarisePurchases(purchases: Iterable<Purchase>, calibrationEnd: number): CustomerSummary {
  const days = new Map<string, Map<number, number>>();
  for (const p of purchases) {
    let byDay = days.get(p.customer);
    if (!byDay) days.set(p.customer, (byDay = new Map()));
    byDay.set(p.day, (byDay.get(p.day) ?? 0) + p.value);
  }
  const customers: string[] = [];
  const rows: [number, number, number, number, number][] = [];
  for (const [customer, byDay] of days) {
    let first = Infinity;
    let last = -Infinity;
    let count = 0;
    let holdout = 0;
    let total = 0;
    for (const day of byDay.keys()) {
      if (day > calibrationEnd) holdout++;
      else {
        count++;
        if (day < first) first = day;
        if (day > last) last = day;
      }
    }
    if (count === 0) continue;
    for (const [day, value] of byDay) if (day <= calibrationEnd && day !== first) total += value;
    const x = count - 1;
    customers.push(customer);
    rows.push([x, (last - first) / 7, (calibrationEnd - first) / 7, x > 0 ? total / x : 0, holdout]);
  }
  const column = (i: number): Float64Array => Float64Array.from(rows, (r) => r[i] as number);
  return { x: column(0), tx: column(1), T: column(2), monetary: column(3), holdout: column(4), customers };
}
