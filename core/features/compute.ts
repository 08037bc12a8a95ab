import type { Store } from '../store/store.js';
import { EMAIL_WINDOWS, ENGAGEMENT_TYPES, FEATURE_COLUMNS, MONEY_WINDOWS, RFM_SEGMENTS } from './catalog.js';
import { rebuildContactEventsSql } from './migrations.js';
import { before, binder, compileEventFilter, propertyPath, type Binder } from './filters.js';

/** A feature the config defines as an aggregate over one event type (`features:` in YAML). */
export interface ExpressionFeature {
  agg: 'count' | 'sum' | 'avg' | 'min' | 'max' | 'first' | 'last';
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
}

/** What a computation did. */
export interface FeatureRun {
  contacts: number;
  /** Purchases left out of money features because their currency has no rate. */
  unconvertedPurchases: number;
  warnings: string[];
}

const quote = (s: string): string => `'${s}'`;
const TYPES_ENGAGEMENT = ENGAGEMENT_TYPES.map(quote).join(', ');

/** The built-in aggregates, one row per contact with events, read from `contact_events` in its (contact) order. */
function aggregateSql(b: Binder, now: Date, reporting: string, ids: string | undefined): string {
  const nowText = b.bind(now.toISOString());
  const since = (days: number): string => b.bind(before(now, `${days}d`));
  const purchase = `e.type = 'purchase'`;
  const engaged = `e.type IN (${TYPES_ENGAGEMENT})`;
  const money = 'e.value * r.rate';
  const cols: string[] = [
    `MAX(CASE WHEN ${purchase} THEN e.occurred_at END) AS last_purchase_at`,
    `MIN(CASE WHEN ${purchase} THEN e.occurred_at END) AS first_purchase_at`,
    `MAX(CASE WHEN ${engaged} THEN e.occurred_at END) AS last_engagement_at`,
    `MIN(CASE WHEN e.type = 'signup' THEN e.occurred_at END) AS signup_at`,
  ];
  for (const w of MONEY_WINDOWS) {
    const s = since(w);
    cols.push(`SUM(CASE WHEN ${purchase} AND e.occurred_at > ${s} THEN 1 ELSE 0 END) AS frequency_${w}d`);
  }
  cols.push(`SUM(CASE WHEN ${purchase} THEN 1 ELSE 0 END) AS frequency_all`);
  for (const w of MONEY_WINDOWS) {
    const s = since(w);
    cols.push(`SUM(CASE WHEN ${purchase} AND e.occurred_at > ${s} THEN ${money} END) AS monetary_${w}d`);
  }
  cols.push(`SUM(CASE WHEN ${purchase} THEN ${money} END) AS monetary_all`);
  cols.push(`SUM(CASE WHEN ${purchase} AND ${money} IS NOT NULL THEN 1 ELSE 0 END) AS converted_purchases`);
  cols.push(`SUM(CASE WHEN ${purchase} AND e.value IS NOT NULL AND ${money} IS NULL THEN 1 ELSE 0 END) AS unconverted_purchases`);
  for (const w of EMAIL_WINDOWS) {
    const s = since(w);
    cols.push(`SUM(CASE WHEN e.type = 'email_sent' AND e.occurred_at > ${s} THEN 1 ELSE 0 END) AS emails_sent_${w}d`);
    cols.push(`SUM(CASE WHEN e.type = 'email_open' AND e.occurred_at > ${s} THEN 1 ELSE 0 END) AS email_opens_${w}d`);
    cols.push(`SUM(CASE WHEN e.type = 'email_click' AND e.occurred_at > ${s} THEN 1 ELSE 0 END) AS email_clicks_${w}d`);
  }
  const s30 = since(30);
  const s60 = since(60);
  cols.push(`SUM(CASE WHEN ${engaged} AND e.occurred_at > ${s30} THEN 1 ELSE 0 END) AS engagement_30d`);
  cols.push(`SUM(CASE WHEN ${engaged} AND e.occurred_at > ${s60} AND e.occurred_at <= ${s30} THEN 1 ELSE 0 END) AS engagement_prev_30d`);
  cols.push(`SUM(CASE WHEN e.type = 'support_ticket' AND e.occurred_at > ${since(90)} THEN 1 ELSE 0 END) AS support_contacts_90d`);
  cols.push(`SUM(CASE WHEN e.type = 'support_ticket' THEN 1 ELSE 0 END) AS support_contacts_all`);
  cols.push(`SUM(CASE WHEN ${purchase} AND e.discount > 0 THEN 1 ELSE 0 END) AS discounted_purchases`);
  cols.push(`COUNT(DISTINCT CASE WHEN ${purchase} THEN e.label END) AS distinct_categories`);
  cols.push(`COUNT(DISTINCT CASE WHEN e.type = 'feature_used' THEN e.label END) AS distinct_features`);
  // contact_events is clustered by contact, so GROUP BY walks it in order without a sort, and a set of contacts is
  // one range seek each. The rate join applies to every row but only purchases use it.
  return `SELECT e.contact_id AS contact_id, ${cols.join(',\n  ')}
    FROM contact_events e LEFT JOIN temp.feature_rates r ON r.code = COALESCE(e.currency, ${b.bind(reporting)})
    WHERE e.occurred_at <= ${nowText}${ids ? ` AND e.contact_id IN (SELECT value FROM json_each(${ids}))` : ''}
    GROUP BY e.contact_id`;
}

