import type { Queryable } from '../store/store.js';

/**
 * The states a sync run can be in. `abandoned`: its process stopped without finishing (killed, or its lease taken over);
 * stored as `failed` with `abandoned_at` set.
 */
export const RUN_STATUSES = ['running', 'succeeded', 'partial', 'failed', 'cancelled', 'abandoned'] as const;
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
  /** When someone asked the run to stop (it ends `cancelled` after its current page or batch). */
  cancelRequestedAt: string | null;
  /** Per-stream and per-destination counts and step timings, as the run last wrote them (null before its first step). */
  report: unknown;
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
export async function startRun(store: Queryable, job: string, now = new Date().toISOString()): Promise<number> {
  const r = (await store.get(
    "INSERT INTO sync_runs (job, status, started_at, counts) VALUES (?, 'running', ?, '{}') RETURNING id",
    [job, now],
  )) as { id: number };
  return r.id;
}

/** Finishes a run with its final status and counts. */
export async function finishRun(
  store: Queryable,
  runId: number,
  status: Exclude<RunStatus, 'running' | 'abandoned'>,
  counts: Record<string, number>,
  error: string | null = null,
  now = new Date().toISOString(),
): Promise<void> {
  // A run marked abandoned (its lease was taken over) keeps that status.
  await store.run(
    'UPDATE sync_runs SET status = ?, finished_at = ?, counts = ?, error = ? WHERE id = ? AND abandoned_at IS NULL',
    [status, now, JSON.stringify(counts), error, runId],
  );
}

interface RunRow {
  id: number;
  job: string;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  counts: string;
  error: string | null;
  cancel_requested_at: string | null;
  report: string | null;
  abandoned_at: string | null;
}

function runOf(row: RunRow): SyncRun {
  return {
    id: row.id,
    job: row.job,
    status: row.abandoned_at === null ? row.status : 'abandoned',
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    counts: JSON.parse(row.counts) as Record<string, number>,
    error: row.error,
    cancelRequestedAt: row.cancel_requested_at,
    report: row.report === null ? null : (JSON.parse(row.report) as unknown),
  };
}

/** A run by id. */
export async function readRun(store: Queryable, runId: number): Promise<SyncRun | undefined> {
  const row = (await store.get('SELECT * FROM sync_runs WHERE id = ?', [runId])) as RunRow | undefined;
  return row ? runOf(row) : undefined;
}

/**
 * Runs, newest first: of one job or all, at most `limit` (default 20), and only those older than run `before` (the
 * last id of the previous page) when given.
 *
 * @example
 * const page = listRuns(store, { job: 'nightly', limit: 10 });
 * const next = listRuns(store, { job: 'nightly', limit: 10, before: page.at(-1)?.id });
 */
export async function listRuns(
  store: Queryable,
  options: { job?: string; limit?: number; before?: number } = {},
): Promise<SyncRun[]> {
  const limit = Math.max(0, Math.floor(options.limit ?? 20));
  // Conditions only for what was given: PostgreSQL cannot type a bare `? IS NULL` parameter.
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (options.job !== undefined) {
    where.push('job = ?');
    params.push(options.job);
  }
  if (options.before !== undefined) {
    where.push('id < ?');
    params.push(options.before);
  }
  const rows = (await store.all(
    `SELECT * FROM sync_runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    [...params, limit],
  )) as RunRow[];
  return rows.map(runOf);
}

/**
 * Asks a running run to stop: it finishes its current page or batch, commits, and ends `cancelled`. Works across
 * processes (the run polls the store). Returns false when the run is unknown or no longer running.
 *
 * @example
 * if (!requestCancel(store, 42)) console.log('run 42 is not running');
 */
export async function requestCancel(store: Queryable, runId: number, now = new Date().toISOString()): Promise<boolean> {
  const r = await store.run(
    "UPDATE sync_runs SET cancel_requested_at = COALESCE(cancel_requested_at, ?) WHERE id = ? AND status = 'running'",
    [now, runId],
  );
  return r.changes === 1;
}

/** Whether someone asked run `runId` to stop. */
export async function cancelRequested(store: Queryable, runId: number): Promise<boolean> {
  const row = (await store.get('SELECT cancel_requested_at FROM sync_runs WHERE id = ?', [runId])) as
    { cancel_requested_at: string | null } | undefined;
  return row !== undefined && row.cancel_requested_at !== null;
}

/** Stores a run's report (per-stream and per-destination counts, timings); a running run rewrites it as it goes. */
export async function writeRunReport(
  store: Queryable,
  runId: number,
  report: unknown,
  counts?: Record<string, number>,
): Promise<void> {
  if (counts === undefined)
    await store.run('UPDATE sync_runs SET report = ? WHERE id = ?', [JSON.stringify(report), runId]);
  else
    await store.run('UPDATE sync_runs SET report = ?, counts = ? WHERE id = ?', [
      JSON.stringify(report),
      JSON.stringify(counts),
      runId,
    ]);
}

/** How many per-row errors a run recorded. */
export async function countRunErrors(store: Queryable, runId: number): Promise<number> {
  return ((await store.get('SELECT COUNT(*) AS n FROM run_errors WHERE run_id = ?', [runId])) as { n: number }).n;
}

/**
 * Records per-row errors. Call it outside the page's transaction (loadPage does) so the errors survive a page that
 * rolls back.
 */
export async function recordRunErrors(
  store: Queryable,
  runId: number | null,
  errors: readonly RunError[],
  now = new Date().toISOString(),
): Promise<void> {
  if (errors.length === 0) return;
  const insert =
    'INSERT INTO run_errors (run_id, connection, stream, record_key, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)';
  await store.transaction(async (tx) => {
    for (const e of errors)
      await tx.run(insert, [runId, e.connection ?? null, e.stream ?? null, e.recordKey ?? null, e.reason, now]);
  });
}

/** The errors recorded for a run, oldest first (the first `limit` of them when given). */
export async function readRunErrors(store: Queryable, runId: number, limit?: number): Promise<RunError[]> {
  const rows = (await store.all(
    `SELECT connection, stream, record_key, reason FROM run_errors WHERE run_id = ? ORDER BY id${limit === undefined ? '' : ' LIMIT ?'}`,
    limit === undefined ? [runId] : [runId, limit],
  )) as {
    connection: string | null;
    stream: string | null;
    record_key: string | null;
    reason: string;
  }[];
  return rows.map((r) => ({
    ...(r.connection !== null ? { connection: r.connection } : {}),
    ...(r.stream !== null ? { stream: r.stream } : {}),
    ...(r.record_key !== null ? { recordKey: r.record_key } : {}),
    reason: r.reason,
  }));
}
