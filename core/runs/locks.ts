import type { Queryable } from '../store/store.js';

/**
 * Takes the lock of `job` for `holder` for `ttlMs`, unless another holder's lock has not expired. Returns whether the
 * lock is now held by `holder`. Re-acquiring one's own lock extends it.
 *
 * @example
 * if (!acquireJobLock(store, 'nightly', `pid:${process.pid}`, 60_000)) return; // another process runs it
 */
export async function acquireJobLock(
  store: Queryable,
  job: string,
  holder: string,
  ttlMs: number,
  now = new Date(),
): Promise<boolean> {
  const at = now.toISOString();
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  return await store.transaction(async (tx) => {
    const current = (await tx.get('SELECT holder, expires_at FROM job_locks WHERE job = ?', [job])) as
      { holder: string; expires_at: string } | undefined;
    if (current && current.holder !== holder && current.expires_at > at) return false;
    await tx.run(
      tx.dialect.upsert({
        table: 'job_locks',
        columns: ['job', 'holder', 'acquired_at', 'heartbeat_at', 'expires_at'],
        conflict: ['job'],
        update: ['holder', 'acquired_at', 'heartbeat_at', 'expires_at'],
      }),
      [job, holder, at, at, expires],
    );
    return true;
  });
}

/** Extends a held lock; returns false when `holder` no longer holds it (it expired and was taken). */
export async function heartbeatJobLock(
  store: Queryable,
  job: string,
  holder: string,
  ttlMs: number,
  now = new Date(),
): Promise<boolean> {
  const r = await store.run('UPDATE job_locks SET heartbeat_at = ?, expires_at = ? WHERE job = ? AND holder = ?', [
    now.toISOString(),
    new Date(now.getTime() + ttlMs).toISOString(),
    job,
    holder,
  ]);
  return r.changes === 1;
}

/** Releases a lock held by `holder` (a no-op when it is not held by them). */
export async function releaseJobLock(store: Queryable, job: string, holder: string): Promise<void> {
  await store.run('DELETE FROM job_locks WHERE job = ? AND holder = ?', [job, holder]);
}