/** Expression features from config (not first/last), aggregated over the raw events of the types they name. */
function expressionSql(b: Binder, now: Date, features: Record<string, ExpressionFeature>, ids: string | undefined): string | undefined {
  const cols: string[] = [];
  const types = new Set<string>();
  Object.entries(features).forEach(([, f], i) => {
    if (f.agg === 'first' || f.agg === 'last') return;
    types.add(f.event);
    const cond = [`e.type = ${b.bind(f.event)}`, ...(f.within ? [`e.occurred_at > ${b.bind(before(now, f.within))}`] : []), ...compileEventFilter('e', f.where, b, now)].join(' AND ');
    const target = f.property === undefined || f.property === 'value' ? 'e.value' : `json_extract(e.properties, ${propertyPath(f.property)})`;
    const agg = f.agg === 'count' ? `SUM(CASE WHEN ${cond} THEN 1 ELSE 0 END)` : `${f.agg.toUpperCase()}(CASE WHEN ${cond} THEN ${target} END)`;
    cols.push(`${agg} AS x_${i}`);
  });
  if (cols.length === 0) return undefined;
  return `SELECT e.contact_id AS contact_id, ${cols.join(',\n  ')}
    FROM events e${ids ? '' : ' NOT INDEXED'}
    WHERE e.occurred_at <= ${b.bind(now.toISOString())} AND e.type IN (SELECT value FROM json_each(${b.bind(JSON.stringify([...types]))}))${ids ? ` AND e.contact_id IN (SELECT value FROM json_each(${ids}))` : ''}
    GROUP BY e.contact_id`;
}

function firstLastSql(f: ExpressionFeature, b: Binder, now: Date): string {
  const target = f.property === undefined || f.property === 'value' ? 'x.value' : `json_extract(x.properties, ${propertyPath(f.property)})`;
  const cond = [
    'x.contact_id = c.id',
    `x.type = ${b.bind(f.event)}`,
    `x.occurred_at <= ${b.bind(now.toISOString())}`,
    ...(f.within ? [`x.occurred_at > ${b.bind(before(now, f.within))}`] : []),
    ...compileEventFilter('x', f.where, b, now),
  ].join(' AND ');
  const order = f.agg === 'first' ? 'x.occurred_at ASC, x.id ASC' : 'x.occurred_at DESC, x.id DESC';
  return `(SELECT ${target} FROM events x WHERE ${cond} ORDER BY ${order} LIMIT 1)`;
}

const days = (nowParam: string, at: string): string => `CAST(julianday(${nowParam}) - julianday(${at}) AS INTEGER)`;

