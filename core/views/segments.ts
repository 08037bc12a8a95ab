import { FEATURE_COLUMNS } from '../features/catalog.js';
import type { Queryable } from '../store/store.js';

/** One segment evaluation as recorded, with its report. */
export interface SegmentRunRow {
  id: number;
  evaluatedAt: string;
  incremental: boolean;
  drift: boolean;
  report: {
    segments: {
      key: string;
      size: number;
      control: number;
      entered: number;
      exited: number;
      stability: number | null;
      changedShare: number;
      drift: boolean;
    }[];
    migrations: { from: string | null; to: string | null; contacts: number }[];
    driftAlerts: string[];
  };
}

/**
 * Segment evaluations, oldest first, the latest `limit` of them.
 *
 * @example
 * const runs = segmentRunHistory(store, 30); // sizes over time: runs.map((r) => r.report.segments)
 */
export async function segmentRunHistory(store: Queryable, limit = 30): Promise<SegmentRunRow[]> {
  const rows = (await store.all(
    'SELECT id, evaluated_at, incremental, drift_alert, report FROM segment_runs ORDER BY id DESC LIMIT ?',
    [limit],
  )) as { id: number; evaluated_at: string; incremental: number; drift_alert: number; report: string }[];
  return rows.reverse().map((r) => ({
    id: r.id,
    evaluatedAt: r.evaluated_at,
    incremental: r.incremental === 1,
    drift: r.drift_alert === 1,
    report: JSON.parse(r.report) as SegmentRunRow['report'],
  }));
}

/** A current member as listed by the console. */
export interface MemberRow {
  contactId: number;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  enteredAt: string;
}

/**
 * A page of a segment's current members, by contact id, optionally only those whose email or name contains `q`.
 *
 * @example
 * const { members, total } = segmentMembersPage(store, 'vip', { q: 'ada', limit: 50, offset: 0 });
 */
