import type { Queryable } from '../store/store.js';

/** Members of one destination × segment left out or refused, grouped by why, as the delivered state holds them now. */
export interface DeliveryReason {
  destination: string;
  /** `rejected` (the tool refused the row, never retried), `skipped` (left out) or `retryable` (tried again later). */
  status: string;
  reason: string | null;
  contacts: number;
}

/**
 * Why a segment's members were left out or refused, per destination, with how many contacts each reason covers.
 *
 * @example
 * await segmentDeliveryReasons(store, 'vip'); // [{ destination: 'crm', status: 'rejected', reason: 'INVALID_EMAIL', contacts: 3 }]
 */
export async function segmentDeliveryReasons(store: Queryable, key: string, limit = 50): Promise<DeliveryReason[]> {
  const rows = (await store.all(
    `SELECT destination, status, last_error AS reason, COUNT(*) AS contacts FROM delivered_state
      WHERE segment_key = ? AND status IN ('rejected', 'skipped', 'retryable')
      GROUP BY destination, status, last_error ORDER BY destination, contacts DESC, status LIMIT ?`,
    [key, limit],
  )) as { destination: string; status: string; reason: string | null; contacts: number }[];
  return rows.map((r) => ({ ...r, contacts: Number(r.contacts) }));
}

/** One person a model scored: the output asked for and, for a churn model, the risk, the value and their product. */
export interface ScoredPerson {
  contactId: number;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  /** The output filtered on (churn risk, CLV, a cluster number). */
  value: number | null;
  label: string | null;
  risk: number | null;
  clv: number | null;
  /** Churn risk × lifetime value: what losing this customer is expected to cost. */
  atStake: number | null;
}

/**
 * The people a model scored, a page at a time: those whose `output` lies in [from, to) (`to` included when
 * `toInclusive`, as a histogram's last bin does) or carries `label`, ranked by churn risk × lifetime value (the
 * customers it costs most to lose first), then by contact id.
 *
 * @example
 * await scoredPeople(store, 'churn', { output: 'risk', from: 0.5, to: 1, toInclusive: true, limit: 50, offset: 0 });
 */
export async function scoredPeople(
  store: Queryable,
  model: string,
  options: {
    output: string;
    from?: number;
    to?: number;
    toInclusive?: boolean;
    label?: string;
    limit: number;
    offset: number;
  },
): Promise<{ people: ScoredPerson[]; total: number }> {
  const d = store.dialect;
  const first = d.jsonField('c.traits', 'first_name');
  const last = d.jsonField('c.traits', 'last_name');
  const from = options.from ?? null;
  const to = options.to ?? null;
  const label = options.label ?? null;
  const where = `o.model = ? AND o.output = ? AND c.deleted = 0
      AND (CAST(? AS REAL) IS NULL OR o.value >= ?)
      AND (CAST(? AS REAL) IS NULL OR o.value < ? OR (? = 1 AND o.value = ?))
      AND (CAST(? AS TEXT) IS NULL OR o.label = ?)`;
  const params = [model, options.output, from, from, to, to, options.toInclusive ? 1 : 0, to, label, label];
  const rows = (await store.all(
    `SELECT c.id AS contact_id, c.email, ${first} AS first_name, ${last} AS last_name, o.value, o.label,
            r.value AS risk, v.value AS clv, r.value * v.value AS at_stake
       FROM model_outputs o JOIN contacts c ON c.id = o.contact_id
       LEFT JOIN model_outputs r ON r.contact_id = o.contact_id AND r.model = o.model AND r.output = 'risk'
       LEFT JOIN model_outputs v ON v.contact_id = o.contact_id AND v.model = o.model AND v.output = 'clv'
      WHERE ${where}
      ORDER BY CASE WHEN r.value * v.value IS NULL THEN 1 ELSE 0 END, r.value * v.value DESC, c.id
      LIMIT ? OFFSET ?`,
    [...params, options.limit, options.offset],
  )) as {
    contact_id: number;
    email: string | null;
    first_name: unknown;
    last_name: unknown;
    value: number | null;
    label: string | null;
    risk: number | null;
    clv: number | null;
    at_stake: number | null;
  }[];
  const total = (
    (await store.get(
      `SELECT COUNT(*) AS n FROM model_outputs o JOIN contacts c ON c.id = o.contact_id WHERE ${where}`,
      params,
    )) as { n: number }
  ).n;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    people: rows.map((r) => ({
      contactId: Number(r.contact_id),
      email: r.email,
      firstName: text(r.first_name),
      lastName: text(r.last_name),
      value: num(r.value),
      label: r.label,
      risk: num(r.risk),
      clv: num(r.clv),
      atStake: num(r.at_stake),
    })),
    total: Number(total),
  };
}

/** A finished or running job run's report, newest first: what each step did (pushes per destination and segment). */
export interface RunReportRow {
  runId: number;
  at: string;
  report: unknown;
}

/**
 * The reports of the latest `limit` runs that wrote one, newest first.
 *
 * @example
 * for (const { runId, report } of await recentRunReports(store, 200)) …
 */
export async function recentRunReports(store: Queryable, limit: number): Promise<RunReportRow[]> {
  const rows = (await store.all(
    'SELECT id, started_at, finished_at, report FROM sync_runs WHERE report IS NOT NULL ORDER BY id DESC LIMIT ?',
    [limit],
  )) as { id: number; started_at: string; finished_at: string | null; report: unknown }[];
  return rows.map((r) => ({
    runId: Number(r.id),
    at: r.finished_at ?? r.started_at,
    report: typeof r.report === 'string' ? (JSON.parse(r.report) as unknown) : r.report,
  }));
}