function insertSql(b: Binder, now: Date, reporting: string, features: Record<string, ExpressionFeature>, ids: string | undefined): string {
  const agg = aggregateSql(b, now, reporting, ids);
  const expressions = expressionSql(b, now, features, ids);
  const n = b.bind(now.toISOString());
  const trait = `json_extract(c.traits, '$.created_at')`;
  const values: Record<string, string> = {
    days_since_last_purchase: days(n, 'a.last_purchase_at'),
    days_since_last_engagement: days(n, 'a.last_engagement_at'),
    tenure_days: days(n, 'a.first_purchase_at'),
    days_since_signup: `CAST(julianday(${n}) - COALESCE(MIN(julianday(a.signup_at), julianday(${trait})), julianday(a.signup_at), julianday(${trait})) AS INTEGER)`,
    avg_order_value: `CASE WHEN a.converted_purchases > 0 THEN a.monetary_all / a.converted_purchases END`,
    engagement_trend: `COALESCE(a.engagement_30d, 0) - COALESCE(a.engagement_prev_30d, 0)`,
    engagement_change: `CASE WHEN a.engagement_prev_30d > 0 THEN (a.engagement_30d - a.engagement_prev_30d) * 1.0 / a.engagement_prev_30d END`,
    discount_share: `CASE WHEN a.frequency_all > 0 THEN a.discounted_purchases * 1.0 / a.frequency_all END`,
    rfm_recency: 'NULL',
    rfm_frequency: 'NULL',
    rfm_monetary: 'NULL',
    rfm_score: 'NULL',
    rfm_segment: 'NULL',
  };
  for (const w of MONEY_WINDOWS) values[`monetary_${w}d`] = `COALESCE(a.monetary_${w}d, 0)`;
  values.monetary_all = 'COALESCE(a.monetary_all, 0)';
  for (const w of EMAIL_WINDOWS) {
    values[`open_rate_${w}d`] = `CASE WHEN a.emails_sent_${w}d > 0 THEN a.email_opens_${w}d * 1.0 / a.emails_sent_${w}d END`;
    values[`click_rate_${w}d`] = `CASE WHEN a.emails_sent_${w}d > 0 THEN a.email_clicks_${w}d * 1.0 / a.emails_sent_${w}d END`;
  }
  const exprs = FEATURE_COLUMNS.map((c) => values[c.name] ?? `COALESCE(a.${c.name}, 0)`);
  const custom = Object.entries(features).flatMap(([name, f], i) => [
    b.bind(name),
    f.agg === 'first' || f.agg === 'last' ? firstLastSql(f, b, now) : f.agg === 'count' ? `COALESCE(x.x_${i}, 0)` : `x.x_${i}`,
  ]);
  const customExpr = custom.length === 0 ? `'{}'` : `json_object(${custom.join(', ')})`;
  return `WITH a AS MATERIALIZED (${agg})${expressions ? `, x AS MATERIALIZED (${expressions})` : ''}
    INSERT INTO contact_features (contact_id, ${FEATURE_COLUMNS.map((c) => c.name).join(', ')}, unconverted_purchases, custom, computed_at)
    SELECT c.id, ${exprs.join(', ')}, COALESCE(a.unconverted_purchases, 0), ${customExpr}, ${b.bind(now.toISOString())}
    FROM contacts c LEFT JOIN a ON a.contact_id = c.id${expressions ? ' LEFT JOIN x ON x.contact_id = c.id' : ''}
    WHERE c.deleted = 0${ids ? ` AND c.id IN (SELECT value FROM json_each(${ids}))` : ''}`;
}

const rfmSegmentCase = (r: string, f: string): string =>
  `CASE ${RFM_SEGMENTS.map((s) => `WHEN ${r} BETWEEN ${s.recency[0]} AND ${s.recency[1]} AND ${f} BETWEEN ${s.frequency[0]} AND ${s.frequency[1]} THEN '${s.name}'`).join(' ')} END`;

const CUSTOMER = 'frequency_all > 0';

/** The RFM dimensions: the column scored, and whether a larger value is better. */
const DIMENSIONS = [
  { dimension: 'recency', column: 'days_since_last_purchase', higherIsBetter: false },
  { dimension: 'frequency', column: 'frequency_all', higherIsBetter: true },
  { dimension: 'monetary', column: 'monetary_all', higherIsBetter: true },
] as const;

/**
 * Stores the quintile breakpoints of the base: for score s in 2..5, the k-th worst customer value with
 * k = ceil((s - 1) × customers / 5). A value strictly better than that breakpoint has at least k customers strictly
 * worse, so `1 + number of breakpoints beaten` equals 1 + floor(5 × strictly-worse / customers), and equal values
 * always score the same.
 */
function storeBreakpoints(store: Store, now: Date): void {
  const n = (store.statement(`SELECT COUNT(*) AS n FROM contact_features WHERE ${CUSTOMER}`).get() as { n: number }).n;
  store.statement('DELETE FROM feature_breakpoints').run();
  const insert = store.statement('INSERT INTO feature_breakpoints (dimension, score, bound, customers, computed_at) VALUES (?, ?, ?, ?, ?)');
  for (const d of DIMENSIONS) {
    for (let score = 2; score <= 5 && n > 0; score++) {
      const k = Math.ceil(((score - 1) * n) / 5);
      const row = store
        .statement(`SELECT ${d.column} AS bound FROM contact_features WHERE ${CUSTOMER} ORDER BY ${d.column} ${d.higherIsBetter ? 'ASC' : 'DESC'} LIMIT 1 OFFSET ?`)
        .get(k - 1) as { bound: number };
      insert.run(d.dimension, score, row.bound, n, now.toISOString());
    }
  }
}

function scoreSql(ids: string | undefined): string {
  const beaten = (d: (typeof DIMENSIONS)[number]): string =>
    `(1 + (SELECT COUNT(*) FROM feature_breakpoints b WHERE b.dimension = '${d.dimension}' AND contact_features.${d.column} ${d.higherIsBetter ? '>' : '<'} b.bound))`;
  const [r, f, m] = DIMENSIONS.map(beaten) as [string, string, string];
  return `UPDATE contact_features SET rfm_recency = ${r}, rfm_frequency = ${f}, rfm_monetary = ${m}
    WHERE ${ids ? `+${CUSTOMER} AND contact_id IN (SELECT value FROM json_each(${ids}))` : CUSTOMER};
    `;
}

