import type { Queryable } from '../store/store.js';
import { EMAIL_WINDOWS, ENGAGEMENT_TYPES, FEATURE_COLUMNS, MONEY_WINDOWS, RFM_SEGMENTS } from './catalog.js';
import { rebuildContactEventsSql } from './migrations.js';
import { before, binder, compileEventFilter, eventOfContact, fieldName, type Binder } from './filters.js';
import type { Dialect, SqlValue } from '../store/dialect.js';
import { aggregateParts, startAggregate } from './parallel.js';
import { rmSync } from 'node:fs';
import { AsyncResource } from 'node:async_hooks';
import type { FeatureAggregate } from '../segments/grammar.js';

/** A feature the config defines as an aggregate over one event type (`features:` in YAML). */
export interface ExpressionFeature {
  agg: FeatureAggregate;
  event: string;
  /** The property aggregated; the event's value when left out. */
  property?: string | undefined;
  where?: Record<string, unknown> | undefined;
  within?: string | undefined;
}

/** Options of a feature computation. */
export interface FeatureOptions {
  /** The moment the features describe: events after it are ignored, windows end at it. */
  now?: Date;
  /** Reporting currency and the rates (units of reporting currency per unit) of the others. */
  currency?: { reporting: string; rates?: Record<string, number> };
  /** Expression features by name, stored in `contact_features.custom`. */
  features?: Record<string, ExpressionFeature>;
  /**
   * Threads (SQLite) or connections (PostgreSQL) for the whole-base aggregate of `computeFeatures`: by default 2 from
   * 200,000 contacts, on SQLite when this machine has two cores or more, on PostgreSQL up to `connections`; else 1.
   * Same results either way.
   */
  threads?: number;
  /**
   * On a PostgreSQL store, the connections (server processes) the whole-base aggregate may use: config
   * `store.compute_connections`, default 2. The server's cores do that work, not this machine's.
   */
  connections?: number;
}

/** What a computation did. */
export interface FeatureRun {
  contacts: number;
  /** Purchases left out of money features because their currency has no rate. */
  unconvertedPurchases: number;
  warnings: string[];
}

/**
 * Each event's type is coded once per row as a small integer (`e.t`): the types the aggregates single out get their
 * own code, those that are not engagement first, so that "is engagement" is `e.t > ` the last of them; the other
 * engagement types share one code; anything else is 0. The CASE tests the most frequent types first.
 */
const SINGLED = [
  'email_sent',
  'email_open',
  'purchase',
  'email_click',
  'feature_used',
  'support_ticket',
  'signup',
] as const;
const CODED = [...SINGLED.filter((t) => !isEngagement(t)), ...SINGLED.filter((t) => isEngagement(t))];
const LAST_NOT_ENGAGED = SINGLED.filter((t) => !isEngagement(t)).length;
const OTHER_ENGAGED = CODED.length + 1;
const is = (type: (typeof SINGLED)[number]): string => `e.t = ${CODED.indexOf(type) + 1}`;
const ENGAGED = `e.t > ${LAST_NOT_ENGAGED}`;
function isEngagement(type: string): boolean {
  return (ENGAGEMENT_TYPES as readonly string[]).includes(type);
}
const TYPE_CODE = `CASE e.type ${[
  ...SINGLED.map((t) => `WHEN '${t}' THEN ${CODED.indexOf(t) + 1}`),
  ...ENGAGEMENT_TYPES.filter((t) => !(SINGLED as readonly string[]).includes(t)).map(
    (t) => `WHEN '${t}' THEN ${OTHER_ENGAGED}`,
  ),
].join(' ')} ELSE 0 END`;
/** Every window the aggregates use, in days, shortest first: `e.w` is the index of the shortest one an event is in. */
const WINDOWS = [...new Set([...EMAIL_WINDOWS, ...MONEY_WINDOWS, 60])].sort((x, y) => x - y);
const within = (days: number): string => `e.w <= ${WINDOWS.indexOf(days)}`;

/**
 * The built-in aggregates, one row per contact with events, read from `contact_events` in its (contact) order. Each
 * row is read once into a few small values (type code `t`, window index `w`, converted money), and each aggregate
 * takes its rows through FILTER, so a row steps only the aggregates it counts in: about a third of the cost per row
 * of SUM(CASE ...) over the stored columns, which steps every aggregate with every row and re-reads each column.
 */
