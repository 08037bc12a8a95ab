/**
 * The churn model over the store: purchase events summarised per contact at `now` (calibration end), BG/NBD or
 * MBG/NBD for P(alive), churn risk and expected purchases, Gamma-Gamma and CLV over a horizon with a discount rate.
 */
import {
  conditionalExpectedPurchases,
  dayNumber,
  fitPurchaseModel,
  probabilityAlive,
  summarisePurchases,
  type CustomerSummary,
  type PurchaseModelKind,
  type PurchaseModelParameters,
} from '../bgnbd/index.js';
import { lifetimeValue } from '../clv/index.js';
import { expectedAverageValue, fitSpendModel, type SpendModelParameters } from '../gammagamma/index.js';
import { purchaseModelChoice, type ChurnSettings } from './settings.js';
import type { OutputColumn, StoredPurchase } from './store.js';

/** What a churn run saves, so a contact's scores can be recomputed from its purchases. */
export interface SavedChurnModel {
  purchases: PurchaseModelParameters;
  spend: SpendModelParameters | null;
  horizonDays: number;
  clvHorizonDays: number;
  monthlyDiscountRate: number;
}

export interface ChurnMetrics {
  model: PurchaseModelKind;
  reason: string;
  customers: number;
  oneTimeShare: number;
  purchaseModel: { r: number; alpha: number; a: number; b: number; logLikelihood: number; groups: number };
  spendModel: { p: number; q: number; gamma: number; logLikelihood: number; customers: number } | null;
  /** Why there is no spend model (and so no CLV), when there is none. */
  spendWarning?: string;
  horizonDays: number;
  clvHorizonDays: number;
  monthlyDiscountRate: number;
  meanProbabilityAlive: number;
  /** Customers with churn risk above 0.5 and above 0.7. */
  atRisk: { above50: number; above70: number };
  expectedPurchases: number;
  totalClv: number | null;
}

export interface ChurnOutcome {
  ids: number[];
  outputs: OutputColumn[];
  metrics: ChurnMetrics;
  saved: SavedChurnModel;
}

/** The calibration summary of stored purchases at `now` (times in weeks); ids are contact ids. */
export function churnSummary(
  purchases: readonly StoredPurchase[],
  now: Date,
): { ids: number[]; summary: CustomerSummary } {
  const summary = summarisePurchases(
    purchases.map((p) => ({ customer: String(p.contact), day: Math.floor(p.at / 86_400_000), value: p.value ?? 0 })),
    dayNumber(now.toISOString()),
  );
  return { ids: summary.customers.map(Number), summary };
}

/** Scores every customer of a summary with a saved (or just fitted) model. */
export function scoreChurn(saved: SavedChurnModel, summary: CustomerSummary): OutputColumn[] {
  const n = summary.x.length;
  const alive: number[] = [];
  const risk: number[] = [];
  const expected: number[] = [];
  const clv: (number | null)[] = [];
  const average: (number | null)[] = [];
  const weeks = saved.horizonDays / 7;
  for (let i = 0; i < n; i++) {
    const x = summary.x[i] as number;
    const tx = summary.tx[i] as number;
    const T = summary.T[i] as number;
    const monetary = summary.monetary[i] as number;
    const p = probabilityAlive(saved.purchases, x, tx, T);
    alive.push(p);
    risk.push(1 - p);
    expected.push(conditionalExpectedPurchases(saved.purchases, weeks, x, tx, T));
    if (saved.spend) {
      average.push(expectedAverageValue(saved.spend, x, monetary));
      clv.push(
        lifetimeValue(
          saved.purchases,
          saved.spend,
          { x, tx, T, monetary },
          { horizonDays: saved.clvHorizonDays, monthlyDiscountRate: saved.monthlyDiscountRate },
        ),
      );
    } else {
      average.push(null);
      clv.push(null);
    }
  }
  return [
    { output: 'p_alive', values: alive },
    { output: 'risk', values: risk },
    { output: 'expected_purchases', values: expected },
    { output: 'average_value', values: average },
    { output: 'clv', values: clv },
    { output: 'scored_by', values: alive.map(() => null), labels: alive.map(() => saved.purchases.model) },
  ];
}

