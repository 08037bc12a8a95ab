/**
 * The propensity model over the store: a logistic regression predicting an outcome in the next N days (a purchase,
 * or a customer's churn: no purchase), trained on snapshots of the base taken every N days back from `now`. Each
 * snapshot's features are computed from events as they stood at its cutoff, and its outcome from the N days after,
 * so nothing is learnt from the future. Rows are ordered by cutoff: the oldest 70% train, the latest 30% are the
 * holdout that AUC and calibration are reported on. Current contacts are scored with features at `now`.
 */
import type { Queryable } from '../../store/store.js';
import {
  brierScore,
  calibrationTable,
  fitLogistic,
  predictLogistic,
  rocAuc,
  type CalibrationBin,
} from '../logistic/index.js';
import { applyPreparation, fitPreparation, type Preparation } from '../prepare/index.js';
import type { PropensitySettings } from './settings.js';
import type { OutputColumn } from './store.js';

const DAY = 86_400_000;
const WINDOWS = [7, 30, 90, 365] as const;
const ENGAGEMENT = new Set([
  'email_open',
  'email_click',
  'form_submit',
  'page_view',
  'meeting',
  'call',
  'support_ticket',
  'purchase',
  'signup',
  'feature_used',
  'custom',
]);
/** A days-since feature of a contact without such an event: ten years, i.e. "long ago". */
const NEVER_DAYS = 3650;

interface StoredEvent {
  type: string;
  at: number;
  money: number | null;
}

type PointFeature = (events: readonly StoredEvent[], cutoff: number) => number;

const inWindow = (e: StoredEvent, cutoff: number, days: number): boolean =>
  e.at > cutoff - days * DAY && e.at <= cutoff;
const count =
  (type: string, days?: number): PointFeature =>
  (events, cutoff) =>
    events.filter((e) => e.type === type && e.at <= cutoff && (days === undefined || inWindow(e, cutoff, days))).length;
const money =
  (days?: number): PointFeature =>
  (events, cutoff) =>
    events.reduce(
      (s, e) =>
        s +
        (e.type === 'purchase' && e.at <= cutoff && (days === undefined || inWindow(e, cutoff, days))
          ? (e.money ?? 0)
          : 0),
      0,
    );
const daysSince =
  (match: (e: StoredEvent) => boolean, which: 'last' | 'first'): PointFeature =>
  (events, cutoff) => {
    let at: number | null = null;
    for (const e of events) if (e.at <= cutoff && match(e)) at = which === 'first' ? (at ?? e.at) : e.at;
    return at === null ? (which === 'first' ? 0 : NEVER_DAYS) : Math.floor((cutoff - at) / DAY);
  };
const engagement =
  (from: number, to: number): PointFeature =>
  (events, cutoff) =>
    events.filter((e) => ENGAGEMENT.has(e.type) && e.at > cutoff - to * DAY && e.at <= cutoff - from * DAY).length;

/**
 * The features a propensity model can use: the built-in features that depend on events only, computed as of any
 * past moment. Empty days-since values count as ten years; tenure without a purchase is 0.
 */
export const POINT_IN_TIME_FEATURES: Record<string, PointFeature> = {
  days_since_last_purchase: daysSince((e) => e.type === 'purchase', 'last'),
  days_since_last_engagement: daysSince((e) => ENGAGEMENT.has(e.type), 'last'),
  tenure_days: daysSince((e) => e.type === 'purchase', 'first'),
  frequency_all: count('purchase'),
  monetary_all: money(),
  avg_order_value: (events, cutoff) => {
    const n = count('purchase')(events, cutoff);
    return n === 0 ? 0 : money()(events, cutoff) / n;
  },
  ...Object.fromEntries(
    [30, 90, 365].flatMap((w) => [
      [`frequency_${w}d`, count('purchase', w)],
      [`monetary_${w}d`, money(w)],
    ]),
  ),
  ...Object.fromEntries(
    WINDOWS.flatMap((w) => [
      [`emails_sent_${w}d`, count('email_sent', w)],
      [`email_opens_${w}d`, count('email_open', w)],
      [`email_clicks_${w}d`, count('email_click', w)],
    ]),
  ),
  engagement_30d: engagement(0, 30),
  engagement_prev_30d: engagement(30, 60),
  engagement_trend: (events, cutoff) => engagement(0, 30)(events, cutoff) - engagement(30, 60)(events, cutoff),
  support_contacts_90d: count('support_ticket', 90),
  support_contacts_all: count('support_ticket'),
};

/** What a propensity run saves to score contacts later. */
export interface SavedPropensityModel {
  outcome: PropensitySettings['outcome'];
  horizonDays: number;
  preparation: Preparation;
  coefficients: number[];
  intercept: number;
}

