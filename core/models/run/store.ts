/** What model runs read from the store (features, purchases) and write to it (`model_outputs`). */
import { FEATURE_COLUMNS } from '../../features/catalog.js';
import { fieldName } from '../../features/filters.js';
import type { Dialect, SqlValue } from '../../store/dialect.js';
import type { Queryable } from '../../store/store.js';
import type { Columns } from '../prepare/index.js';

const NUMERIC_FEATURES = new Set(FEATURE_COLUMNS.filter((c) => c.type !== 'text').map((c) => c.name));
const TEXT_FEATURES = new Set(FEATURE_COLUMNS.filter((c) => c.type === 'text').map((c) => c.name));

/** Feature columns of contacts, in contact id order; contacts with an empty feature and no fill value are skipped. */
export interface FeatureRows {
  ids: number[];
  columns: Columns & Record<string, Float64Array>;
  /** Contacts left out because a feature was empty, by feature. */
  skipped: Record<string, number>;
}

function featureSql(d: Dialect, name: string, model: string): string {
  if (NUMERIC_FEATURES.has(name)) return `f.${name}`;
  if (TEXT_FEATURES.has(name))
    throw new Error(
      `models.${model}.features: "${name}" is text, not a number (use rfm_recency, rfm_frequency or rfm_monetary)`,
    );
  return d.jsonField('f.custom', fieldName(name), 'real');
}

/**
 * Reads features from `contact_features` (built-in columns, or expression features from config by name), for every
 * contact or the given ones.
 */
export async function readFeatures(
  store: Queryable,
  model: string,
  features: readonly string[],
  fill: Record<string, number>,
  ids?: readonly number[],
): Promise<FeatureRows> {
  const select = features.map((f, i) => `${featureSql(store.dialect, f, model)} AS v${i}`).join(', ');
  const custom = features.filter((f) => !NUMERIC_FEATURES.has(f));
  if (custom.length > 0) {
    const present = (await store.get(
      `SELECT ${custom.map((f) => `MAX(CASE WHEN ${store.dialect.jsonHas('custom', fieldName(f))} THEN 1 ELSE 0 END) AS "${f}"`).join(', ')} FROM contact_features`,
    )) as Record<string, number | null>;
    const missing = custom.filter((f) => !present[f]);
    if (missing.length > 0) {
      throw new Error(
        `models.${model}.features: unknown feature${missing.length > 1 ? 's' : ''} ${missing.map((f) => `"${f}"`).join(', ')} (use a built-in feature such as frequency_365d, or one defined under features: in config, and compute features first)`,
      );
    }
  }
  const rows = (
    ids === undefined
      ? await store.all(`SELECT f.contact_id AS id, ${select} FROM contact_features f ORDER BY f.contact_id`)
      : await store.all(
          `SELECT f.contact_id AS id, ${select} FROM contact_features f JOIN ${store.dialect.jsonValues('?', 'integer')} AS j ON j.value = f.contact_id ORDER BY f.contact_id`,
          [JSON.stringify(ids)],
        )
  ) as Record<string, number | null>[];
  const kept: number[] = [];
  const values: number[][] = features.map(() => []);
  const skipped: Record<string, number> = {};
  for (const row of rows) {
    let ok = true;
    const own: number[] = [];
    features.forEach((f, i) => {
      let v = row[`v${i}`];
      if (v === null || v === undefined || typeof v !== 'number' || !Number.isFinite(v)) v = fill[f] ?? null;
      if (v === null) {
        if (ok) skipped[f] = (skipped[f] ?? 0) + 1;
        ok = false;
      } else own.push(v);
    });
    if (!ok) continue;
    kept.push(row.id as number);
    own.forEach((v, i) => values[i]!.push(v));
  }
  const columns: Record<string, Float64Array> = {};
  features.forEach((f, i) => (columns[f] = Float64Array.from(values[i]!)));
  return { ids: kept, columns, skipped };
}