function aggregateSql(b: Binder, now: Date, reporting: string, ids: string | undefined, range = ''): string {
  const purchase = is('purchase');
  const count = (where: string): string => `COUNT(*) FILTER (WHERE ${where})`;
  const cols: string[] = [
    `MAX(e.occurred_at) FILTER (WHERE ${purchase}) AS last_purchase_at`,
    `MIN(e.occurred_at) FILTER (WHERE ${purchase}) AS first_purchase_at`,
    `MAX(e.occurred_at) FILTER (WHERE ${ENGAGED}) AS last_engagement_at`,
    `MIN(e.occurred_at) FILTER (WHERE ${is('signup')}) AS signup_at`,
  ];
  for (const w of MONEY_WINDOWS) cols.push(`${count(`${purchase} AND ${within(w)}`)} AS frequency_${w}d`);
  cols.push(`${count(purchase)} AS frequency_all`);
  for (const w of MONEY_WINDOWS)
    cols.push(`SUM(e.money) FILTER (WHERE ${purchase} AND ${within(w)}) AS monetary_${w}d`);
  cols.push(`SUM(e.money) FILTER (WHERE ${purchase}) AS monetary_all`);
  cols.push(`COUNT(e.money) FILTER (WHERE ${purchase}) AS converted_purchases`);
  cols.push(`${count(`${purchase} AND e.value IS NOT NULL AND e.money IS NULL`)} AS unconverted_purchases`);
  for (const w of EMAIL_WINDOWS) {
    cols.push(`${count(`${is('email_sent')} AND ${within(w)}`)} AS emails_sent_${w}d`);
    cols.push(`${count(`${is('email_open')} AND ${within(w)}`)} AS email_opens_${w}d`);
    cols.push(`${count(`${is('email_click')} AND ${within(w)}`)} AS email_clicks_${w}d`);
  }
  cols.push(`${count(`${within(30)} AND ${ENGAGED}`)} AS engagement_30d`);
  cols.push(`${count(`e.w = ${WINDOWS.indexOf(60)} AND ${ENGAGED}`)} AS engagement_prev_30d`);
  cols.push(`${count(`${is('support_ticket')} AND ${within(90)}`)} AS support_contacts_90d`);
  cols.push(`${count(is('support_ticket'))} AS support_contacts_all`);
  cols.push(`${count(`${purchase} AND e.discount > 0`)} AS discounted_purchases`);
  cols.push(`COUNT(DISTINCT e.label) FILTER (WHERE ${purchase}) AS distinct_categories`);
  cols.push(`COUNT(DISTINCT e.label) FILTER (WHERE ${is('feature_used')}) AS distinct_features`);
  const d = b.dialect;
  const windowIndex = `CASE ${WINDOWS.map((d, i) => `WHEN e.occurred_at > ${b.bind(before(now, `${d}d`))} THEN ${i}`).join(' ')} ELSE ${WINDOWS.length} END`;
  // contact_events is clustered by contact, so GROUP BY walks it in order without a sort, and a set of contacts is
  // one range seek each. Only purchases look their currency's rate up, through a subquery rather than a join (a join
  // lets PostgreSQL hash it, which loses the contact order and sorts every event again). The LIMIT keeps SQLite from
  // flattening the per-row subquery into the aggregate (a subquery with LIMIT under an aggregate is never flattened),
  // which would evaluate its CASEs again in every aggregate that reads them.
  return `SELECT e.contact_id AS contact_id, ${cols.join(',\n  ')}
    FROM (SELECT e.contact_id, e.occurred_at, e.value, e.discount, e.label, ${TYPE_CODE} AS t, ${windowIndex} AS w,
            CASE WHEN e.type = 'purchase' THEN e.value * (SELECT r.rate FROM ${d.temp('feature_rates')} r WHERE r.code = COALESCE(e.currency, ${b.bind(reporting)})) END AS money
          FROM contact_events e
          WHERE e.occurred_at <= ${b.bind(now.toISOString())}${ids ? ` AND e.contact_id IN (SELECT value FROM ${d.jsonValues(ids, 'integer')} AS j)` : ''}${range}
          ORDER BY e.contact_id ${d.noLimit}) AS e
    GROUP BY e.contact_id`;
}

/** Expression features from config (not first/last), aggregated over the raw events of the types they name. */
function expressionSql(
  b: Binder,
  now: Date,
  features: Record<string, ExpressionFeature>,
  ids: string | undefined,
): string | undefined {
  const cols: string[] = [];
  const types = new Set<string>();
  Object.entries(features).forEach(([, f], i) => {
    if (f.agg === 'first' || f.agg === 'last') return;
    types.add(f.event);
    const cond = [
      `e.type = ${b.bind(f.event)}`,
      ...(f.within ? [`e.occurred_at > ${b.bind(before(now, f.within))}`] : []),
      ...compileEventFilter('e', f.where, b, now),
    ].join(' AND ');
    const target =
      f.property === undefined || f.property === 'value'
        ? 'e.value'
        : b.dialect.jsonField('e.properties', fieldName(f.property), 'real');
    const agg =
      f.agg === 'count'
        ? `COUNT(*) FILTER (WHERE ${cond})`
        : `${f.agg.toUpperCase()}(${target}) FILTER (WHERE ${cond})`;
    cols.push(`${agg} AS x_${i}`);
  });
  if (cols.length === 0) return undefined;
  return `SELECT e.contact_id AS contact_id, ${cols.join(',\n  ')}
    FROM ${ids ? 'events e' : b.dialect.unindexedTable('events e')}
    WHERE e.occurred_at <= ${b.bind(now.toISOString())} AND e.type IN (SELECT value FROM ${b.dialect.jsonValues(b.bind(JSON.stringify([...types])), 'text')} AS t)${ids ? ` AND ${eventOfContact(b.dialect, 'e', (c) => `${c} IN (SELECT value FROM ${b.dialect.jsonValues(ids, 'integer')} AS j)`)}` : ''}
    GROUP BY e.contact_id`;
}

