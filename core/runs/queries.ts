import type { Queryable } from '../store/store.js';
import { readRun, type RunError, type SyncRun } from './runs.js';

/** A run's status as shown: `abandoned` is stored as `failed` with `abandoned_at` set. */
const STATUS = "CASE WHEN abandoned_at IS NULL THEN status ELSE 'abandoned' END";

/** A page of runs, newest first, with the total matching. */
export interface RunPage {
  runs: SyncRun[];
  total: number;
}

/**
 * Runs newest first, optionally of one job, paged (the admin API's `GET /runs`).
 *
 * @example
 * const { runs, total } = listRunPage(store, { job: 'nightly', limit: 20, offset: 0 });
 */
export async function listRunPage(
  store: Queryable,
  options: { job?: string; limit: number; offset: number },
): Promise<RunPage> {
  // PostgreSQL cannot type a bare `? IS NULL` parameter: the job condition is there only when a job was given.
  const where = options.job === undefined ? '' : 'WHERE job = ?';
  const byJob = options.job === undefined ? [] : [options.job];
  const ids = (await store.all(`SELECT id FROM sync_runs ${where} ORDER BY id DESC LIMIT ? OFFSET ?`, [
    ...byJob,
    options.limit,
    options.offset,
  ])) as { id: number }[];
  const total = Number(
    ((await store.get(`SELECT COUNT(*) AS n FROM sync_runs ${where}`, byJob)) as { n: number | string }).n,
  );
  const runs: SyncRun[] = [];
  for (const r of ids) {
    const run = await readRun(store, r.id);
    if (run !== undefined) runs.push(run);
  }
  return { runs, total };
}

/** The latest run of a job, if it ever ran. */
export async function lastRunOf(store: Queryable, job: string): Promise<SyncRun | undefined> {
  const row = (await store.get('SELECT id FROM sync_runs WHERE job = ? ORDER BY id DESC LIMIT 1', [job])) as
    { id: number } | undefined;
  return row ? await readRun(store, row.id) : undefined;
}

/** A page of a run's rejected rows, oldest first, with their total. */
export async function readRunErrorPage(
  store: Queryable,
  runId: number,
  options: { limit: number; offset: number },
): Promise<{ errors: RunError[]; total: number }> {
  const rows = (await store.all(
    'SELECT connection, stream, record_key, reason FROM run_errors WHERE run_id = ? ORDER BY id LIMIT ? OFFSET ?',
    [runId, options.limit, options.offset],
  )) as {
    connection: string | null;
    stream: string | null;
    record_key: string | null;
    reason: string;
  }[];
  const total = ((await store.get('SELECT COUNT(*) AS n FROM run_errors WHERE run_id = ?', [runId])) as { n: number })
    .n;
  return {
    errors: rows.map((r) => ({
      ...(r.connection !== null ? { connection: r.connection } : {}),
      ...(r.stream !== null ? { stream: r.stream } : {}),
      ...(r.record_key !== null ? { recordKey: r.record_key } : {}),
      reason: r.reason,
    })),
    total,
  };
}

/** Runs per status and the sums of their counts (read, inserted, added, rejected, …), for /metrics. */
export async function runTotals(store: Queryable): Promise<{
  byStatus: Record<string, number>;
  byJobStatus: { job: string; status: string; runs: number }[];
  counts: Record<string, number>;
  rejectedRows: number;
}> {
  const byJobStatus = (await store.all(
    `SELECT job, ${STATUS} AS status, COUNT(*) AS runs FROM sync_runs GROUP BY job, ${STATUS} ORDER BY job, status`,
  )) as {
    job: string;
    status: string;
    runs: number;
  }[];
  const byStatus: Record<string, number> = {};
  for (const r of byJobStatus) byStatus[r.status] = (byStatus[r.status] ?? 0) + r.runs;
  const counts: Record<string, number> = {};
  for await (const batch of store.iterate('SELECT counts FROM sync_runs'))
    for (const row of batch as { counts: string }[]) {
      for (const [k, v] of Object.entries(JSON.parse(row.counts) as Record<string, unknown>)) {
        if (typeof v === 'number') counts[k] = (counts[k] ?? 0) + v;
      }
    }
  const rejectedRows = ((await store.get('SELECT COUNT(*) AS n FROM run_errors')) as { n: number }).n;
  return { byStatus, byJobStatus, counts, rejectedRows };
}
