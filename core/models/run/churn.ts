/**
 * The churn model over the store: purchase events summarised per contact at `now` (calibration end), BG/NBD, MBG/NBD
 * or Pareto/NBD for P(alive), churn risk and expected purchases, Gamma-Gamma and CLV over a horizon with a discount
 * rate. With `model: auto` the purchase model is the one that best predicts a holdout: the last `horizon_days`
 * before `now` (at most half the history) are held back, the three are fitted on the purchases before them, their
 * expected purchases are compared with the real ones per calibration-frequency bucket, and the winner is refitted on
 * every purchase up to `now`.
 */
import { dayNumber, summarisePurchases, type CustomerSummary, type Purchase } from '../bgnbd/index.js';
import { lifetimeValue } from '../clv/index.js';
import {
  expectedAverageValue,
  fitSpendModel,
  type SpendModel,
  type SpendModelParameters,
} from '../gammagamma/index.js';
import {
  aliveProbability,
  compareByHoldout,
  expectedPurchasesGiven,
  fitAnyPurchaseModel,
  formatHoldoutTable,
  PURCHASE_MODEL_LABELS,
  purchaseParameters,
  type AnyPurchaseModelParameters,
  type HoldoutComparison,
  type PurchaseModelName,
} from '../purchases/index.js';
import { purchaseModelChoice, type ChurnSettings } from './settings.js';
import type { OutputColumn, StoredPurchase } from './store.js';

/** What a churn run saves, so a contact's scores can be recomputed from its purchases. */
export interface SavedChurnModel {
  purchases: AnyPurchaseModelParameters;
  spend: SpendModelParameters | null;
  horizonDays: number;
  clvHorizonDays: number;
  monthlyDiscountRate: number;
}

export interface ChurnMetrics {
  model: PurchaseModelName;
  reason: string;
  customers: number;
  oneTimeShare: number;
  /** The fitted parameters (a, b for BG/NBD and MBG/NBD; s, beta for Pareto/NBD) with the fit's log-likelihood. */
  purchaseModel: Omit<AnyPurchaseModelParameters, 'model'> & { logLikelihood: number; groups: number };
  /** With `model: auto`: the calibration-versus-holdout comparison that chose the model. */
  holdout?: ChurnHoldout;
  /** In a limit model (see `limit`) q and γ are infinite, written null in JSON, and `note` says why. */
  spendModel: SpendModel | null;
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

/** The holdout comparison as a churn run records it: the table as text, and its figures. */
export interface ChurnHoldout {
  calibrationEnd: string;
  holdoutDays: number;
  customers: number;
  table: string;
  buckets: HoldoutComparison['buckets'];
  errors: Partial<Record<PurchaseModelName, number | null>>;
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
  const summary = summarisePurchases(purchaseDays(purchases), dayNumber(now.toISOString()));
  return { ids: summary.customers.map(Number), summary };
}

function purchaseDays(purchases: readonly StoredPurchase[]): Purchase[] {
  return purchases.map((p) => ({
    customer: String(p.contact),
    day: Math.floor(p.at / 86_400_000),
    value: p.value ?? 0,
  }));
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
    const p = aliveProbability(saved.purchases, x, tx, T);
    alive.push(p);
    risk.push(1 - p);
    expected.push(expectedPurchasesGiven(saved.purchases, weeks, x, tx, T));
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
  let model: PurchaseModelName;
  let reason: string;
  let holdout: ChurnHoldout | undefined;
  if (choice === 'auto') {
    const chosen = chooseByHoldout(purchases, now, settings.horizon_days);
    if (chosen.comparison) {
      const c = chosen.comparison;
      model = c.chosen;
      reason = c.reason;
      holdout = {
        calibrationEnd: new Date(c.calibrationEnd * 86_400_000).toISOString().slice(0, 10),
        holdoutDays: c.holdoutWeeks * 7,
        customers: c.customers,
        table: formatHoldoutTable(c),
        buckets: c.buckets,
        errors: Object.fromEntries(c.models.map((m) => [m.model, m.fitted ? m.error : null])),
      };
    } else {
      model = oneTimeShare > 0.5 ? 'mbgnbd' : 'bgnbd';
      reason = `${PURCHASE_MODEL_LABELS[model]}: ${(oneTimeShare * 100).toFixed(1)}% of customers bought only once (MBG/NBD is chosen above 50%); no holdout comparison: ${chosen.why}`;
    }
  } else {
    model = choice;
    reason = `${PURCHASE_MODEL_LABELS[model]}: set in the config`;
  }
  const fitted = fitAnyPurchaseModel(summary, model);
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
    purchases: purchaseParameters(fitted),
    spend: spend
      ? { p: spend.p, q: spend.q, gamma: spend.gamma, ...(spend.limit ? { limit: spend.limit } : {}) }
      : null,
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
      ...withoutModel(purchaseParameters(fitted)),
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
  if (holdout) metrics.holdout = holdout;
  return { ids, outputs, metrics, saved };
}

function withoutModel(p: AnyPurchaseModelParameters): Omit<AnyPurchaseModelParameters, 'model'> {
  const { model: _model, ...rest } = p;
  return rest;
}

/**
 * The holdout comparison for `model: auto`: the last `horizonDays` before `now` (at most half the span since the
 * first purchase) are the holdout. Null, with the reason, when there is too little history to hold any back.
 */
function chooseByHoldout(
  stored: readonly StoredPurchase[],
  now: Date,
  horizonDays: number,
): { comparison: HoldoutComparison; why?: never } | { comparison: null; why: string } {
  const purchases = purchaseDays(stored);
  const end = dayNumber(now.toISOString());
  let first = Infinity;
  for (const p of purchases) if (p.day < first) first = p.day;
  const days = Math.min(horizonDays, Math.ceil((end - first) / 2));
  if (!(days >= 7))
    return { comparison: null, why: `${end - first} days of history are too few to hold back a week or more` };
  try {
    return { comparison: compareByHoldout(purchases, end - days, end) };
  } catch (error) {
    return { comparison: null, why: error instanceof Error ? error.message : String(error) };
  }
}
