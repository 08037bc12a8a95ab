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
 * Times of the purchase model are in weeks. The `--out` CSV has one row per customer: customer, frequency,
 * recency_weeks, age_weeks, average_value, p_alive, expected_purchases, expected_average_value, clv, model.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  aliveProbability,
  columnIndex,
  compareByHoldout,
  dayNumber,
  describePurchaseModel,
  expectedAverageValue,
  expectedPurchasesGiven,
  fitAnyPurchaseModel,
  fitSpendModel,
  formatCsv,
  formatHoldoutTable,
  lifetimeValue,
  parseCsv,
  summarisePurchases,
  type AnyPurchaseModel,
  type HoldoutComparison,
  type PurchaseModelName,
  type Purchase,
  type SpendModel,
} from '../../core/models/index.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow predict <transactions.csv> --customer <col> --date <col> --value <col> --calibration-end <date>
                       [--horizon 90d] [--discount 0.01] [--model bgnbd|mbgnbd|pareto-nbd|auto] [--json] [--out file.csv]

Fits the BG/NBD purchase model and the Gamma-Gamma spend model on the purchases up to the calibration end (purchases
on one day count once) and scores every customer: P(alive), expected purchases over the horizon, and lifetime value
over the horizon discounted monthly.

options:
  --customer, --date, --value  the columns of the customer id, the purchase date (YYYY-MM-DD, YYYYMMDD or ISO) and its value
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
    let horizon: number;
    let calibrationEnd: number;
    const discount = Number(o.discount);
    try {
      horizon = horizonDays(o.horizon);
      calibrationEnd = dayNumber(o['calibration-end']);
    } catch (error) {
      return usage((error as Error).message);
    }
    if (!(discount >= 0)) return usage(`--discount expects a rate like 0.01, got "${o.discount}"`);
    try {
      const table = parseCsv(readFileSync(file, 'utf8'));
      const [ci, di, vi] = [o.customer, o.date, o.value].map((c) => columnIndex(table, c)) as [number, number, number];
      const purchases: Purchase[] = table.rows.map((row, line) => {
        const value = Number(row[vi]);
        if (!Number.isFinite(value)) throw new Error(`line ${line + 2}: value "${row[vi] ?? ''}" is not a number`);
        return { customer: row[ci] ?? '', day: dayNumber(row[di] ?? ''), value };
      });
      const summary = summarisePurchases(purchases, calibrationEnd);
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
      let spend: SpendModel | null = null;
      try {
        spend = fitSpendModel(summary.x, summary.monetary);
      } catch {
        spend = null;
      }
      const report = {
        calibrationEnd: day(calibrationEnd),
        horizonDays: horizon,
        monthlyDiscountRate: discount,
        customers: summary.customers.length,
        purchaseModel:
          purchaseModel.model === 'paretonbd'
            ? pick(purchaseModel, ['model', 'r', 'alpha', 's', 'beta', 'logLikelihood'])
            : pick(purchaseModel, ['model', 'r', 'alpha', 'a', 'b', 'logLikelihood']),
        logLikelihoods,
        ...(holdout ? { holdout: holdoutReport(holdout) } : {}),
        spendModel: spend ? pick(spend, ['p', 'q', 'gamma', 'logLikelihood', 'customers']) : null,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const m = purchaseModel;
        process.stdout.write(
          `${summary.customers.length} customers, calibration end ${report.calibrationEnd}\n` +
            (holdout
              ? `holdout: purchases after ${report.calibrationEnd} to ${day(holdout.holdoutEnd)} (${holdout.holdoutWeeks.toFixed(1)} weeks), mean per customer by calibration repeat purchases\n${formatHoldoutTable(holdout)}\nchose ${holdout.reason}\n`
              : '') +
            `${describePurchaseModel(m)}, log-likelihood ${m.logLikelihood.toFixed(1)} (times in weeks)\n` +
            (spend
              ? `Gamma-Gamma on ${spend.customers} repeat buyers: p ${spend.p.toFixed(2)}, q ${spend.q.toFixed(2)}, gamma ${spend.gamma.toFixed(2)}, log-likelihood ${spend.logLikelihood?.toFixed(1) ?? 'unbounded'}${spend.note ? ` (${spend.note})` : ''}\n`
              : 'Gamma-Gamma: not fitted (no repeat buyer with a positive value)\n'),
        );
      }
      if (o.out) {
        const rows = summary.customers.map((customer, i) => {
          const x = summary.x[i] as number;
          const tx = summary.tx[i] as number;
          const T = summary.T[i] as number;
          const monetary = summary.monetary[i] as number;
          const value = spend ? expectedAverageValue(spend, x, monetary) : NaN;
          const clv = spend
            ? lifetimeValue(
                purchaseModel,
                spend,
                { x, tx, T, monetary },
                { horizonDays: horizon, monthlyDiscountRate: discount },
              )
            : NaN;
          return [
            customer,
            x,
            round(tx),
            round(T),
            round(monetary),
            round(aliveProbability(purchaseModel, x, tx, T)),
            round(expectedPurchasesGiven(purchaseModel, horizon / 7, x, tx, T)),
            round(value),
            round(clv),
            purchaseModel.model,
          ];
        });
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