function firstLastSql(f: ExpressionFeature, b: Binder, now: Date): string {
  const target =
    f.property === undefined || f.property === 'value'
      ? 'x.value'
      : b.dialect.jsonField('x.properties', fieldName(f.property));
  const cond = [
    eventOfContact(
      b.dialect,
      'x',
      (c) => `${c} = c.id`,
      (t) => `${t} = ${b.bind(f.event)}`,
    ),
    `x.type = ${b.bind(f.event)}`,
    `x.occurred_at <= ${b.bind(now.toISOString())}`,
    ...(f.within ? [`x.occurred_at > ${b.bind(before(now, f.within))}`] : []),
    ...compileEventFilter('x', f.where, b, now),
  ].join(' AND ');
  const order = f.agg === 'first' ? 'x.occurred_at ASC, x.id ASC' : 'x.occurred_at DESC, x.id DESC';
  return `(SELECT ${target} FROM events x WHERE ${cond} ORDER BY ${order} LIMIT 1)`;
}

const days = (d: Dialect, nowParam: string, at: string): string =>
  d.truncate(`${d.julianDay(nowParam)} - ${d.julianDay(at)}`);

/**
 * The features that move with the clock alone, and the date each counts the days since (stored beside it). An
 * incremental run refreshes them for every contact from the stored dates (refreshClockFeatures), without reading
 * events, instead of storing dates in their place: rules, profiles and pushes keep reading day counts.
 */
const CLOCK = [
  { feature: 'days_since_last_purchase', date: 'last_purchase_at' },
  { feature: 'days_since_last_engagement', date: 'last_engagement_at' },
  { feature: 'tenure_days', date: 'first_purchase_at' },
  { feature: 'days_since_signup', date: 'signed_up_at' },
] as const;

/** The RFM dimensions: the feature scored, and whether a larger value is better. */
const DIMENSIONS = [
  { dimension: 'recency', column: 'days_since_last_purchase', higherIsBetter: false },
  { dimension: 'frequency', column: 'frequency_all', higherIsBetter: true },
  { dimension: 'monetary', column: 'monetary_all', higherIsBetter: true },
] as const;

/** A quintile breakpoint of the last full computation: a value strictly better than `bound` beats it. */
interface Breakpoint {
  dimension: string;
  bound: number;
}

/**
 * The RFM columns from the scored features (`value(column)` is the SQL of a feature's value): each score is 1 + the
 * number of breakpoints beaten, bound as parameters; the segment name is looked up from the R×F cell in one CASE.
 */
function rfmExprs(
  b: Binder,
  breakpoints: readonly Breakpoint[],
  value: (column: string) => string,
): Record<string, string> {
  const customer = `${value('frequency_all')} > 0`;
  const [r, f, m] = DIMENSIONS.map((d) => {
    const beaten = breakpoints
      .filter((p) => p.dimension === d.dimension)
      .map(
        (p) => `(CASE WHEN ${value(d.column)} ${d.higherIsBetter ? '>' : '<'} ${b.bind(p.bound)} THEN 1 ELSE 0 END)`,
      );
    return `(1${beaten.map((x) => ` + ${x}`).join('')})`;
  }) as [string, string, string];
  const cells = RFM_SEGMENTS.flatMap((s) => {
    const out: string[] = [];
    for (let rs = s.recency[0]; rs <= s.recency[1]; rs++)
      for (let fs = s.frequency[0]; fs <= s.frequency[1]; fs++) out.push(`WHEN ${rs * 10 + fs} THEN '${s.name}'`);
    return out;
  });
  const when = (x: string): string => `CASE WHEN ${customer} THEN ${x} END`;
  return {
    rfm_recency: when(r),
    rfm_frequency: when(f),
    rfm_monetary: when(m),
    rfm_score: when(`CAST(${r} AS TEXT) || CAST(${f} AS TEXT) || CAST(${m} AS TEXT)`),
    rfm_segment: when(`CASE ${r} * 10 + ${f} ${cells.join(' ')} END`),
  };
}

/**
 * The statements that insert the features of every contact (or of the set `ids`): one reads the aggregate in contact
 * order and looks each contact up by id (no copy of the aggregate to join against), one adds the contacts without
 * events. RFM scores are placed against `breakpoints` when given (a set of contacts), else left for `score`.
 */
/** Where a statement of {@link insertStatements} reads aggregates from: contacts above/up to an id, or a scratch table. */
type AggregateSource = { above?: number; upTo?: number } | { table: string };

/** The columns a computation writes to contact_features, in the order its statements give them. */
const WRITTEN_COLUMNS = [
  'contact_id',
  ...FEATURE_COLUMNS.map((c) => c.name),
  'unconverted_purchases',
  'custom',
  'computed_at',
  ...CLOCK.map((c) => c.date),
];

function rangeSql(b: Binder, source: { above?: number; upTo?: number }): string {
  return `${source.above === undefined ? '' : ` AND e.contact_id > ${b.bind(source.above)}`}${source.upTo === undefined ? '' : ` AND e.contact_id <= ${b.bind(source.upTo)}`}`;
}

