import type { Queryable } from '../store/store.js';

/** One change or action made through the API or the console: who (the token's role), what, on what, and how it ended. */
export interface Activity {
  id: number;
  at: string;
  /** `admin` or `read` (a read token refused an action), or null when the request carried no valid credential. */
  role: string | null;
  /** What was asked, in words of the API: `job.run`, `job.dry_run`, `run.cancel`, `contact.erase`, … */
  action: string;
  /** What it was asked of: a job name, a run id, a contact id, a connection name. */
  target: string | null;
  method: string;
  path: string;
  /** The HTTP status it was answered with. */
  status: number;
  /** A short outcome (run id started, rows requeued, destinations erased); never a secret or a person's data. */
  detail: Record<string, unknown> | null;
}

/**
 * Adds an entry to the activity log.
 *
 * @example
 * await recordActivity(store, { role: 'admin', action: 'job.run', target: 'nightly', method: 'POST',
 *   path: '/jobs/nightly/run', status: 202, detail: { runId: 7 } });
 */
export async function recordActivity(
  store: Queryable,
  entry: Omit<Activity, 'id' | 'at' | 'detail'> & { detail?: Record<string, unknown> | null },
  now = new Date(),
): Promise<void> {
  await store.run(
    'INSERT INTO activity_log (at, role, action, target, method, path, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [
      now.toISOString(),
      entry.role,
      entry.action,
      entry.target,
      entry.method,
      entry.path,
      entry.status,
      entry.detail ? JSON.stringify(entry.detail) : null,
    ],
  );
}

/**
 * The activity log, newest first, a page at a time, optionally of one action or target.
 *
 * @example
 * const { entries, total } = await listActivity(store, { limit: 50, offset: 0 });
 */
export async function listActivity(
  store: Queryable,
  options: { limit: number; offset: number; action?: string; target?: string },
): Promise<{ entries: Activity[]; total: number }> {
  const conditions: string[] = [];
  const filter: string[] = [];
  if (options.action !== undefined) {
    conditions.push('action = ?');
    filter.push(options.action);
  }
  if (options.target !== undefined) {
    conditions.push('target = ?');
    filter.push(options.target);
  }
  const where = conditions.length ? conditions.join(' AND ') : '1 = 1';
  const rows = (await store.all(`SELECT * FROM activity_log WHERE ${where} ORDER BY id DESC LIMIT ? OFFSET ?`, [
    ...filter,
    options.limit,
    options.offset,
  ])) as (Omit<Activity, 'detail'> & { detail: string | null })[];
  const total = ((await store.get(`SELECT COUNT(*) AS n FROM activity_log WHERE ${where}`, filter)) as { n: number }).n;
  return {
    entries: rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      role: r.role,
      action: r.action,
      target: r.target,
      method: r.method,
      path: r.path,
      status: Number(r.status),
      detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
    })),
    total: Number(total),
  };
}
