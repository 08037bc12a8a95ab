import type { Store } from '../store/store.js';

/**
 * Takes the lock of `job` for `holder` for `ttlMs`, unless another holder's lock has not expired. Returns whether the
 * lock is now held by `holder`. Re-acquiring one's own lock extends it.
 *
 * @example
 * if (!acquireJobLock(store, 'nightly', `pid:${process.pid}`, 60_000)) return; // another process runs it
 */
export function acquireJobLock(store: Store, job: string, holder: string, ttlMs: number, now = new Date()): boolean {
  const at = now.toISOString();
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  return store.transaction(() => {
    const current = store.statement('SELECT holder, expires_at FROM job_locks WHERE job = ?').get(job) as
      { holder: string; expires_at: string } | undefined;
    if (current && current.holder !== holder && current.expires_at > at) return false;
    store
      .statement(
        store.dialect.upsert({
          table: 'job_locks',
          columns: ['job', 'holder', 'acquired_at', 'heartbeat_at', 'expires_at'],
          conflict: ['job'],
          update: ['holder', 'acquired_at', 'heartbeat_at', 'expires_at'],
        }),
      )
      .run(job, holder, at, at, expires);
    return true;
  });
}

/** Extends a held lock; returns false when `holder` no longer holds it (it expired and was taken). */
export function heartbeatJobLock(store: Store, job: string, holder: string, ttlMs: number, now = new Date()): boolean {
  const r = store
    .statement('UPDATE job_locks SET heartbeat_at = ?, expires_at = ? WHERE job = ? AND holder = ?')
    .run(now.toISOString(), new Date(now.getTime() + ttlMs).toISOString(), job, holder);
  return r.changes === 1;
}

/** Releases a lock held by `holder` (a no-op when it is not held by them). */
export function releaseJobLock(store: Store, job: string, holder: string): void {
  store.statement('DELETE FROM job_locks WHERE job = ? AND holder = ?').run(job, holder);
}
