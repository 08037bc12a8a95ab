import type { Queryable } from '../store/store.js';
import { ENGAGEMENT_TYPES } from '../features/catalog.js';
import { welchInterval, newcombeInterval, type Interval } from './intervals.js';
import type { HoldoutOutcomeName } from './grammar.js';

/** What a holdout compares: purchases or revenue per member, or the share who churned (no own activity). */
export interface HoldoutOutcome {
  outcome: HoldoutOutcomeName;
  /** The window after each contact entered the segment (or its control group) over which the outcome is measured. */
  days: number;
}

/** One side of the comparison. */
export interface HoldoutGroup {
  /** Contacts whose window has ended (the ones compared). */
  members: number;
  /** Contacts who entered too recently for their window to have ended. */
  pending: number;
  /** Mean outcome per member (a share for churn). */
  mean: number | null;
}

/** Treated (pushed) against control (held out) members of a segment, with a confidence interval of the difference. */
export interface HoldoutReport {
  key: string;
  outcome: HoldoutOutcome['outcome'];
  days: number;
  treated: HoldoutGroup;
  control: HoldoutGroup;
  /** treated mean − control mean, with its interval (Welch's t for means, Newcombe's hybrid score for shares). */
  difference: Interval | null;
  method: 'welch' | 'newcombe';
}

/** Options of a holdout report. */
export interface HoldoutReportOptions extends Partial<HoldoutOutcome> {
  now?: Date;
  /** Reporting currency and rates, as for features (revenue). */
  currency?: { reporting: string; rates?: Record<string, number> };
  /** Confidence level of the interval (default 0.95). */
  confidence?: number;
}

const TYPES_ENGAGEMENT = ENGAGEMENT_TYPES.map((t) => `'${t}'`).join(', ');

/**
 * Compares an outcome between a segment's treated members (those in `membership_history`) and its control group
 * (`segment_holdout_history`), intent-to-treat: every contact that ever entered counts once, from its first entry,
 * whether or not it left later, and only once its window of `days` has ended by `now`. Revenue is in the reporting
 * currency (purchases without a rate left out, as for features); churn is the share with no activity of their own in
 * the window.
 *
 * @example
 * const r = holdoutReport(store, 'win_back', { outcome: 'revenue', days: 30, now });
 * r.difference; // { estimate: 4.2, low: 1.1, high: 7.3, confidence: 0.95 }
 */
export async function holdoutReport(
  store: Queryable,
  key: string,
  options: HoldoutReportOptions = {},
): Promise<HoldoutReport> {
  const now = options.now ?? new Date();
  const outcome = options.outcome ?? 'revenue';
  const days = options.days ?? 30;
  const confidence = options.confidence ?? 0.95;
  const reporting = options.currency?.reporting ?? 'USD';
  const rates = JSON.stringify({ ...(options.currency?.rates ?? {}), [reporting]: 1 });
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
  const d = store.dialect;
  const windowEnd = d.addDays('m.entered_at', days);
  const inWindow = `e.contact_id = m.contact_id AND e.occurred_at > m.entered_at AND e.occurred_at <= ${windowEnd}`;
  const value =
    outcome === 'purchases'
      ? `(SELECT COUNT(*) FROM contact_events e WHERE ${inWindow} AND e.type = 'purchase')`
      : outcome === 'revenue'
        ? `COALESCE((SELECT SUM(e.value * ${d.jsonObjectNumber('?', 'COALESCE(e.currency, ?)')}) FROM contact_events e WHERE ${inWindow} AND e.type = 'purchase'), 0)`
        : `CASE WHEN EXISTS (SELECT 1 FROM contact_events e WHERE ${inWindow} AND e.type IN (${TYPES_ENGAGEMENT})) THEN 0 ELSE 1 END`;
  const valueParams = outcome === 'revenue' ? [rates, reporting] : [];
  const read = async (table: string, exclude: string): Promise<{ done: number[]; pending: number }> => {
    const rows = (await store.all(
      `SELECT CASE WHEN m.entered_at <= ? THEN 1 ELSE 0 END AS done, CASE WHEN m.entered_at <= ? THEN ${value} END AS value
         FROM (SELECT contact_id, MIN(entered_at) AS entered_at FROM ${table} WHERE segment_key = ?${exclude} GROUP BY contact_id) AS m`,
      [cutoff, cutoff, ...valueParams, key, ...(exclude ? [key] : [])],
    )) as { done: number; value: number | null }[];
    return {
      done: rows.filter((r) => r.done).map((r) => Number(r.value ?? 0)),
      pending: rows.filter((r) => !r.done).length,
    };
  };
  const control = await read('segment_holdout_history', '');
  // A contact in both (the share changed between runs) is counted on the control side only.
  const treated = await read(
    'membership_history',
    ' AND contact_id NOT IN (SELECT contact_id FROM segment_holdout_history WHERE segment_key = ?)',
  );
  const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  const group = (g: { done: number[]; pending: number }): HoldoutGroup => ({
    members: g.done.length,
    pending: g.pending,
    mean: mean(g.done),
  });
  const difference =
    outcome === 'churn'
      ? newcombeInterval(sum(treated.done), treated.done.length, sum(control.done), control.done.length, confidence)
      : welchInterval(treated.done, control.done, confidence);
  return {
    key,
    outcome,
    days,
    treated: group(treated),
    control: group(control),
    difference,
    method: outcome === 'churn' ? 'newcombe' : 'welch',
  };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