/** One output of a model for many contacts: a value and / or a label per contact. */
export interface OutputColumn {
  output: string;
  values: readonly (number | null)[];
  labels?: readonly (string | null)[];
}

/** The run whose outputs are written: its id in `model_runs` and the model's version. */
export interface OutputRun {
  id: number;
  version: number;
}

/** Rows per INSERT of {@link writeOutputs} (8 parameters each, well under either engine's limit). */
const OUTPUT_ROWS = 500;

/**
 * Writes a model's outputs for the given contacts, each row stamped with the run (and model version) that scored it.
 * With `replace`, every earlier output of the model goes first (a full run); otherwise only these contacts' rows are
 * replaced (scoring a few contacts).
 */
export async function writeOutputs(
  store: Queryable,
  model: string,
  run: OutputRun,
  ids: readonly number[],
  outputs: readonly OutputColumn[],
  computedAt: Date,
  replace: boolean,
): Promise<void> {
  const at = computedAt.toISOString();
  if (replace) await store.run('DELETE FROM model_outputs WHERE model = ?', [model]);
  else
    await store.run(
      `DELETE FROM model_outputs WHERE model = ? AND contact_id IN (SELECT value FROM ${store.dialect.jsonValues('?', 'integer')} AS j)`,
      [model, JSON.stringify(ids)],
    );
  // Rows go in multi-row statements of OUTPUT_ROWS (one round trip each on a server engine, not one per row).
  const rows: SqlValue[][] = [];
  for (const column of outputs)
    for (const [i, id] of ids.entries()) {
      const value = column.values[i] ?? null;
      const label = column.labels?.[i] ?? null;
      if (value === null && label === null) continue;
      rows.push([
        id,
        model,
        column.output,
        value !== null && Number.isFinite(value) ? value : null,
        label,
        at,
        run.version,
        run.id,
      ]);
    }
  for (let from = 0; from < rows.length; from += OUTPUT_ROWS) {
    const chunk = rows.slice(from, from + OUTPUT_ROWS);
    await store.run(
      `INSERT INTO model_outputs (contact_id, model, output, value, label, computed_at, model_version, run_id) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      chunk.flat(),
    );
  }
}

/** Labels of one output of a model by contact (the previous run's clusters, to count who moved). */
export async function readLabels(store: Queryable, model: string, output: string): Promise<Map<number, string | null>> {
  const rows = (await store.all('SELECT contact_id, label FROM model_outputs WHERE model = ? AND output = ?', [
    model,
    output,
  ])) as { contact_id: number; label: string | null }[];
  return new Map(rows.map((r) => [r.contact_id, r.label]));
}

/** A purchase from the store: its contact, when (ms since the epoch), and its value in the reporting currency (null when unconvertible). */
export interface StoredPurchase {
  contact: number;
  at: number;
  value: number | null;
}

/**
 * Purchase events up to `now` (inclusive), values converted to the reporting currency with the config's rates (a
 * purchase without a currency is in the reporting currency).
 */
export async function readPurchases(
  store: Queryable,
  now: Date,
  currency: { reporting: string; rates?: Record<string, number> } | undefined,
): Promise<StoredPurchase[]> {
  const reporting = currency?.reporting ?? 'USD';
  const rates = new Map<string, number>([[reporting, 1], ...Object.entries(currency?.rates ?? {})]);
  const rows = (await store.all(
    // contact_events keeps each purchase's currency, in contact order.
    `SELECT contact_id, occurred_at, value, currency FROM contact_events WHERE type = 'purchase' AND occurred_at <= ? ORDER BY contact_id, occurred_at, event_id`,
    [now.toISOString()],
  )) as {
    contact_id: number;
    occurred_at: string;
    value: number | null;
    currency: string | null;
  }[];
  return rows.map((r) => {
    const rate = rates.get(r.currency ?? reporting);
    return {
      contact: r.contact_id,
      at: Date.parse(r.occurred_at),
      value: r.value === null || rate === undefined ? null : r.value * rate,
    };
  });
}