function nameSql(ids: string | undefined): string {
  return `UPDATE contact_features SET rfm_score = rfm_recency || rfm_frequency || rfm_monetary, rfm_segment = ${rfmSegmentCase('rfm_recency', 'rfm_frequency')}
    WHERE ${ids ? `+${CUSTOMER} AND contact_id IN (SELECT value FROM json_each(${ids}))` : CUSTOMER}`;
}

function score(store: Store, ids: string | undefined): void {
  for (const sql of [scoreSql, nameSql]) {
    const b = binder(store.dialect.placeholder);
    const built = b.finish(sql(ids === undefined ? undefined : b.bind(ids)));
    store.connection.prepare(built.sql).run(...built.params);
  }
}

function prepareRates(store: Store, currency: FeatureOptions['currency']): string {
  const reporting = currency?.reporting ?? 'USD';
  store.connection.exec('CREATE TEMP TABLE IF NOT EXISTS feature_rates (code TEXT PRIMARY KEY, rate REAL NOT NULL)');
  store.statement('DELETE FROM temp.feature_rates').run();
  const insert = store.statement('INSERT OR REPLACE INTO temp.feature_rates (code, rate) VALUES (?, ?)');
  for (const [code, rate] of Object.entries(currency?.rates ?? {})) insert.run(code, rate);
  insert.run(reporting, 1);
  return reporting;
}

function runInsert(store: Store, options: FeatureOptions, ids: number[] | undefined): FeatureRun {
  const now = options.now ?? new Date();
  const features = options.features ?? {};
  const reporting = prepareRates(store, options.currency);
  const b = binder(store.dialect.placeholder);
  const idsJson = JSON.stringify(ids ?? []);
  const { sql, params } = b.finish(insertSql(b, now, reporting, features, ids ? b.bind(idsJson) : undefined));
  const inserted = store.connection.prepare(sql).run(...params).changes;
  const unconverted = ids
    ? (store.statement(`SELECT COALESCE(SUM(unconverted_purchases), 0) AS n FROM contact_features WHERE contact_id IN (SELECT value FROM json_each(?))`).get(idsJson) as { n: number }).n
    : (store.statement('SELECT COALESCE(SUM(unconverted_purchases), 0) AS n FROM contact_features').get() as { n: number }).n;
  const warnings =
    unconverted > 0
      ? [`${unconverted} purchase${unconverted === 1 ? '' : 's'} left out of money features: their currency has no rate to ${reporting} in config (currency.rates)`]
      : [];
  return { contacts: inserted, unconvertedPurchases: unconverted, warnings };
}

/**
 * Computes every feature for the whole base, replacing the previous computation, then the RFM scores.
 *
 * @example
 * const run = computeFeatures(store, { now: new Date(), currency: { reporting: 'EUR', rates: { USD: 0.92 } } });
 * run.warnings; // e.g. purchases in a currency without a rate
 */
export function computeFeatures(store: Store, options: FeatureOptions = {}): FeatureRun {
  return store.transaction(() => {
    store.statement('DELETE FROM contact_features').run();
    const run = runInsert(store, options, undefined);
    storeBreakpoints(store, options.now ?? new Date());
    score(store, undefined);
    return run;
  });
}

/**
 * Recomputes the features of the given contacts only (set-based), as `computeFeatures` would at the same `now`.
 * Their RFM scores are placed against the quintile breakpoints of the last full computation (finding new ones needs
 * the whole base), so other contacts' scores never shift under them; the next full run refreshes the breakpoints.
 *
 * @example
 * recomputeContacts(store, [12, 40], { now });
 */
export function recomputeContacts(store: Store, ids: readonly number[], options: FeatureOptions = {}): FeatureRun {
  const unique = [...new Set(ids)];
  return store.transaction(() => {
    const idsJson = JSON.stringify(unique);
    store.statement('DELETE FROM contact_features WHERE contact_id IN (SELECT value FROM json_each(?))').run(idsJson);
    const run = runInsert(store, options, unique);
    score(store, idsJson);
    return run;
  });
}

/**
 * Rebuilds `contact_events` from `events` in one sorted pass. Triggers keep it in step on every insert, update and
 * delete of an event; this is for bulk loads that drop the insert trigger, or a repair.
 *
 * @example
 * rebuildContactEvents(store);
 */
export function rebuildContactEvents(store: Store): void {
  store.transaction(() => {
    store.connection.exec('DELETE FROM contact_events');
    store.connection.exec(rebuildContactEventsSql);
  });
}
