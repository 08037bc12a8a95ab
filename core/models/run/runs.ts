/** The record of model runs (`model_runs`): writing one as it starts and finishes, listing and reading them back. */
import type { Store } from '../../store/store.js';

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
export function listModelRuns(store: Store, options: { model?: string; limit?: number } = {}): ModelRunSummary[] {
  const limit = options.limit ?? 100;
  const rows = (
    options.model === undefined
      ? store.statement(`SELECT ${SUMMARY_COLUMNS} FROM model_runs ORDER BY id DESC LIMIT ?`).all(limit)
      : store
          .statement(`SELECT ${SUMMARY_COLUMNS} FROM model_runs WHERE model = ? ORDER BY id DESC LIMIT ?`)
          .all(options.model, limit)
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
export function readModelRun(store: Store, id: number): ModelRun | null {
  const row = store
    .statement(`SELECT ${SUMMARY_COLUMNS}, params, metrics, saved FROM model_runs WHERE id = ?`)
    .get(id) as Row | undefined;
  if (!row) return null;
  return { ...summary(row), params: parse(row.params), metrics: parse(row.metrics), saved: parse(row.saved) };
}

/** The newest succeeded run of a model (the one whose outputs are in the store), or null. */
export function latestModelRun(store: Store, model: string): ModelRun | null {
  const row = store
    .statement("SELECT id FROM model_runs WHERE model = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1")
    .get(model) as { id: number } | undefined;
  return row ? readModelRun(store, row.id) : null;
}

function parse(text: string | undefined): Record<string, unknown> {
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Records a run as started and returns its id and version (the model's previous version + 1). */
export function startModelRun(
  store: Store,
  model: string,
  kind: string,
  params: unknown,
  scoredAt: Date,
  startedAt: Date,
): { id: number; version: number } {
  return store.transaction(() => {
    const last = store.statement('SELECT MAX(version) AS v FROM model_runs WHERE model = ?').get(model) as {
      v: number | null;
    };
    const version = (last.v ?? 0) + 1;
    const result = store
      .statement(
        "INSERT INTO model_runs (model, kind, version, status, started_at, scored_at, params) VALUES (?, ?, ?, 'running', ?, ?, ?)",
      )
      .run(model, kind, version, startedAt.toISOString(), scoredAt.toISOString(), JSON.stringify(params));
    return { id: Number(result.lastInsertRowid), version };
  });
}

export function finishModelRun(
  store: Store,
  id: number,
  outcome: { contacts: number; metrics: unknown; saved: unknown; finishedAt: Date },
): void {
  store
    .statement(
      "UPDATE model_runs SET status = 'succeeded', finished_at = ?, contacts = ?, metrics = ?, saved = ? WHERE id = ?",
    )
    .run(
      outcome.finishedAt.toISOString(),
      outcome.contacts,
      JSON.stringify(outcome.metrics),
      JSON.stringify(outcome.saved),
      id,
    );
}

export function failModelRun(store: Store, id: number, error: string, finishedAt: Date): void {
  store
    .statement("UPDATE model_runs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?")
    .run(finishedAt.toISOString(), error, id);
}
