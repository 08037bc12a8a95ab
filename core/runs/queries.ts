import type { Store } from '../store/store.js';
import { readRun, type RunError, type SyncRun } from './runs.js';

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
export function listRunPage(store: Store, options: { job?: string; limit: number; offset: number }): RunPage {
  const job = options.job ?? null;
  const ids = store
    .statement('SELECT id FROM sync_runs WHERE (? IS NULL OR job = ?) ORDER BY id DESC LIMIT ? OFFSET ?')
    .all(job, job, options.limit, options.offset) as { id: number }[];
  const total = (
    store.statement('SELECT COUNT(*) AS n FROM sync_runs WHERE (? IS NULL OR job = ?)').get(job, job) as { n: number }
  ).n;
  return { runs: ids.map((r) => readRun(store, r.id)).filter((r): r is SyncRun => r !== undefined), total };
}

/** The latest run of a job, if it ever ran. */
export function lastRunOf(store: Store, job: string): SyncRun | undefined {
  const row = store.statement('SELECT id FROM sync_runs WHERE job = ? ORDER BY id DESC LIMIT 1').get(job) as
    { id: number } | undefined;
  return row ? readRun(store, row.id) : undefined;
}

/** A page of a run's rejected rows, oldest first, with their total. */
export function readRunErrorPage(
  store: Store,
  runId: number,
  options: { limit: number; offset: number },
): { errors: RunError[]; total: number } {
  const rows = store
    .statement(
      'SELECT connection, stream, record_key, reason FROM run_errors WHERE run_id = ? ORDER BY id LIMIT ? OFFSET ?',
    )
    .all(runId, options.limit, options.offset) as {
    connection: string | null;
    stream: string | null;
    record_key: string | null;
    reason: string;
  }[];
  const total = (store.statement('SELECT COUNT(*) AS n FROM run_errors WHERE run_id = ?').get(runId) as { n: number })
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
export function runTotals(store: Store): {
  byStatus: Record<string, number>;
  byJobStatus: { job: string; status: string; runs: number }[];
  counts: Record<string, number>;
  rejectedRows: number;
} {
  const byJobStatus = store
    .statement('SELECT job, status, COUNT(*) AS runs FROM sync_runs GROUP BY job, status ORDER BY job, status')
    .all() as {
    job: string;
    status: string;
    runs: number;
  }[];
  const byStatus: Record<string, number> = {};
  for (const r of byJobStatus) byStatus[r.status] = (byStatus[r.status] ?? 0) + r.runs;
  const counts: Record<string, number> = {};
  for (const row of store.statement('SELECT counts FROM sync_runs').iterate() as IterableIterator<{ counts: string }>) {
    for (const [k, v] of Object.entries(JSON.parse(row.counts) as Record<string, unknown>)) {
      if (typeof v === 'number') counts[k] = (counts[k] ?? 0) + v;
    }
  }
  const rejectedRows = (store.statement('SELECT COUNT(*) AS n FROM run_errors').get() as { n: number }).n;
  return { byStatus, byJobStatus, counts, rejectedRows };
}