function insertStatements(
  store: Queryable,
  now: Date,
  reporting: string,
  features: Record<string, ExpressionFeature>,
  ids: string | undefined,
  breakpoints: readonly Breakpoint[] | undefined,
  sources: readonly AggregateSource[] = [{}],
  withoutEvents = true,
  into = 'contact_features',
): { sql: string; params: SqlValue[] }[] {
  return [...sources, ...(withoutEvents ? [undefined] : [])].map((from) => {
    const withEvents = from !== undefined;
    const d = store.dialect;
    const b = binder(d);
    const scope = ids === undefined ? undefined : b.bind(ids);
    // Contacts without events have no expression aggregates either.
    const expressions = withEvents ? expressionSql(b, now, features, scope) : undefined;
    const n = b.bind(now.toISOString());
    // The statement reads its rows through two subqueries kept apart from it (a fence: no engine merges a subquery with
    // OFFSET into the query around it): the inner one joins each contact to its aggregates and takes the sign-up
    // trait out of the traits JSON, the middle one turns each date into a day number, once per row. Written inline,
    // an engine evaluates every copy of an expression: the sign-up date alone was parsed dozens of times per contact.
    const fence = `${d.noLimit} OFFSET 0`;
    const inner = new Map<string, string>();
    // Without events every aggregate is NULL, typed (an engine may refuse arithmetic on an untyped NULL).
    const a = (column: string): string => {
      inner.set(column, withEvents ? `a.${column}` : `CAST(NULL AS ${column.endsWith('_at') ? 'TEXT' : d.types.real})`);
      return `p.${column}`;
    };
    const dayOf = { created: 'p.created_day', signup: 'p.signup_day' } as const;
    const datesDay: Record<(typeof CLOCK)[number]['date'], string> = {
      last_purchase_at: 'p.last_purchase_day',
      last_engagement_at: 'p.last_engagement_day',
      first_purchase_at: 'p.first_purchase_day',
      // The day number of the date below, from the two day numbers without reading a date again.
      signed_up_at: withEvents
        ? `(CASE WHEN ${dayOf.created} IS NULL THEN ${dayOf.signup} WHEN ${dayOf.signup} IS NULL THEN ${dayOf.created} WHEN ${dayOf.signup} <= ${dayOf.created} THEN ${dayOf.signup} ELSE ${dayOf.created} END)`
        : dayOf.created,
    };
    // The day counts are those of the dates stored beside them, as refreshClockFeatures takes them.
    const signedUp = withEvents
      ? `CASE WHEN ${dayOf.created} IS NULL THEN ${a('signup_at')} WHEN ${dayOf.signup} IS NULL THEN p.created_text WHEN ${dayOf.signup} <= ${dayOf.created} THEN ${a('signup_at')} ELSE p.created_text END`
      : 'p.created_text';
    // The middle subquery reads it either way (a typed NULL without events).
    a('signup_at');
    const dates: Record<(typeof CLOCK)[number]['date'], string> = {
      last_purchase_at: a('last_purchase_at'),
      last_engagement_at: a('last_engagement_at'),
      first_purchase_at: a('first_purchase_at'),
      signed_up_at: signedUp,
    };
    const values: Record<string, string> = {
      ...Object.fromEntries(CLOCK.map((c) => [c.feature, d.truncate(`${d.julianDay(n)} - ${datesDay[c.date]}`)])),
      avg_order_value: `CASE WHEN ${a('converted_purchases')} > 0 THEN ${a('monetary_all')} / ${a('converted_purchases')} END`,
      engagement_trend: `COALESCE(${a('engagement_30d')}, 0) - COALESCE(${a('engagement_prev_30d')}, 0)`,
      engagement_change: `CASE WHEN ${a('engagement_prev_30d')} > 0 THEN (${a('engagement_30d')} - ${a('engagement_prev_30d')}) * 1.0 / ${a('engagement_prev_30d')} END`,
      discount_share: `CASE WHEN ${a('frequency_all')} > 0 THEN ${a('discounted_purchases')} * 1.0 / ${a('frequency_all')} END`,
    };
    for (const w of MONEY_WINDOWS) values[`monetary_${w}d`] = `COALESCE(${a(`monetary_${w}d`)}, 0)`;
    values.monetary_all = `COALESCE(${a('monetary_all')}, 0)`;
    for (const w of EMAIL_WINDOWS) {
      values[`open_rate_${w}d`] =
        `CASE WHEN ${a(`emails_sent_${w}d`)} > 0 THEN ${a(`email_opens_${w}d`)} * 1.0 / ${a(`emails_sent_${w}d`)} END`;
      values[`click_rate_${w}d`] =
        `CASE WHEN ${a(`emails_sent_${w}d`)} > 0 THEN ${a(`email_clicks_${w}d`)} * 1.0 / ${a(`emails_sent_${w}d`)} END`;
    }
    const value = (column: string): string => values[column] ?? `COALESCE(${a(column)}, 0)`;
    const rfm: Record<string, string> = breakpoints
      ? rfmExprs(b, breakpoints, value)
      : { rfm_recency: 'NULL', rfm_frequency: 'NULL', rfm_monetary: 'NULL', rfm_score: 'NULL', rfm_segment: 'NULL' };
    const exprs = FEATURE_COLUMNS.map((c) => rfm[c.name] ?? value(c.name));
    const custom = Object.entries(features).map(([name, f], i): [string, string] => [
      b.bind(name),
      f.agg === 'first' || f.agg === 'last'
        ? firstLastSql(f, b, now)
        : f.agg === 'count'
          ? `COALESCE(${expressions ? `x.x_${i}` : 'NULL'}, 0)`
          : expressions
            ? `x.x_${i}`
            : 'NULL',
    ]);
    const customExpr = custom.length === 0 ? `'{}'` : d.jsonObject(custom);
    const inScope = scope ? ` AND c.id IN (SELECT value FROM ${d.jsonValues(scope, 'integer')} AS j)` : '';
    const source =
      from === undefined
        ? 'contacts c'
        : `${'table' in from ? from.table : `(${aggregateSql(b, now, reporting, scope, rangeSql(b, from))})`} AS a ${d.orderedJoin} contacts c ON c.id = a.contact_id`;
    // Over the whole base, the statements before this one gave a row to every contact with events (into a table
    // emptied first): checking that row is a look-up per contact, where the events are ten or a hundred per contact.
    const noEvents = withEvents
      ? ''
      : scope === undefined
        ? ' AND NOT EXISTS (SELECT 1 FROM contact_features f WHERE f.contact_id = c.id)'
        : ` AND NOT EXISTS (SELECT 1 FROM contact_events e WHERE e.contact_id = c.id AND e.occurred_at <= ${n})`;
    const unconverted = `COALESCE(${a('unconverted_purchases')}, 0)`;
    const innerColumns = [...inner].map(([column, expr]) => `${expr} AS ${column}`);
    const dayNumber = (column: string): string => d.julianDay(`q.${column}`);
    const head = `INSERT INTO ${into} (${WRITTEN_COLUMNS.join(', ')})`;
    const sql = `${expressions ? `WITH x AS MATERIALIZED (${expressions}) ` : ''}${head}
      SELECT p.id, ${exprs.join(', ')}, ${unconverted}, p.custom, ${n}, ${CLOCK.map((c) => dates[c.date]).join(', ')}
      FROM (SELECT q.*, ${dayNumber('last_purchase_at')} AS last_purchase_day, ${dayNumber('last_engagement_at')} AS last_engagement_day,
              ${dayNumber('first_purchase_at')} AS first_purchase_day, ${dayNumber('signup_at')} AS signup_day, ${dayNumber('created_text')} AS created_day
            FROM (SELECT c.id AS id, ${innerColumns.join(', ')}, ${d.jsonField('c.traits', 'created_at')} AS created_text, ${customExpr} AS custom
                  FROM ${source}${expressions ? ' LEFT JOIN x ON x.contact_id = c.id' : ''}
                  WHERE c.deleted = 0${inScope}${noEvents} ${fence}) AS q ${fence}) AS p
      WHERE TRUE${
        // A set of contacts overwrites their rows in place (no delete and re-insert of each row and its page space).
        scope
          ? ` ON CONFLICT (contact_id) DO UPDATE SET ${[...FEATURE_COLUMNS.map((c) => c.name), 'unconverted_purchases', 'custom', 'computed_at', ...CLOCK.map((c) => c.date)].map((c) => `${c} = excluded.${c}`).join(', ')}`
          : ''
      }`;
    return b.finish(sql);
  });
}