/** Fits the purchase and spend models on the stored purchases and scores every customer. */
export function fitChurnModel(
  name: string,
  settings: ChurnSettings,
  purchases: readonly StoredPurchase[],
  now: Date,
): ChurnOutcome {
  const { ids, summary } = churnSummary(purchases, now);
  const n = ids.length;
  if (n === 0)
    throw new Error(
      `models.${name}: no purchase events up to ${now.toISOString()}; a churn model is fitted on customers' purchases`,
    );
  let oneTime = 0;
  for (const x of summary.x) if (x === 0) oneTime++;
  if (oneTime === n)
    throw new Error(
      `models.${name}: all ${n} customers bought once; a churn model needs repeat purchases to learn from`,
    );
  const oneTimeShare = oneTime / n;
  const choice = purchaseModelChoice(settings);
  let model: PurchaseModelKind;
  let reason: string;
  if (choice === 'auto') {
    model = oneTimeShare > 0.5 ? 'mbgnbd' : 'bgnbd';
    reason =
      model === 'mbgnbd'
        ? `MBG/NBD: ${(oneTimeShare * 100).toFixed(1)}% of customers bought only once, and BG/NBD would call every one of them alive`
        : `BG/NBD: ${(oneTimeShare * 100).toFixed(1)}% of customers bought only once (MBG/NBD is chosen above 50%)`;
  } else {
    model = choice;
    reason = `${model === 'bgnbd' ? 'BG/NBD' : 'MBG/NBD'}: set in the config`;
  }
  const fitted = fitPurchaseModel(summary, { model });
  let spend: ChurnMetrics['spendModel'] = null;
  let spendWarning: string | undefined;
  try {
    spend = fitSpendModel(summary.x, summary.monetary);
    if (!(spend.q > 1)) {
      spendWarning = `the spend model's q = ${spend.q.toFixed(3)} is not above 1, so the mean order value is undefined; no CLV`;
      spend = null;
    }
  } catch (error) {
    spendWarning = error instanceof Error ? error.message : String(error);
  }
  const saved: SavedChurnModel = {
    purchases: { model, r: fitted.r, alpha: fitted.alpha, a: fitted.a, b: fitted.b },
    spend: spend ? { p: spend.p, q: spend.q, gamma: spend.gamma } : null,
    horizonDays: settings.horizon_days,
    clvHorizonDays: settings.clv_horizon_days,
    monthlyDiscountRate: settings.monthly_discount_rate,
  };
  const outputs = scoreChurn(saved, summary);
  const values = (output: string): readonly (number | null)[] => outputs.find((o) => o.output === output)?.values ?? [];
  const alive = values('p_alive') as number[];
  const risk = values('risk') as number[];
  const clv = values('clv');
  const metrics: ChurnMetrics = {
    model,
    reason,
    customers: n,
    oneTimeShare,
    purchaseModel: {
      r: fitted.r,
      alpha: fitted.alpha,
      a: fitted.a,
      b: fitted.b,
      logLikelihood: fitted.logLikelihood,
      groups: fitted.groups,
    },
    spendModel: spend,
    horizonDays: settings.horizon_days,
    clvHorizonDays: settings.clv_horizon_days,
    monthlyDiscountRate: settings.monthly_discount_rate,
    meanProbabilityAlive: alive.reduce((s, v) => s + v, 0) / n,
    atRisk: { above50: risk.filter((r) => r > 0.5).length, above70: risk.filter((r) => r > 0.7).length },
    expectedPurchases: (values('expected_purchases') as number[]).reduce((s, v) => s + v, 0),
    totalClv: spend ? clv.reduce<number>((s, v) => s + (v ?? 0), 0) : null,
  };
  if (spendWarning !== undefined) metrics.spendWarning = spendWarning;
  return { ids, outputs, metrics, saved };
}
