import type { Store } from '../store/store.js';

/** The states a sync run can be in. */
export const RUN_STATUSES = ['running', 'succeeded', 'partial', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A sync run as stored. */
export interface SyncRun {
  id: number;
  job: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  counts: Record<string, number>;
  error: string | null;
}

/** One row a run could not load, and why. */
export interface RunError {
  connection?: string;
  stream?: string;
  /** The row's own key (e.g. `hubspot:101` or a source event id). */
  recordKey?: string;
  reason: string;
}

/** Starts a run of `job` and returns its id. */
export function startRun(store: Store, job: string, now = new Date().toISOString()): number {
  const r = store
    .statement("INSERT INTO sync_runs (job, status, started_at, counts) VALUES (?, 'running', ?, '{}')")
    .run(job, now);
  return Number(r.lastInsertRowid);
}

/** Finishes a run with its final status and counts. */
export function finishRun(
  store: Store,
  runId: number,
  status: Exclude<RunStatus, 'running'>,
  counts: Record<string, number>,
  error: string | null = null,
  now = new Date().toISOString(),
): void {
  store
    .statement('UPDATE sync_runs SET status = ?, finished_at = ?, counts = ?, error = ? WHERE id = ?')
    .run(status, now, JSON.stringify(counts), error, runId);
}

/** A run by id. */
export function readRun(store: Store, runId: number): SyncRun | undefined {
  const row = store.statement('SELECT * FROM sync_runs WHERE id = ?').get(runId) as
    | { id: number; job: string; status: RunStatus; started_at: string; finished_at: string | null; counts: string; error: string | null }
    | undefined;
  if (!row) return undefined;
  return {
    id: row.id,
    job: row.job,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    counts: JSON.parse(row.counts) as Record<string, number>,
    error: row.error,
  };
}

/**
 * Records per-row errors. Call it outside the page's transaction (loadPage does) so the errors survive a page that
 * rolls back.
 */
export function recordRunErrors(store: Store, runId: number | null, errors: readonly RunError[], now = new Date().toISOString()): void {
  if (errors.length === 0) return;
  const insert = store.statement(
    'INSERT INTO run_errors (run_id, connection, stream, record_key, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  store.transaction(() => {
    for (const e of errors) insert.run(runId, e.connection ?? null, e.stream ?? null, e.recordKey ?? null, e.reason, now);
  });
}

/** The errors recorded for a run, oldest first. */
export function readRunErrors(store: Store, runId: number): RunError[] {
  const rows = store
    .statement('SELECT connection, stream, record_key, reason FROM run_errors WHERE run_id = ? ORDER BY id')
    .all(runId) as { connection: string | null; stream: string | null; record_key: string | null; reason: string }[];
  return rows.map((r) => ({
    ...(r.connection !== null ? { connection: r.connection } : {}),
    ...(r.stream !== null ? { stream: r.stream } : {}),
    ...(r.record_key !== null ? { recordKey: r.record_key } : {}),
    reason: r.reason,
  }));
}
