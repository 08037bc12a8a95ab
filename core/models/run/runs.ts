/** The record of model runs (`model_runs`): writing one as it starts and finishes, listing and reading them back. */
import type { Queryable } from '../../store/store.js';

export type ModelRunStatus = 'running' | 'succeeded' | 'failed';

/** One row of `model_runs` as the API and console show it (without the saved model, see {@link readModelRun}). */
export interface ModelRunSummary {
  id: number;
  model: string;
  kind: string;
  version: number;
  status: ModelRunStatus;
  startedAt: string;
  finishedAt: string | null;
  /** The moment the model describes (`now` of the run): features and purchases up to it. */
  scoredAt: string;
  /** Contacts that received outputs. */
  contacts: number;
  error: string | null;
}

/** A model run with its settings, metrics and what scoring new contacts needs. */
export interface ModelRun extends ModelRunSummary {
  params: Record<string, unknown>;
  metrics: Record<string, unknown>;
  saved: Record<string, unknown>;
}

interface Row {
  id: number;
  model: string;
  kind: string;
  version: number;
  status: ModelRunStatus;
  started_at: string;
  finished_at: string | null;
  scored_at: string;
  contacts: number;
  error: string | null;
  params?: string;
  metrics?: string;
  saved?: string;
}

const SUMMARY_COLUMNS = 'id, model, kind, version, status, started_at, finished_at, scored_at, contacts, error';

function summary(row: Row): ModelRunSummary {
  return {
    id: row.id,
    model: row.model,
    kind: row.kind,
    version: row.version,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    scoredAt: row.scored_at,
    contacts: row.contacts,
    error: row.error,
  };
}

/**
 * Model runs, newest first, optionally of one model.
 *
 * @example
 * listModelRuns(store, { model: 'clusters' }); // [{ id: 7, model: 'clusters', kind: 'kmeans', version: 3, status: 'succeeded', … }]
 */
export async function listModelRuns(
  store: Queryable,
  options: { model?: string; limit?: number } = {},
): Promise<ModelRunSummary[]> {
  const limit = options.limit ?? 100;
  const rows = (
    options.model === undefined
      ? await store.all(`SELECT ${SUMMARY_COLUMNS} FROM model_runs ORDER BY id DESC LIMIT ?`, [limit])
      : await store.all(`SELECT ${SUMMARY_COLUMNS} FROM model_runs WHERE model = ? ORDER BY id DESC LIMIT ?`, [
          options.model,
          limit,
        ])
  ) as Row[];
  return rows.map(summary);
}

/**
 * One model run with its settings, metrics and saved model; null when there is no such run.
 *
 * @example
 * const run = readModelRun(store, 7);
 * run?.metrics.choice; // { k: 4, elbow: 4, bestSilhouette: 4, reasons: [...] }
 */
export async function readModelRun(store: Queryable, id: number): Promise<ModelRun | null> {
  const row = (await store.get(`SELECT ${SUMMARY_COLUMNS}, params, metrics, saved FROM model_runs WHERE id = ?`, [
    id,
  ])) as Row | undefined;
  if (!row) return null;
  return { ...summary(row), params: parse(row.params), metrics: parse(row.metrics), saved: parse(row.saved) };
}

/** The newest succeeded run of a model (the one whose outputs are in the store), or null. */
export async function latestModelRun(store: Queryable, model: string): Promise<ModelRun | null> {
  const row = (await store.get(
    "SELECT id FROM model_runs WHERE model = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
    [model],
  )) as { id: number } | undefined;
  return row ? await readModelRun(store, row.id) : null;
}

function parse(text: string | undefined): Record<string, unknown> {
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Records a run as started and returns its id and version (the model's previous version + 1). */
export async function startModelRun(
  store: Queryable,
  model: string,
  kind: string,
  params: unknown,
  scoredAt: Date,
  startedAt: Date,
): Promise<{ id: number; version: number }> {
  return await store.transaction(async (tx) => {
    const last = (await tx.get('SELECT MAX(version) AS v FROM model_runs WHERE model = ?', [model])) as {
      v: number | null;
    };
    const version = (last.v ?? 0) + 1;
    const result = (await tx.get(
      "INSERT INTO model_runs (model, kind, version, status, started_at, scored_at, params) VALUES (?, ?, ?, 'running', ?, ?, ?) RETURNING id",
      [model, kind, version, startedAt.toISOString(), scoredAt.toISOString(), JSON.stringify(params)],
    )) as { id: number };
    return { id: result.id, version };
  });
}

export async function finishModelRun(
  store: Queryable,
  id: number,
  outcome: { contacts: number; metrics: unknown; saved: unknown; finishedAt: Date },
): Promise<void> {
  await store.run(
    "UPDATE model_runs SET status = 'succeeded', finished_at = ?, contacts = ?, metrics = ?, saved = ? WHERE id = ?",
    [
      outcome.finishedAt.toISOString(),
      outcome.contacts,
      JSON.stringify(outcome.metrics),
      JSON.stringify(outcome.saved),
      id,
    ],
  );
}

export async function failModelRun(store: Queryable, id: number, error: string, finishedAt: Date): Promise<void> {
  await store.run("UPDATE model_runs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?", [
    finishedAt.toISOString(),
    error,
    id,
  ]);
}