const CUSTOMER = 'frequency_all > 0';

/**
 * Finds and stores the quintile breakpoints of the base: for score s in 2..5, the k-th worst customer value with
 * k = ceil((s - 1) × customers / 5). A value strictly better than that breakpoint has at least k customers strictly
 * worse, so `1 + number of breakpoints beaten` equals 1 + floor(5 × strictly-worse / customers), and equal values
 * always score the same. One sort per dimension.
 */
async function storeBreakpoints(store: Queryable, now: Date): Promise<Breakpoint[]> {
  const n = ((await store.get(`SELECT COUNT(*) AS n FROM contact_features WHERE ${CUSTOMER}`)) as { n: number }).n;
  await store.run('DELETE FROM feature_breakpoints');
  const insert =
    'INSERT INTO feature_breakpoints (dimension, score, bound, customers, computed_at) VALUES (?, ?, ?, ?, ?)';
  const out: Breakpoint[] = [];
  if (n === 0) return out;
  const ranks = [2, 3, 4, 5].map((score) => ({ score, k: Math.ceil(((score - 1) * n) / 5) }));
  for (const d of DIMENSIONS) {
    const rows = (await store.all(
      `SELECT k, bound FROM (SELECT ${d.column} AS bound, ROW_NUMBER() OVER (ORDER BY ${d.column} ${d.higherIsBetter ? 'ASC' : 'DESC'}) AS k
           FROM contact_features WHERE ${CUSTOMER}) AS ranked WHERE k IN (SELECT value FROM ${store.dialect.jsonValues('?', 'integer')} AS j)`,
      [JSON.stringify(ranks.map((r) => r.k))],
    )) as { k: number; bound: number }[];
    const bound = new Map(rows.map((r) => [r.k, r.bound]));
    for (const { score, k } of ranks) {
      const value = bound.get(k) as number;
      await store.run(insert, [d.dimension, score, value, n, now.toISOString()]);
      out.push({ dimension: d.dimension, bound: value });
    }
  }
  return out;
}

