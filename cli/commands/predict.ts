/**
 * `segflow predict <transactions.csv> --customer <col> --date <col> --value <col> --calibration-end <date>`: builds
 * the frequency / recency / age / average value summary, fits BG/NBD (or MBG/NBD, or Pareto/NBD, or the one of the
 * three that best predicts the holdout) and Gamma-Gamma, prints the parameters and log-likelihood, and writes
 * per-customer P(alive), expected purchases and CLV with `--out`.
 *
 * `--json` prints one object (stable; fields are only ever added):
 * { "calibrationEnd": "YYYY-MM-DD", "horizonDays": number, "monthlyDiscountRate": number, "customers": number,
 *   "purchaseModel": { "model": "bgnbd" | "mbgnbd", "r", "alpha", "a", "b", "logLikelihood": number }
 *                  | { "model": "paretonbd", "r", "alpha", "s", "beta", "logLikelihood": number },
 *   "logLikelihoods": { "bgnbd"?: number, "mbgnbd"?: number, "paretonbd"?: number },
 *   "holdout"?: { "holdoutEnd": "YYYY-MM-DD", "holdoutWeeks": number, "chosen": string, "reason": string,
 *                 "buckets": [{ "frequency": "0" … "6+", "customers", "actual", "predicted": { <model>: number } }],
 *                 "errors": { <model>: number | null } },   (with --model auto)
 *   "spendModel": { "p", "q", "gamma", "logLikelihood", "customers": number } | null }
 * The spend model carries `limit` and `note` when the fit lies on its boundary (q and γ are then null), and
 * `logLikelihood` is null for the constant model. `returns` counts the return lines and what was done with them.
 * Times of the purchase model are in weeks. The `--out` CSV has one row per customer: customer, frequency,
 * recency_weeks, age_weeks, average_value, p_alive, expected_purchases, expected_average_value, clv, model, then the
 * context of every figure in columns (horizon_days, monthly_discount_rate, currency, as_of) and a note: columns
 * rather than comment lines, because a spreadsheet opens them as they are and they stay with each row when it is
 * filtered or pasted elsewhere. A customer whose first purchase is after the calibration end is listed with empty
 * scores and a note saying so.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { checkTimeZone } from '../../plugins/model/timestamps.js';
import { parseArgs } from 'node:util';
import {
  aliveProbability,
  compareByHoldout,
  describePurchaseModel,
  expectedPurchasesGiven,
  fitAnyPurchaseModel,
  formatHoldoutTable,
  type AnyPurchaseModel,
  type HoldoutComparison,
  type PurchaseModelName,
  cellAt,
  columnIndex,
  dayNumber,
  expectedAverageValue,
  fitSpendModel,
  formatCsv,
  lifetimeValue,
  numberCell,
  parseCsv,
  summarisePurchases,
  type Purchase,
  type SpendModel,
} from '../../core/models/index.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow predict <transactions.csv> --customer <col> --date <col> --value <col> --calibration-end <date>
                       [--quantity <col>] [--invoice <col>] [--returns exclude|net] [--timezone <IANA zone>]
                       [--missing-customer error|skip]
                       [--currency EUR] [--horizon 90d] [--discount 0.01] [--model bgnbd|mbgnbd|pareto-nbd|auto] [--json]
                       [--out file.csv]

Fits the BG/NBD purchase model and the Gamma-Gamma spend model on the purchases up to the calibration end (purchases
on one day count once) and scores every customer: P(alive), expected purchases over the horizon, and lifetime value
over the horizon discounted monthly.

options:
  --customer, --date, --value  the columns of the customer id, the purchase date (YYYY-MM-DD, YYYYMMDD,
                               YYYY-MM-DD HH:MM:SS or ISO-8601 with an offset) and its value
  --quantity <col>             a quantity column: a line's value is value × quantity (unit prices)
  --invoice <col>              an invoice column: invoices starting with C are cancellations (returns)
  --returns exclude|net        return lines (cancellations, negative values): left out (default), or netted
                               against the customer's latest purchase day before them (a day netted to 0 or
                               less is no purchase); a return never makes a purchase or a customer
  --missing-customer error|skip  a line without a customer id is an error (default), or left out and counted
  --timezone <zone>            IANA zone of dates written without an offset, and of the days purchases count
                               on (default UTC, whatever the machine's zone)
  --currency <code>            the currency of the values, written beside every figure in --out
  --calibration-end <date>     last day of the calibration period (inclusive)
  --horizon <n>d|w|m|y         horizon of expected purchases and CLV (default 90d)
  --discount <rate>            monthly discount rate for CLV (default 0.01)
  --model bgnbd|mbgnbd|pareto-nbd|auto
                               BG/NBD (default); MBG/NBD also lets one-time buyers drop out; Pareto/NBD lets customers
                               drop out at any time; auto fits all three and keeps the one that best predicts the
                               purchases after the calibration end (the holdout), and prints the holdout table
  --json                       print the fitted models as JSON (see the module comment for the shape)
  --out <file.csv>             write one row per customer
`;

export function horizonDays(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([dwmy]?)$/.exec(text.trim());
  if (!m) throw new Error(`--horizon expects e.g. 90d, 12w, 6m or 1y, got "${text}"`);
  const n = Number(m[1]);
  return n * { '': 1, d: 1, w: 7, m: 365.25 / 12, y: 365.25 }[m[2] as '' | 'd' | 'w' | 'm' | 'y'];
}

export const command: Command = {
  summary: 'fit BG/NBD + Gamma-Gamma on a transactions CSV; P(alive), purchases, CLV',
  usage: 'predict <transactions.csv> --customer <col> ...',
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          customer: { type: 'string' },
          date: { type: 'string' },
          value: { type: 'string' },
          'calibration-end': { type: 'string' },
          horizon: { type: 'string', default: '90d' },
          discount: { type: 'string', default: '0.01' },
          model: { type: 'string', default: 'bgnbd' },
          quantity: { type: 'string' },
          'missing-customer': { type: 'string', default: 'error' },
          invoice: { type: 'string' },
          returns: { type: 'string', default: 'exclude' },
          timezone: { type: 'string', default: 'UTC' },
          currency: { type: 'string', default: '' },
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
    if (!file) return usage('name the transactions CSV');
    if (!o.customer || !o.date || !o.value || !o['calibration-end'])
      return usage('--customer, --date, --value and --calibration-end are required');
    const modelName = o.model === 'pareto-nbd' ? 'paretonbd' : o.model;
    if (!['bgnbd', 'mbgnbd', 'paretonbd', 'auto'].includes(modelName))
      return usage(`--model is bgnbd, mbgnbd, pareto-nbd or auto, got "${o.model}"`);
    if (o['missing-customer'] !== 'error' && o['missing-customer'] !== 'skip')
      return usage(`--missing-customer is error or skip, got "${o['missing-customer']}"`);
    if (o.returns !== 'exclude' && o.returns !== 'net') return usage(`--returns is exclude or net, got "${o.returns}"`);
    let horizon: number;
    let calibrationEnd: number;
    let timeZone: string;
    const discount = Number(o.discount);
    try {
      timeZone = checkTimeZone(o.timezone);
      horizon = horizonDays(o.horizon);
      calibrationEnd = dayNumber(o['calibration-end'], { timeZone });
    } catch (error) {
      return usage(`${(error as Error).message}`);
    }
    if (!/^\d+(\.\d+)?$/.test(o.discount.trim()) || !(discount >= 0))
      return usage(`--discount expects a rate like 0.01, got "${o.discount}"`);
    if (!(horizon > 0) || horizon > 365.25 * 1000)
      return usage(`--horizon must lie between 1 day and 1000 years, got "${o.horizon}"`);
    try {
      const table = parseCsv(readFileSync(file, 'utf8'));
      const named = { customer: o.customer, date: o.date, value: o.value };
      const [ci, di, vi] = [o.customer, o.date, o.value].map((c) => columnIndex(table, c)) as [number, number, number];
      const qi = o.quantity === undefined ? -1 : columnIndex(table, o.quantity);
      const ii = o.invoice === undefined ? -1 : columnIndex(table, o.invoice);
      if (table.rows.length === 0) throw new Error(`${file} has a header but no purchases`);
      const where = (row: number, column: string): string => cellAt(file, table, row, column);
      let anonymous = 0;
      const lines: PurchaseLine[] = table.rows.flatMap((row, r) => {
        const customer = (row[ci] ?? '').trim();
        if (customer === '' && o['missing-customer'] === 'skip') {
          anonymous++;
          return [];
        }
        if (customer === '')
          throw new Error(
            `${where(r, named.customer)}: the customer id is empty (pass --missing-customer skip to leave such lines out)`,
          );
        let day: number;
        try {
          day = dayNumber(row[di] ?? '', { timeZone });
        } catch (error) {
          throw new Error(`${where(r, named.date)}: ${(error as Error).message}`);
        }
        const cell = (at: number, column: string): number => {
          try {
            return numberCell(row[at]);
          } catch (error) {
            throw new Error(`${where(r, column)}: ${(error as Error).message}`);
          }
        };
        const value = cell(vi, named.value) * (qi === -1 ? 1 : cell(qi, o.quantity as string));
        const cancelled = ii !== -1 && (row[ii] ?? '').trim().toUpperCase().startsWith('C');
        return {
          customer,
          day,
          value: cancelled ? -Math.abs(value) : value,
          returned: cancelled || value < 0,
          cancelled,
        };
      });
      const { purchases, returns } = applyReturns(lines, o.returns as 'exclude' | 'net');
      if (purchases.length === 0)
        throw new Error(
          `${file}: none of its ${lines.length} lines is a purchase: all are returns (cancellations or negative values)`,
        );
      const summary = summarisePurchases(purchases, calibrationEnd);
      const asOf = new Date(calibrationEnd * 86_400_000).toISOString().slice(0, 10);
      const scored = new Set(summary.customers);
      const late = [...new Set(purchases.map((p) => p.customer))].filter((c) => !scored.has(c));
      if (summary.customers.length === 0)
        throw new Error(
          `no purchase on or before the calibration end ${asOf}: the models learn from the calibration period; choose a later --calibration-end`,
        );
      const repeat = summary.x.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
      if (repeat === 0)
        throw new Error(
          `every one of the ${summary.customers.length} customers bought on one day only up to ${asOf}: with no repeat purchase the models cannot tell how often customers buy or whether they have left (BG/NBD's a and b, and the spend model, cannot be estimated). Choose a later --calibration-end or use a longer history; until then, rank customers by recency instead`,
        );
      const logLikelihoods: Record<string, number> = {};
      let holdout: HoldoutComparison | null = null;
      let purchaseModel: AnyPurchaseModel;
      if (modelName === 'auto') {
        const holdoutEnd = purchases.reduce((last, p) => Math.max(last, p.day), -Infinity);
        if (!(holdoutEnd > calibrationEnd))
          throw new Error(
            '--model auto compares the models on the purchases after --calibration-end, and there are none',
          );
        holdout = compareByHoldout(purchases, calibrationEnd, holdoutEnd);
        for (const m of holdout.models) if (m.fitted) logLikelihoods[m.model] = m.fitted.logLikelihood;
        purchaseModel = holdout.models.find((m) => m.model === holdout?.chosen)?.fitted as AnyPurchaseModel;
      } else {
        purchaseModel = fitAnyPurchaseModel(summary, modelName as PurchaseModelName);
        logLikelihoods[modelName] = purchaseModel.logLikelihood;
      }
      const spend: SpendModel = fitSpendModel(summary.x, summary.monetary);
      // q is the shape of the spend rates (own-average: of the averages); the population's mean exists above 1.
      if ((!spend.limit || spend.limit.kind === 'own-average') && !(spend.q > 1))
        throw new Error(
          `the spend model's q is ${spend.q.toPrecision(3)}, not above 1: average values are so spread out that the mean order value is infinite, and expected values and CLV would be meaningless. Look for extreme values (a wholesale order, a typo) and leave them out`,
        );
      const report = {
        calibrationEnd: asOf,
        timeZone,
        currency: o.currency === '' ? null : o.currency,
        returns,
        linesWithoutCustomer: anonymous,
        customersAfterCalibrationEnd: late.length,
        horizonDays: horizon,
        monthlyDiscountRate: discount,
        customers: summary.customers.length,
        purchaseModel:
          purchaseModel.model === 'paretonbd'
            ? pick(purchaseModel, ['model', 'r', 'alpha', 's', 'beta', 'logLikelihood'])
            : pick(purchaseModel, ['model', 'r', 'alpha', 'a', 'b', 'logLikelihood']),
        logLikelihoods,
        ...(holdout ? { holdout: holdoutReport(holdout) } : {}),
        spendModel: {
          ...pick(spend, ['p', 'q', 'gamma', 'logLikelihood', 'customers']),
          ...(spend.limit ? { limit: spend.limit, note: spend.note } : {}),
        },
      };
      const returnLine =
        returns.lines === 0
          ? ''
          : o.returns === 'exclude'
            ? `returns: ${returns.lines} return lines (${returns.cancellations} cancellations) left out, worth ${round2(returns.value)}\n`
            : `returns: ${returns.lines} return lines (${returns.cancellations} cancellations) netted, worth ${round2(returns.value)}: ${returns.netted} against an earlier purchase day, ${returns.cancelledDays} purchase days netted to nothing, ${returns.unmatched} without an earlier purchase left out\n`;
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const m = purchaseModel;
        process.stdout.write(
          `${summary.customers.length} customers, calibration end ${report.calibrationEnd} (${timeZone})\n` +
            returnLine +
            (anonymous > 0 ? `${anonymous} lines without a customer id left out\n` : '') +
            (returns.zero > 0 ? `${returns.zero} lines with value 0 (counted as purchases)\n` : '') +
            (late.length > 0
              ? `${late.length} customers first bought after the calibration end: not scored (listed in --out with a note)\n`
              : '') +
            (holdout
              ? `holdout: purchases after ${report.calibrationEnd} to ${day(holdout.holdoutEnd)} (${holdout.holdoutWeeks.toFixed(1)} weeks), mean per customer by calibration repeat purchases\n${formatHoldoutTable(holdout)}\nchose ${holdout.reason}\n`
              : '') +
            `${describePurchaseModel(m)}, log-likelihood ${m.logLikelihood.toFixed(1)} (times in weeks)\n` +
            (spend.limit
              ? `Gamma-Gamma on ${spend.customers} repeat buyers: ${spend.note}${spend.logLikelihood === null ? '' : `; log-likelihood ${spend.logLikelihood.toFixed(1)}`}\n`
              : `Gamma-Gamma on ${spend.customers} repeat buyers: p ${spend.p.toFixed(2)}, q ${spend.q.toFixed(2)}, gamma ${spend.gamma.toFixed(2)}, log-likelihood ${(spend.logLikelihood as number).toFixed(1)}\n`),
        );
      }
      if (o.out) {
        const context = [round(horizon), discount, o.currency === '' ? 'unstated' : o.currency, asOf];
        const rows: (string | number)[][] = summary.customers.map((customer, i) => {
          const x = summary.x[i] as number;
          const tx = summary.tx[i] as number;
          const T = summary.T[i] as number;
          const monetary = summary.monetary[i] as number;
          const value = expectedAverageValue(spend, x, monetary);
          const clv = lifetimeValue(
            purchaseModel,
            spend,
            { x, tx, T, monetary },
            { horizonDays: horizon, monthlyDiscountRate: discount },
          );
          const cells = [
            round(aliveProbability(purchaseModel, x, tx, T)),
            round(expectedPurchasesGiven(purchaseModel, horizon / 7, x, tx, T)),
            round(value),
            round(clv),
          ];
          if (cells.some((c) => c === ''))
            throw new Error(
              `customer ${customer}: a score is not a finite number (x ${x}, t_x ${tx}, T ${T}); please report this with the data`,
            );
          return [customer, x, round(tx), round(T), round(monetary), ...cells, purchaseModel.model, ...context, ''];
        });
        for (const customer of late)
          rows.push([
            customer,
            '',
            '',
            '',
            '',
            '',
            '',
            '',
            '',
            '',
            ...context,
            `first purchase after the calibration end ${asOf}: not scored`,
          ]);
        writeFileSync(
          o.out,
          formatCsv(
            [
              'customer',
              'frequency',
              'recency_weeks',
              'age_weeks',
              'average_value',
              'p_alive',
              'expected_purchases',
              'expected_average_value',
              'clv',
              'model',
              'horizon_days',
              'monthly_discount_rate',
              'currency',
              'as_of',
              'note',
            ],
            rows,
          ),
        );
        if (!o.json) process.stdout.write(`wrote ${rows.length} customers to ${o.out}\n`);
      }
      return EXIT.ok;
    } catch (error) {
      process.stderr.write(`segflow predict: ${(error as Error).message}\n`);
      return EXIT.failed;
    }
  },
};

/** A line of the file: a purchase, or a return (a cancellation or a negative value). */
export type PurchaseLine = Purchase & { returned: boolean; cancelled: boolean };