export async function segmentMembersPage(
  store: Queryable,
  key: string,
  options: { q?: string; limit: number; offset: number },
): Promise<{ members: MemberRow[]; total: number }> {
  const q = options.q?.trim()
    ? `%${options.q
        .trim()
        .toLowerCase()
        .replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    : null;
  const d = store.dialect;
  const first = d.jsonField('c.traits', 'first_name');
  const last = d.jsonField('c.traits', 'last_name');
  // LIKE ignores case on SQLite only: both sides are lowered.
  const where = `m.segment_key = ? AND (CAST(? AS TEXT) IS NULL
      OR lower(c.email) LIKE ? ESCAPE '\\'
      OR lower(COALESCE(${first}, '') || ' ' || COALESCE(${last}, '')) LIKE ? ESCAPE '\\')`;
  const rows = (await store.all(
    `SELECT m.contact_id, c.email, ${first} AS first_name, ${last} AS last_name, m.entered_at
       FROM memberships m JOIN contacts c ON c.id = m.contact_id WHERE ${where} ORDER BY m.contact_id LIMIT ? OFFSET ?`,
    [key, q, q, q, options.limit, options.offset],
  )) as {
    contact_id: number;
    email: string | null;
    first_name: unknown;
    last_name: unknown;
    entered_at: string;
  }[];
  const total = (
    (await store.get(`SELECT COUNT(*) AS n FROM memberships m JOIN contacts c ON c.id = m.contact_id WHERE ${where}`, [
      key,
      q,
      q,
      q,
    ])) as { n: number }
  ).n;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    members: rows.map((r) => ({
      contactId: r.contact_id,
      email: r.email,
      firstName: text(r.first_name),
      lastName: text(r.last_name),
      enteredAt: r.entered_at,
    })),
    total,
  };
}

/** A segment's members beside the whole base: the mean of each numeric feature, and the consent mix. */
export interface SegmentProfileView {
  members: number;
  base: number;
  features: { feature: string; members: number | null; base: number | null }[];
  consent: { status: string; members: number; base: number }[];
}

/** The profile of a segment's current members against every contact with features. */
export async function segmentProfile(store: Queryable, key: string): Promise<SegmentProfileView> {
  const numeric = FEATURE_COLUMNS.filter((c) => c.type !== 'text').map((c) => c.name);
  const means = async (inSegment: boolean) =>
    (await store.get(
      `SELECT COUNT(*) AS n, ${numeric.map((name) => `AVG(f.${name}) AS ${name}`).join(', ')} FROM contact_features f
         ${inSegment ? 'JOIN memberships m ON m.contact_id = f.contact_id AND m.segment_key = ?' : ''}`,
      inSegment ? [key] : [],
    )) as Record<string, number | null>;
  const members = await means(true);
  const base = await means(false);
  const consent = (await store.all(
    `SELECT c.email_consent AS status, SUM(CASE WHEN m.contact_id IS NULL THEN 0 ELSE 1 END) AS members, COUNT(*) AS base
       FROM contacts c LEFT JOIN memberships m ON m.contact_id = c.id AND m.segment_key = ? WHERE c.deleted = 0 GROUP BY c.email_consent ORDER BY c.email_consent NULLS FIRST`,
    [key],
  )) as { status: string; members: number; base: number }[];
  const memberCount = (
    (await store.get('SELECT COUNT(*) AS n FROM memberships WHERE segment_key = ?', [key])) as { n: number }
  ).n;
  return {
    members: memberCount,
    base: ((await store.get('SELECT COUNT(*) AS n FROM contacts WHERE deleted = 0')) as { n: number }).n,
    features: numeric.map((feature) => ({ feature, members: members[feature] ?? null, base: base[feature] ?? null })),
    consent,
  };
}

/** How many contacts stayed in a segment (`from` = `to`) or moved from `from` to `to` (`null`: none of them). */
export interface MigrationCell {
  from: string | null;
  to: string | null;
  contacts: number;
}

/**
 * The migration matrix between two moments (two segment evaluations' times), over the given segments: a contact counts
 * once in each segment it stayed in (X→X), and once per (segment it left, segment it joined) pair, `null` standing for
 * none (it left without joining, or joined without leaving). Overlapping segments it was in at both moments are not a
 * move. Contacts in none at both moments are left out.
 *
 * @example
 * migrationBetween(store, runs[0].evaluatedAt, runs[1].evaluatedAt, ['vip', 'churned']);
 */
export async function migrationBetween(
  store: Queryable,
  fromAt: string,
  toAt: string,
  keys: readonly string[],
): Promise<MigrationCell[]> {
  const at = `SELECT contact_id, segment_key FROM membership_history
     WHERE segment_key IN (SELECT value FROM ${store.dialect.jsonValues('?', 'text')} AS k) AND entered_at <= ? AND (exited_at IS NULL OR exited_at > ?)`;
  const snapshot = async (moment: string) => {
    const bySegment = new Map<number, Set<string>>();
    for (const r of (await store.all(at, [JSON.stringify(keys), moment, moment])) as {
      contact_id: number;
      segment_key: string;
    }[]) {
      const set = bySegment.get(r.contact_id) ?? new Set<string>();
      set.add(r.segment_key);
      bySegment.set(r.contact_id, set);
    }
    return bySegment;
  };
  const before = await snapshot(fromAt);
  const after = await snapshot(toAt);
  const cells = new Map<string, MigrationCell>();
  const count = (f: string | null, t: string | null) => {
    const id = JSON.stringify([f, t]);
    const cell = cells.get(id) ?? { from: f, to: t, contacts: 0 };
    cell.contacts++;
    cells.set(id, cell);
  };
  // Segments overlap: a contact in A and B both times stayed in each (A→A, B→B), it did not move from A to B. Only
  // the segments it left are paired with those it joined; leaving all for none, or joining from none, pairs with null.
  for (const contact of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(contact) ?? new Set<string>();
    const is = after.get(contact) ?? new Set<string>();
    const left = [...was].filter((k) => !is.has(k));
    const joined = [...is].filter((k) => !was.has(k));
    for (const k of was) if (is.has(k)) count(k, k);
    for (const f of left) for (const t of joined.length ? joined : [null]) count(f, t);
    if (left.length === 0) for (const t of joined) count(null, t);
  }
  const order = (v: string | null) => v ?? '\uffff';
  return [...cells.values()].sort(
    (a, b) => order(a.from).localeCompare(order(b.from)) || order(a.to).localeCompare(order(b.to)),
  );
}

/** What a model wrote: per output, how many contacts, the value range and mean, and the label counts. */
export interface ModelOutputSummary {
  model: string;
  output: string;
  contacts: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  computedAt: string | null;
  labels: { label: string; contacts: number }[];
}

/** Summaries of the model outputs stored per contact, optionally of one model. */
export async function modelOutputSummaries(store: Queryable, model?: string): Promise<ModelOutputSummary[]> {
  const name = model ?? null;
  const rows = (await store.all(
    `SELECT model, output, COUNT(*) AS contacts, MIN(value) AS min, MAX(value) AS max, AVG(value) AS mean, MAX(computed_at) AS computed_at
       FROM model_outputs WHERE (CAST(? AS TEXT) IS NULL OR model = ?) GROUP BY model, output ORDER BY model, output`,
    [name, name],
  )) as {
    model: string;
    output: string;
    contacts: number;
    min: number | null;
    max: number | null;
    mean: number | null;
    computed_at: string | null;
  }[];
  const labels =
    'SELECT label, COUNT(*) AS contacts FROM model_outputs WHERE model = ? AND output = ? AND label IS NOT NULL GROUP BY label ORDER BY contacts DESC, label LIMIT 50';
  const summaries: ModelOutputSummary[] = [];
  for (const r of rows) {
    summaries.push({
      model: r.model,
      output: r.output,
      contacts: r.contacts,
      min: r.min,
      max: r.max,
      mean: r.mean,
      computedAt: r.computed_at,
      labels: (await store.all(labels, [r.model, r.output])) as { label: string; contacts: number }[],
    });
  }
  return summaries;
}

export interface HistogramBin {
  from: number;
  to: number;
  contacts: number;
}

/**
 * How one model output's values are spread over the contacts: `bins` equal-width bins from `min` to `max` (default:
 * the values' own range; the last bin includes its upper edge), for the console's distribution charts.
 *
 * @example
 * modelOutputHistogram(store, 'churn', 'risk', { bins: 20, min: 0, max: 1 }); // [{ from: 0, to: 0.05, contacts: 812 }, …]
 */
export async function modelOutputHistogram(
  store: Queryable,
  model: string,
  output: string,
  options: { bins?: number; min?: number; max?: number } = {},
): Promise<HistogramBin[]> {
  const bins = options.bins ?? 20;
  const range = (await store.get(
    'SELECT MIN(value) AS min, MAX(value) AS max FROM model_outputs WHERE model = ? AND output = ? AND value IS NOT NULL',
    [model, output],
  )) as { min: number | null; max: number | null };
  const min = options.min ?? range.min;
  const max = options.max ?? range.max;
  if (min === null || max === null) return [];
  const width = max > min ? (max - min) / bins : 1;
  const counts = (await store.all(
    `SELECT ${store.dialect.least(store.dialect.greatest(store.dialect.truncate('(value - ?) / ?'), '0'), '?')} AS bin, COUNT(*) AS contacts
       FROM model_outputs WHERE model = ? AND output = ? AND value IS NOT NULL GROUP BY bin`,
    [min, width, bins - 1, model, output],
  )) as { bin: number; contacts: number }[];
  const byBin = new Map(counts.map((c) => [c.bin, c.contacts]));
  return Array.from({ length: bins }, (_, i) => ({
    from: min + i * width,
    to: min + (i + 1) * width,
    contacts: byBin.get(i) ?? 0,
  }));
}
