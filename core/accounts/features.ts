import type { Queryable } from '../store/store.js';

/**
 * The account features, as rules name them (`{ account: { feature: engaged_members_30d, gte: 3 } }`):
 * - `members`: contacts that belong to the account;
 * - `engaged_members_30d`: members with an engagement event (anything but a send, bounce or unsubscribe) in 30 days;
 * - `revenue_30d`, `revenue_90d`, `revenue_365d`: the members' purchases and won deals over the window (their values
 *   as recorded, not converted between currencies);
 * - `open_deals`: deals created in the last 365 days, less those won in it (never below 0);
 * - `last_activity_at`, `days_since_last_activity`: the members' latest engagement event.
 *
 * @example
 * ACCOUNT_FEATURE_NAMES.includes('engaged_members_30d'); // true
 */
export const ACCOUNT_FEATURE_NAMES = [
  'members',
  'engaged_members_30d',
  'revenue_30d',
  'revenue_90d',
  'revenue_365d',
  'open_deals',
  'last_activity_at',
  'days_since_last_activity',
] as const;

/** One of {@link ACCOUNT_FEATURE_NAMES}. */
export type AccountFeatureName = (typeof ACCOUNT_FEATURE_NAMES)[number];

/** Event types that are not engagement: what a tool did to the person rather than what the person did. */
export const NOT_ENGAGEMENT = ['email_sent', 'email_bounce', 'email_unsubscribe'] as const;
/** Event types whose value is revenue. */
export const REVENUE_EVENTS = ['purchase', 'deal_won'] as const;

const DAY = 86_400_000;

/**
 * Recomputes every live account's features as of `now` in one statement (and drops those of deleted accounts).
 *
 * @example
 * const n = await computeAccountFeatures(store, new Date('2026-06-30T00:00:00Z')); // accounts computed
 */
export async function computeAccountFeatures(store: Queryable, now: Date): Promise<number> {
  const at = now.toISOString();
  const ago = (days: number) => new Date(now.getTime() - days * DAY).toISOString();
  const not = NOT_ENGAGEMENT.map((t) => `'${t}'`).join(', ');
  const revenue = REVENUE_EVENTS.map((t) => `'${t}'`).join(', ');
  const d = store.dialect;
  const memberEvents = (filter: string) =>
    `FROM account_members am JOIN contact_events e ON e.contact_id = am.contact_id WHERE am.account_id = a.id AND e.occurred_at <= ? AND ${filter}`;
  const revenueSince = `(SELECT COALESCE(SUM(e.value), 0) ${memberEvents(`e.type IN (${revenue}) AND e.occurred_at > ?`)})`;
  return store.transaction(async (tx) => {
    await tx.run('DELETE FROM account_features');
    const result = await tx.run(
      `INSERT INTO account_features (account_id, members, engaged_members_30d, revenue_30d, revenue_90d, revenue_365d,
         open_deals, last_activity_at, days_since_last_activity, computed_at)
       SELECT x.id, x.members, x.engaged, x.r30, x.r90, x.r365, ${d.greatest('x.created - x.won', '0')}, x.last,
         CASE WHEN x.last IS NULL THEN NULL ELSE ? - ${d.julianDay('x.last')} END, ?
       FROM (
         SELECT a.id AS id,
           (SELECT COUNT(*) FROM account_members am WHERE am.account_id = a.id) AS members,
           (SELECT COUNT(DISTINCT am.contact_id) ${memberEvents(`e.type NOT IN (${not}) AND e.occurred_at > ?`)}) AS engaged,
           ${revenueSince} AS r30, ${revenueSince} AS r90, ${revenueSince} AS r365,
           (SELECT COUNT(*) ${memberEvents("e.type = 'deal_created' AND e.occurred_at > ?")}) AS created,
           (SELECT COUNT(*) ${memberEvents("e.type = 'deal_won' AND e.occurred_at > ?")}) AS won,
           (SELECT MAX(e.occurred_at) ${memberEvents(`e.type NOT IN (${not})`)}) AS last
         FROM accounts a WHERE a.deleted = 0
       ) x`,
      [
        now.getTime() / DAY + 2440587.5,
        at,
        at,
        ago(30),
        at,
        ago(30),
        at,
        ago(90),
        at,
        ago(365),
        at,
        ago(365),
        at,
        ago(365),
        at,
      ],
    );
    return result.changes;
  });
}