export interface PropensityMetrics {
  outcome: PropensitySettings['outcome'];
  horizonDays: number;
  c: number;
  cutoffs: string[];
  train: { rows: number; positiveShare: number; auc: number | null; from: string; to: string };
  holdout: {
    rows: number;
    positiveShare: number;
    auc: number | null;
    brier: number;
    calibration: CalibrationBin[];
    from: string;
    to: string;
  };
  /** Coefficients per standardised feature (log1p first where asked), and the intercept. */
  coefficients: Record<string, number>;
  intercept: number;
  iterations: number;
}

/** Snapshot rows of the base: contact, cutoff, features and outcome. */
export interface PropensityRows {
  contacts: number[];
  cutoffs: number[];
  columns: Record<string, Float64Array>;
  outcomes: Float64Array;
}

async function readEvents(
  store: Queryable,
  now: Date,
  currency: { reporting: string; rates?: Record<string, number> } | undefined,
  ids?: readonly number[],
): Promise<Map<number, StoredEvent[]>> {
  const reporting = currency?.reporting ?? 'USD';
  const rates = new Map<string, number>([[reporting, 1], ...Object.entries(currency?.rates ?? {})]);
  const d = store.dialect;
  // Parameters in text order: the ids (when given), then now.
  // contact_events lists each contact's events in order (and finds a set of contacts' by range seeks).
  const sql = `SELECT e.contact_id, e.type, e.occurred_at, e.value, ${d.jsonField('e.properties', 'currency')} AS currency
    FROM ${ids === undefined ? 'contact_events ce' : `${d.jsonValues('?', 'integer')} AS j ${d.orderedJoin} contact_events ce ON ce.contact_id = j.value`}
    ${d.orderedJoin} events e ON e.id = ce.event_id
    WHERE ce.occurred_at <= ? ORDER BY ce.contact_id, ce.occurred_at, ce.event_id`;
  const params = ids === undefined ? [now.toISOString()] : [JSON.stringify(ids), now.toISOString()];
  const byContact = new Map<number, StoredEvent[]>();
  for await (const batch of store.iterate(sql, params))
    for (const raw of batch) {
      const r = raw as {
        contact_id: number;
        type: string;
        occurred_at: string;
        value: number | null;
        currency: string | null;
      };
      let list = byContact.get(r.contact_id);
      if (!list) byContact.set(r.contact_id, (list = []));
      const rate = r.type === 'purchase' ? rates.get(r.currency ?? reporting) : undefined;
      list.push({
        type: r.type,
        at: Date.parse(r.occurred_at),
        money: r.value === null || rate === undefined ? null : r.value * rate,
      });
    }
  return byContact;
}

/**
 * Builds snapshot rows at the given cutoffs (ms): a contact is in a snapshot when it has an event by the cutoff (for
 * churn, a purchase); the outcome looks at (cutoff, cutoff + horizon]. With `withOutcome` false, outcomes are 0.
 */
export async function propensityRows(
  store: Queryable,
  settings: Pick<PropensitySettings, 'features' | 'outcome' | 'horizon_days'>,
  cutoffs: readonly number[],
  now: Date,
  currency: { reporting: string; rates?: Record<string, number> } | undefined,
  ids?: readonly number[],
): Promise<PropensityRows> {
  const byContact = await readEvents(store, now, currency, ids);
  const horizon = settings.horizon_days * DAY;
  const contacts: number[] = [];
  const at: number[] = [];
  const values: number[][] = settings.features.map(() => []);
  const outcomes: number[] = [];
  for (const cutoff of cutoffs)
    for (const [contact, events] of byContact) {
      const known = events.filter((e) => e.at <= cutoff);
      if (known.length === 0) continue;
      if (settings.outcome === 'churn' && !known.some((e) => e.type === 'purchase')) continue;
      const buys = events.some((e) => e.type === 'purchase' && e.at > cutoff && e.at <= cutoff + horizon);
      contacts.push(contact);
      at.push(cutoff);
      settings.features.forEach((f, j) => values[j]!.push((POINT_IN_TIME_FEATURES[f] as PointFeature)(known, cutoff)));
      outcomes.push(settings.outcome === 'purchase' ? (buys ? 1 : 0) : buys ? 0 : 1);
    }
  const columns: Record<string, Float64Array> = {};
  settings.features.forEach((f, j) => (columns[f] = Float64Array.from(values[j]!)));
  return { contacts, cutoffs: at, columns, outcomes: Float64Array.from(outcomes) };
}

function subset(
  rows: PropensityRows,
  from: number,
  to: number,
): { columns: Record<string, Float64Array>; outcomes: Float64Array } {
  const columns: Record<string, Float64Array> = {};
  for (const [f, v] of Object.entries(rows.columns)) columns[f] = v.slice(from, to);
  return { columns, outcomes: rows.outcomes.slice(from, to) };
}

const share = (v: Float64Array): number => v.reduce((s, x) => s + x, 0) / (v.length || 1);
const iso = (ms: number | undefined): string => new Date(ms ?? 0).toISOString();