/**
 * Scores every customer against the breakpoints just found (one pass). Given `changedAt`, only the rows whose scores
 * move are written, and they are stamped `computed_at = changedAt` (an incremental run: the rows it changed are the
 * ones whose memberships may change).
 */
async function score(store: Queryable, breakpoints: readonly Breakpoint[], changedAt?: string): Promise<number> {
  const b = binder(store.dialect);
  const rfm = rfmExprs(b, breakpoints, (column) => column);
  const moved = Object.entries(rfm).map(([k, v]) => `${k} IS DISTINCT FROM ${v}`);
  const built = b.finish(
    `UPDATE contact_features SET ${Object.entries(rfm)
      .map(([k, v]) => `${k} = ${v}`)
      .join(', ')}${changedAt === undefined ? '' : `, computed_at = ${b.bind(changedAt)}`} WHERE ${CUSTOMER}${
      changedAt === undefined ? '' : ` AND (${moved.join(' OR ')})`
    }`,
  );
  return (await store.run(built.sql, built.params)).changes;
}

/**
 * Moves the day counts (days since the last purchase, the last engagement, the first purchase, sign-up) of every
 * contact to `now`, from the dates stored beside them, writing only the rows whose counts change (stamped
 * `computed_at = now`). The counts are then what a full computation at `now` gives. Returns the rows changed.
 *
 * @example
 * await refreshClockFeatures(store, new Date());
 */
export async function refreshClockFeatures(store: Queryable, now: Date): Promise<number> {
  const d = store.dialect;
  const b = binder(d);
  const n = b.bind(now.toISOString());
  const counts = CLOCK.map((c) => ({ column: c.feature, value: days(d, n, c.date) }));
  const built = b.finish(
    `UPDATE contact_features SET ${counts.map((c) => `${c.column} = ${c.value}`).join(', ')}, computed_at = ${n}
      WHERE ${counts.map((c) => `${c.column} IS DISTINCT FROM ${c.value}`).join(' OR ')}`,
  );
  return (await store.run(built.sql, built.params)).changes;
}

async function storedBreakpoints(store: Queryable): Promise<Breakpoint[]> {
  return (await store.all(
    'SELECT dimension, bound FROM feature_breakpoints ORDER BY dimension, score',
  )) as Breakpoint[];
}

const ratesTable = (d: Dialect): string =>
  `CREATE TEMP TABLE IF NOT EXISTS feature_rates (code ${d.types.text} PRIMARY KEY, rate ${d.types.real} NOT NULL)`;

async function prepareRates(store: Queryable, currency: FeatureOptions['currency']): Promise<string> {
  const reporting = currency?.reporting ?? 'USD';
  const rates = store.dialect.temp('feature_rates');
  await store.exec(ratesTable(store.dialect));
  await store.run(`DELETE FROM ${rates}`);
  const insert = `INSERT INTO ${rates} (code, rate) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET rate = excluded.rate`;
  for (const [code, rate] of Object.entries(currency?.rates ?? {})) await store.run(insert, [code, rate]);
  await store.run(insert, [reporting, 1]);
  return reporting;
}

/**
 * How a whole-base run splits its work in two at the middle contact id: only outside any caller's transaction (the
 * other half must see what this transaction sees) and without expression features (their aggregate reads the raw
 * events and stays whole). On a store in one file (SQLite) a second thread aggregates the upper half into a scratch
 * file (see parallel.ts); on a server (PostgreSQL, which never runs an INSERT … SELECT in parallel) a second pooled
 * connection computes the upper half's rows into a scratch table, side by side with this one's lower half.
 */
interface Split {
  mid: number;
  /** The scratch file (SQLite) or table (a server) the upper half goes to. */
  scratch: string;
  /** A server's upper half, computed on another connection: whether it succeeded. */
  upper?: Promise<boolean>;
}

/** The scratch table of a server's upper half. One full computation runs at a time (it holds the writer lock). */
const UPPER_HALF = 'features_upper_half';

async function planSplit(store: Queryable, options: FeatureOptions): Promise<Split | undefined> {
  if (store.inTransaction || Object.keys(options.features ?? {}).length > 0) return undefined;
  if (
    store.dialect.singleFile &&
    (store.path === '' || store.path === ':memory:' || store.path.startsWith('file::memory:'))
  )
    return undefined;
  const range = (await store.get('SELECT MIN(id) AS low, MAX(id) AS high, COUNT(*) AS n FROM contacts')) as {
    low: number | null;
    high: number | null;
    n: number;
  };
  const { singleFile } = store.dialect;
  const parts = aggregateParts(range.n, { singleFile, threads: options.threads, connections: options.connections });
  if (range.low === null || range.high === null || parts < 2) return undefined;
  return {
    mid: Math.floor((range.low + range.high) / 2),
    scratch: store.dialect.singleFile ? `${store.path}.features-${process.pid}-${Date.now()}.tmp` : UPPER_HALF,
  };
}

/**
 * A server's upper half: the rows of the contacts above `split.mid` computed into the scratch table on a connection
 * of its own, committed, for the computation's transaction to copy. Any failure leaves that half to the computation
 * (with a warning): never a hang, never a missing row.
 */
