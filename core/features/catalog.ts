/**
 * The built-in features: their column names, types and meaning, and the RFM score table. Rules and profiles refer to
 * features by these names.
 */

/** One built-in feature column of `contact_features`. */
export interface FeatureColumn {
  name: string;
  type: 'integer' | 'real' | 'text';
  description: string;
}

/** Windows, in days, over which counts and sums are computed (besides all time). */
export const MONEY_WINDOWS = [30, 90, 365] as const;
export const EMAIL_WINDOWS = [7, 30, 90, 365] as const;

/**
 * Event types that count as the contact's own engagement (recency of engagement, engagement trend). Emails sent to
 * them, bounces, unsubscribes and deals (a salesperson's action) do not.
 */
export const ENGAGEMENT_TYPES = [
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
] as const;

const column = (name: string, type: FeatureColumn['type'], description: string): FeatureColumn => ({
  name,
  type,
  description,
});

/** Every built-in feature, in table order. */
export const FEATURE_COLUMNS: readonly FeatureColumn[] = [
  column('days_since_last_purchase', 'integer', 'whole days since the latest purchase; null when none'),
  column(
    'days_since_last_engagement',
    'integer',
    'whole days since the latest engagement event (opens, clicks, visits, forms, meetings, calls, tickets, purchases, sign-ups, feature use, custom)',
  ),
  column(
    'tenure_days',
    'integer',
    'whole days since the first purchase (how long they have been a customer); null when none',
  ),
  column(
    'days_since_signup',
    'integer',
    'whole days since sign-up: the earlier of the first signup event and the created_at trait',
  ),
  ...MONEY_WINDOWS.map((w) => column(`frequency_${w}d`, 'integer', `purchases in the last ${w} days`)),
  column('frequency_all', 'integer', 'purchases ever'),
  ...MONEY_WINDOWS.map((w) =>
    column(`monetary_${w}d`, 'real', `purchase value in the last ${w} days, in the reporting currency`),
  ),
  column('monetary_all', 'real', 'purchase value ever, in the reporting currency'),
  column('avg_order_value', 'real', 'monetary_all over the purchases whose value could be converted; null when none'),
  ...EMAIL_WINDOWS.flatMap((w) => [
    column(`emails_sent_${w}d`, 'integer', `emails sent in the last ${w} days`),
    column(`email_opens_${w}d`, 'integer', `email opens in the last ${w} days`),
    column(`email_clicks_${w}d`, 'integer', `email clicks in the last ${w} days`),
    column(`open_rate_${w}d`, 'real', `opens per email sent in the last ${w} days; null when none was sent`),
    column(`click_rate_${w}d`, 'real', `clicks per email sent in the last ${w} days; null when none was sent`),
  ]),
  column('engagement_30d', 'integer', 'engagement events in the last 30 days'),
  column('engagement_prev_30d', 'integer', 'engagement events in the 30 days before those'),
  column(
    'engagement_trend',
    'integer',
    'engagement_30d minus engagement_prev_30d: negative when engagement is falling',
  ),
  column(
    'engagement_change',
    'real',
    '(engagement_30d - engagement_prev_30d) / engagement_prev_30d; null when the previous 30 days had none',
  ),
  column('support_contacts_90d', 'integer', 'support tickets in the last 90 days'),
  column('support_contacts_all', 'integer', 'support tickets ever'),
  column('discount_share', 'real', 'share of purchases with a discount property above 0; null when no purchases'),
  column('distinct_categories', 'integer', 'distinct purchase categories ever'),
  column('distinct_features', 'integer', 'distinct features used ever (feature_used events)'),
  column('rfm_recency', 'integer', 'RFM recency score 1-5 (5 = most recent); null when no purchases'),
  column('rfm_frequency', 'integer', 'RFM frequency score 1-5'),
  column('rfm_monetary', 'integer', 'RFM monetary score 1-5'),
  column('rfm_score', 'text', 'the three scores as text, e.g. "545"'),
  column(
    'rfm_segment',
    'text',
    'the classic RFM segment name from the recency and frequency scores (see RFM_SEGMENTS)',
  ),
];

/** Names usable as `score:` in rules (also usable as `feature:`). */
export const SCORE_NAMES = ['rfm_recency', 'rfm_frequency', 'rfm_monetary', 'rfm_score', 'rfm_segment'] as const;

/**
 * The classic RFM segments on the recency (R) × frequency (F) grid of scores, every one of the 25 cells covered once
 * (the widely used R×F map, with R=1,F=1 split off as Lost):
 *
 * | R \ F | 1 | 2 | 3 | 4 | 5 |
 * | --- | --- | --- | --- | --- | --- |
 * | 5 | New | Potential Loyalists | Potential Loyalists | Champions | Champions |
 * | 4 | Promising | Potential Loyalists | Potential Loyalists | Loyal | Loyal |
 * | 3 | About to Sleep | About to Sleep | Need Attention | Loyal | Loyal |
 * | 2 | Hibernating | Hibernating | At Risk | At Risk | Cannot Lose Them |
 * | 1 | Lost | Hibernating | At Risk | At Risk | Cannot Lose Them |
 */
export const RFM_SEGMENTS: readonly { name: string; recency: [number, number]; frequency: [number, number] }[] = [
  { name: 'Champions', recency: [5, 5], frequency: [4, 5] },
  { name: 'Loyal', recency: [3, 4], frequency: [4, 5] },
  { name: 'Potential Loyalists', recency: [4, 5], frequency: [2, 3] },
  { name: 'New', recency: [5, 5], frequency: [1, 1] },
  { name: 'Promising', recency: [4, 4], frequency: [1, 1] },
  { name: 'Need Attention', recency: [3, 3], frequency: [3, 3] },
  { name: 'About to Sleep', recency: [3, 3], frequency: [1, 2] },
  { name: 'At Risk', recency: [1, 2], frequency: [3, 4] },
  { name: 'Cannot Lose Them', recency: [1, 2], frequency: [5, 5] },
  { name: 'Lost', recency: [1, 1], frequency: [1, 1] },
  { name: 'Hibernating', recency: [1, 2], frequency: [1, 2] },
];

/** The RFM segment of a recency and a frequency score. */
export function rfmSegmentName(recency: number, frequency: number): string | undefined {
  return RFM_SEGMENTS.find(
    (s) =>
      recency >= s.recency[0] && recency <= s.recency[1] && frequency >= s.frequency[0] && frequency <= s.frequency[1],
  )?.name;
}

/**
 * A quintile score such that equal values always score the same: 1 + floor(5 × (customers with a strictly worse
 * value) / customers). Worse is a smaller frequency or monetary value, or more days since the last purchase.
 */
export function quintileScore(worse: number, customers: number): number {
  return customers === 0 ? 1 : Math.min(5, 1 + Math.floor((5 * worse) / customers));
}

/** Every built-in feature name. */
export const FEATURE_NAMES: readonly string[] = FEATURE_COLUMNS.map((c) => c.name);