/** Checks a propensity model's feature names against the point-in-time features. */
export function checkPropensityFeatures(name: string, features: readonly string[]): void {
  const unknown = features.filter((f) => !(f in POINT_IN_TIME_FEATURES));
  if (unknown.length > 0) {
    throw new Error(
      `models.${name}.features: ${unknown.map((f) => `"${f}"`).join(', ')} cannot be computed as of a past date (use ${Object.keys(POINT_IN_TIME_FEATURES).join(', ')})`,
    );
  }
}

/** Trains on the time-ordered 70% of snapshot rows, reports on the latest 30%, and scores the base at `now`. */
export async function fitPropensityModel(
  store: Queryable,
  name: string,
  settings: PropensitySettings,
  now: Date,
  currency: { reporting: string; rates?: Record<string, number> } | undefined,
): Promise<{
  ids: number[];
  outputs: OutputColumn[];
  metrics: PropensityMetrics;
  saved: SavedPropensityModel;
  summary: string;
}> {
  checkPropensityFeatures(name, settings.features);
  const cutoffs = Array.from(
    { length: settings.snapshots },
    (_, j) => now.getTime() - (settings.snapshots - j) * settings.horizon_days * DAY,
  );
  const rows = await propensityRows(store, settings, cutoffs, now, currency);
  const n = rows.outcomes.length;
  const trainRows = Math.floor(0.7 * n);
  if (trainRows < 2 || n - trainRows < 1)
    throw new Error(
      `models.${name}: ${n} snapshot rows over ${settings.snapshots} cutoffs are too few to train and test on (more history, or more snapshots)`,
    );
  const train = subset(rows, 0, trainRows);
  const holdout = subset(rows, trainRows, n);
  if (share(train.outcomes) === 0 || share(train.outcomes) === 1)
    throw new Error(
      `models.${name}: every training row has the same outcome; nothing to learn (try a longer horizon_days)`,
    );
  const preparation = fitPreparation(train.columns, { features: settings.features, log1p: settings.log1p });
  const model = fitLogistic(applyPreparation(preparation, train.columns), train.outcomes, { c: settings.c });
  const trainScores = predictLogistic(model, applyPreparation(preparation, train.columns));
  const holdoutScores = predictLogistic(model, applyPreparation(preparation, holdout.columns));
  const saved: SavedPropensityModel = {
    outcome: settings.outcome,
    horizonDays: settings.horizon_days,
    preparation,
    coefficients: model.coefficients,
    intercept: model.intercept,
  };
  const current = await scorePropensity(store, saved, settings.features, now, currency);
  const metrics: PropensityMetrics = {
    outcome: settings.outcome,
    horizonDays: settings.horizon_days,
    c: settings.c,
    cutoffs: cutoffs.map((c) => iso(c)),
    train: {
      rows: trainRows,
      positiveShare: share(train.outcomes),
      auc: rocAuc(trainScores, train.outcomes),
      from: iso(rows.cutoffs[0]),
      to: iso(rows.cutoffs[trainRows - 1]),
    },
    holdout: {
      rows: n - trainRows,
      positiveShare: share(holdout.outcomes),
      auc: rocAuc(holdoutScores, holdout.outcomes),
      brier: brierScore(holdoutScores, holdout.outcomes),
      calibration: calibrationTable(holdoutScores, holdout.outcomes),
      from: iso(rows.cutoffs[trainRows]),
      to: iso(rows.cutoffs[n - 1]),
    },
    coefficients: Object.fromEntries(settings.features.map((f, j) => [f, model.coefficients[j] as number])),
    intercept: model.intercept,
    iterations: model.iterations,
  };
  const auc = metrics.holdout.auc;
  return {
    ...current,
    metrics,
    saved,
    summary: `${settings.outcome} in ${settings.horizon_days} days: holdout AUC ${auc === null ? 'n/a (one class)' : auc.toFixed(3)} on ${n - trainRows} rows, trained on ${trainRows}`,
  };
}

/** Scores contacts (all with an event by `now`, or the given ones) with a saved propensity model. */
export async function scorePropensity(
  store: Queryable,
  saved: SavedPropensityModel,
  features: readonly string[],
  now: Date,
  currency: { reporting: string; rates?: Record<string, number> } | undefined,
  ids?: readonly number[],
): Promise<{ ids: number[]; outputs: OutputColumn[] }> {
  const rows = await propensityRows(
    store,
    { features: [...features], outcome: saved.outcome, horizon_days: saved.horizonDays },
    [now.getTime()],
    now,
    currency,
    ids,
  );
  const scores = predictLogistic(saved, applyPreparation(saved.preparation, rows.columns));
  return { ids: rows.contacts, outputs: [{ output: 'probability', values: Array.from(scores) }] };
}