async function computeUpperHalf(
  store: Queryable,
  options: FeatureOptions & { now: Date },
  split: Split,
): Promise<boolean> {
  try {
    await store.transaction(
      async (tx) => {
        const reporting = await prepareRates(tx, options.currency);
        await tx.exec(`CREATE UNLOGGED TABLE ${split.scratch} (LIKE contact_features)`);
        for (const { sql, params } of insertStatements(
          tx,
          options.now,
          reporting,
          {},
          undefined,
          undefined,
          [{ above: split.mid }],
          false,
          split.scratch,
        )) {
          await tx.run(sql, params);
        }
      },
      // Without the writer lock, which the computation holds while it waits for this half.
      { deferred: true },
    );
    return true;
  } catch (error) {
    process.emitWarning(
      `features: the second connection failed (${String(error instanceof Error ? error.message : error).split('\n')[0] ?? ''}), computing its half on the first`,
    );
    return false;
  }
}

async function runInsert(
  store: Queryable,
  options: FeatureOptions,
  ids: number[] | undefined,
  breakpoints: readonly Breakpoint[] | undefined,
  split?: Split,
): Promise<FeatureRun> {
  const now = options.now ?? new Date();
  const features = options.features ?? {};
  const reporting = await prepareRates(store, options.currency);
  const idsJson = JSON.stringify(ids ?? []);
  let inserted = 0;
  const insert = async (sources?: AggregateSource[], withoutEvents = true): Promise<void> => {
    // The SQL text depends only on the options' shape (values are bound), so the statements are prepared once.
    for (const { sql, params } of insertStatements(
      store,
      now,
      reporting,
      features,
      ids ? idsJson : undefined,
      breakpoints,
      sources,
      withoutEvents,
    )) {
      inserted += (await store.run(sql, params)).changes;
    }
  };
  if (split?.upper) {
    await insert([{ upTo: split.mid }], false);
    if (await split.upper) {
      const columns = WRITTEN_COLUMNS.join(', ');
      inserted += (await store.run(`INSERT INTO contact_features (${columns}) SELECT ${columns} FROM ${split.scratch}`))
        .changes;
      await store.exec(`DROP TABLE ${split.scratch}`);
    } else {
      await insert([{ above: split.mid }], false);
    }
    await insert([]);
  } else if (split) {
    const b = binder(store.dialect);
    const aggregate = aggregateSql(b, now, reporting, undefined, rangeSql(b, { above: split.mid }));
    const head = aggregate.slice(0, aggregate.indexOf('\n    FROM ('));
    const names = [...head.matchAll(/ AS ([a-z_0-9]+)(?=,\n|$)/g)].map((m) => m[1] as string);
    const { sql, params } = b.finish(`INSERT INTO scratch.aggregates (contact_id, ${names.join(', ')}) ${aggregate}`);
    const upper = startAggregate({
      path: store.path,
      scratch: split.scratch,
      setup: ratesTable(store.dialect),
      rates: (
        (await store.all(`SELECT code, rate FROM ${store.dialect.temp('feature_rates')}`)) as {
          code: string;
          rate: number;
        }[]
      ).map((r): [string, number] => [r.code, r.rate]),
      create: `CREATE TABLE scratch.aggregates (contact_id INTEGER PRIMARY KEY, ${names.join(', ')})`,
      insert: sql,
      params,
    });
    await insert([{ upTo: split.mid }], false);
    await insert((await upper.wait()) ? [{ table: 'scratch.aggregates' }] : [{ above: split.mid }]);
  } else {
    await insert();
  }
  const unconverted = ids
    ? (
        (await store.get(
          `SELECT COALESCE(SUM(unconverted_purchases), 0) AS n FROM contact_features WHERE contact_id IN (SELECT value FROM ${store.dialect.jsonValues('?', 'integer')} AS j)`,
          [idsJson],
        )) as { n: number }
      ).n
    : (
        (await store.get('SELECT COALESCE(SUM(unconverted_purchases), 0) AS n FROM contact_features')) as {
          n: number;
        }
      ).n;
  return {
    contacts: inserted,
    unconvertedPurchases: unconverted,
    warnings: unconvertedWarnings(unconverted, reporting),
  };
}

function unconvertedWarnings(unconverted: number, reporting: string): string[] {
  return unconverted > 0
    ? [
        `${unconverted} purchase${unconverted === 1 ? '' : 's'} left out of money features: their currency has no rate to ${reporting} in config (currency.rates)`,
      ]
    : [];
}

/**
 * Computes every feature for the whole base, replacing the previous computation, then the RFM scores.
 *
 * @example
 * const run = computeFeatures(store, { now: new Date(), currency: { reporting: 'EUR', rates: { USD: 0.92 } } });
 * run.warnings; // e.g. purchases in a currency without a rate
 */