/** What the returns policy did: counts and the value of the return lines. */
export interface ReturnsReport {
  policy: 'exclude' | 'net';
  /** Return lines: cancellations and lines with a negative value. */
  lines: number;
  cancellations: number;
  /** Their total value (negative). */
  value: number;
  /** Lines with value 0: purchases (a free order is still an order), counted. */
  zero: number;
  /** net: returns subtracted from an earlier purchase day; days netted to 0 or less; returns with no earlier day. */
  netted: number;
  cancelledDays: number;
  unmatched: number;
}

/**
 * Applies the returns policy. A return never adds a purchase or a customer. exclude: return lines are left out. net:
 * each return is subtracted from the customer's latest purchase day on or before it; a day netted to 0 or less is no
 * longer a purchase; a return with no earlier purchase day is left out. A line of value 0 is a purchase.
 */
export function applyReturns(
  lines: readonly PurchaseLine[],
  policy: 'exclude' | 'net',
): { purchases: Purchase[]; returns: ReturnsReport } {
  const returns: ReturnsReport = {
    policy,
    lines: 0,
    cancellations: 0,
    value: 0,
    zero: 0,
    netted: 0,
    cancelledDays: 0,
    unmatched: 0,
  };
  const days = new Map<string, Map<number, number>>();
  const returned: Purchase[] = [];
  const netted = new Set<string>();
  for (const line of lines) {
    if (line.returned) {
      returns.lines++;
      if (line.value <= 0) returns.value += line.value;
      returned.push(line);
      continue;
    }
    if (line.value === 0) returns.zero++;
    let byDay = days.get(line.customer);
    if (!byDay) days.set(line.customer, (byDay = new Map()));
    byDay.set(line.day, (byDay.get(line.day) ?? 0) + line.value);
  }
  returns.cancellations = lines.filter((l) => l.cancelled).length;
  if (policy === 'net') {
    for (const r of returned.sort((a, b) => a.day - b.day)) {
      const byDay = days.get(r.customer);
      let latest = -Infinity;
      for (const day of byDay?.keys() ?? []) if (day <= r.day && day > latest) latest = day;
      if (!byDay || latest === -Infinity) {
        returns.unmatched++;
        continue;
      }
      returns.netted++;
      byDay.set(latest, (byDay.get(latest) as number) - Math.abs(r.value));
      netted.add(`${r.customer}\u0000${latest}`);
    }
  }
  const purchases: Purchase[] = [];
  for (const [customer, byDay] of days)
    for (const [day, value] of byDay) {
      if (value > 0 || !netted.has(`${customer}\u0000${day}`)) purchases.push({ customer, day, value });
      else returns.cancelledDays++;
    }
  return { purchases, returns };
}

function round2(v: number): string {
  return v.toFixed(2);
}

function day(n: number): string {
  return new Date(n * 86_400_000).toISOString().slice(0, 10);
}

function holdoutReport(h: HoldoutComparison): object {
  return {
    holdoutEnd: day(h.holdoutEnd),
    holdoutWeeks: h.holdoutWeeks,
    buckets: h.buckets.map((b) => pick(b, ['frequency', 'customers', 'actual', 'predicted'])),
    errors: Object.fromEntries(h.models.map((m) => [m.model, m.fitted ? m.error : null])),
    chosen: h.chosen,
    reason: h.reason,
  };
}

function pick<T extends object, K extends keyof T>(object: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, object[k]])) as Pick<T, K>;
}

function round(v: number): number | string {
  return Number.isFinite(v) ? Number(v.toPrecision(10)) : '';
}

function usage(message: string): number {
  process.stderr.write(`segflow predict: ${message}\n\n${HELP}`);
  return EXIT.usage;
}