export async function computeFeatures(store: Queryable, given: FeatureOptions = {}): Promise<FeatureRun> {
  // Both halves of a split computation compute at the same instant.
  const options = { ...given, now: given.now ?? new Date() };
  const compute = async (tx: Queryable, split?: Split): Promise<FeatureRun> => {
    await tx.run('DELETE FROM contact_features');
    const run = await runInsert(tx, options, undefined, undefined, split);
    await score(tx, await storeBreakpoints(tx, options.now));
    return run;
  };
  const split = await planSplit(store, options);
  if (!split) return await store.transaction((tx) => compute(tx));
  if (!store.dialect.singleFile) {
    // The upper half starts once this transaction holds the writer lock, so both halves read the same events; it runs
    // outside the transaction's context, on a connection of its own.
    const aside = AsyncResource.bind((): Promise<boolean> => computeUpperHalf(store, options, split));
    // A scratch table left by a computation that was killed goes first, in a transaction of its own (the upper half
    // creates the table again while the computation's transaction is open).
    await store.transaction((tx) => tx.exec(`DROP TABLE IF EXISTS ${UPPER_HALF}`));
    return await store.transaction((tx) => compute(tx, { ...split, upper: aside() }));
  }
  // ATTACH is refused inside a transaction, so the second thread's scratch file is attached first; and the transaction
  // is DEFERRED, not IMMEDIATE, so that it locks the store file (its first statement writes) but not the scratch file,
  // which the worker writes meanwhile and this connection reads only once the worker is done.
  await store.run('ATTACH DATABASE ? AS scratch', [split.scratch]);
  try {
    return await store.transaction((tx) => compute(tx, split), { deferred: true });
  } finally {
    await store.exec('DETACH DATABASE scratch');
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${split.scratch}${suffix}`, { force: true });
  }
}

/**
 * Recomputes the features of the given contacts only (set-based), as `computeFeatures` would at the same `now`.
 * Their RFM scores are placed against the quintile breakpoints of the last full computation (finding new ones needs
 * the whole base), so other contacts' scores never shift under them; the next full run refreshes the breakpoints.
 *
 * @example
 * recomputeContacts(store, [12, 40], { now });
 */
export async function recomputeContacts(
  store: Queryable,
  ids: readonly number[],
  options: FeatureOptions = {},
): Promise<FeatureRun> {
  const unique = [...new Set(ids)];
  return await store.transaction(async (tx) => {
    // Rows of contacts no longer live go; the others are overwritten by the insert.
    await tx.run(
      `DELETE FROM contact_features WHERE contact_id IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j)
           AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = contact_features.contact_id AND c.deleted = 0)`,
      [JSON.stringify(unique)],
    );
    return await runInsert(tx, options, unique, await storedBreakpoints(tx));
  });
}

/** What an incremental computation did: the contacts recomputed, and those whose day counts or RFM scores moved. */
export interface IncrementalFeatureRun extends FeatureRun {
  /** Rows whose day counts moved with the clock. */
  clockMoved: number;
  /** Rows whose RFM scores moved (new breakpoints, or a changed value). */
  rescored: number;
}

/**
 * Brings every contact's features to what `computeFeatures` gives at `options.now`, recomputing from events only the
 * contacts `ids` (those whose events, traits or identity changed, or with an event that crossed a window edge since
 * the last computation, which the caller finds): the day counts of the others move with the clock from their stored
 * dates, and the RFM breakpoints are found again over the whole base (one sort per dimension over the features, no
 * events), rescoring only the rows whose scores move. Rows written get `computed_at = now`; the others keep theirs.
 *
 * @example
 * await computeFeaturesIncrementally(store, [12, 40], { now });
 */
export async function computeFeaturesIncrementally(
  store: Queryable,
  ids: readonly number[],
  options: FeatureOptions = {},
): Promise<IncrementalFeatureRun> {
  const now = options.now ?? new Date();
  const unique = [...new Set(ids)];
  return await store.transaction(async (tx) => {
    await tx.run(
      `DELETE FROM contact_features WHERE contact_id IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j)
           AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = contact_features.contact_id AND c.deleted = 0)`,
      [JSON.stringify(unique)],
    );
    const run = unique.length > 0 ? await runInsert(tx, { ...options, now }, unique, undefined) : undefined;
    const clockMoved = await refreshClockFeatures(tx, now);
    const rescored = await score(tx, await storeBreakpoints(tx, now), now.toISOString());
    const unconverted = (
      (await tx.get('SELECT COALESCE(SUM(unconverted_purchases), 0) AS n FROM contact_features')) as { n: number }
    ).n;
    const reporting = options.currency?.reporting ?? 'USD';
    return {
      contacts: run?.contacts ?? 0,
      unconvertedPurchases: unconverted,
      warnings: unconvertedWarnings(unconverted, reporting),
      clockMoved,
      rescored,
    };
  });
}

/**
 * Rebuilds `contact_events` from `events` in one sorted pass. Triggers keep it in step on every insert, update and
 * delete of an event; this is for bulk loads that drop the insert trigger, or a repair.
 *
 * @example
 * rebuildContactEvents(store);
 */
export async function rebuildContactEvents(store: Queryable): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.exec('DELETE FROM contact_events');
    await tx.exec(rebuildContactEventsSql(tx.dialect));
  });
}

/**
 * How many contacts have features computed: 0 before the first compute, when rules on features match nobody.
 *
 * @example
 * if (contactsWithFeatures(store) === 0) console.log('features have not been computed yet');
 */
export async function contactsWithFeatures(store: Queryable): Promise<number> {
  return ((await store.get('SELECT COUNT(*) AS n FROM contact_features')) as { n: number }).n;
}
