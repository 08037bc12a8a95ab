import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Queryable } from '../store/store.js';

/**
 * A job lock is a lease: its holder heartbeats, and another holder takes it over once the heartbeats stop for `ttlMs`
 * — or at once when the holder is a process on this host that is no longer running (checked by pid and the process's
 * start time, so a reused pid does not pass for the dead holder).
 */

/** The process that holds a lease: where it runs and since when, to tell a dead holder from a live one. */
export interface LeaseProcess {
  /** This machine since its last boot: the host name and, on Linux, the boot id. */
  host: string;
  pid: number;
  /** When the process started (Linux: its start time in clock ticks after boot); null where unknown. */
  started: string | null;
}

/** Who holds a job's lease now. */
export interface LeaseHolder extends LeaseProcess {
  holder: string;
  acquiredAt: string;
  heartbeatAt: string;
  expiresAt: string;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** This machine since its last boot. */
function thisHost(): string {
  const boot = readOr('/proc/sys/kernel/random/boot_id', '');
  return boot === '' ? hostname() : `${hostname()}/${boot}`;
}

/** When process `pid` started, in clock ticks after boot (field 22 of /proc/<pid>/stat); null off Linux or when gone. */
function startOf(pid: number): string | null {
  const stat = readOr(`/proc/${pid}/stat`, '');
  // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

let self: LeaseProcess | undefined;

/** The current process, as a lease records it (read once: a real-time flush takes a lock several times a second). */
export function thisProcess(): LeaseProcess {
  self ??= { host: thisHost(), pid: process.pid, started: startOf(process.pid) };
  return self;
}

/** Whether `p` ran on this host and is no longer running (its pid is gone, or taken by a later process). */
export function isDeadHere(p: LeaseProcess): boolean {
  if (p.host !== thisHost()) return false;
  try {
    process.kill(p.pid, 0);
  } catch (error) {
    // EPERM: the pid runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return p.started !== null && startOf(p.pid) !== p.started;
}

interface LockRow {
  holder: string;
  host: string | null;
  pid: number | null;
  process_started: string | null;
  acquired_at: string;
  heartbeat_at: string;
  expires_at: string;
}

function holderOf(row: LockRow): LeaseHolder {
  return {
    holder: row.holder,
    host: row.host ?? '',
    pid: row.pid ?? 0,
    started: row.process_started,
    acquiredAt: row.acquired_at,
    heartbeatAt: row.heartbeat_at,
    expiresAt: row.expires_at,
  };
}

/** Who holds the lease of `job`, if anyone (an expired lease is still shown until it is taken or released). */
export async function jobLockHolder(store: Queryable, job: string): Promise<LeaseHolder | undefined> {
  const row = (await store.get('SELECT * FROM job_locks WHERE job = ?', [job])) as LockRow | undefined;
  return row ? holderOf(row) : undefined;
}

/** Whether another holder may take this lease now: it expired, or its process on this host is gone. */
function takeable(row: LockRow, at: string): boolean {
  if (row.expires_at <= at) return true;
  return row.host !== null && row.pid !== null && isDeadHere(holderOf(row));
}

/**
 * Takes the lease of `job` for `holder` (run by `owner`, this process by default) for `ttlMs`, unless another holder's
 * lease is live. Returns whether `holder` holds it now. Re-acquiring one's own lease extends it.
 *
 * @example
 * if (!(await acquireJobLock(store, 'nightly', `run:${process.pid}`, 60_000))) return; // another process runs it
 */
export async function acquireJobLock(
  store: Queryable,
  job: string,
  holder: string,
  ttlMs: number,
  now = new Date(),
  owner: LeaseProcess = thisProcess(),
): Promise<boolean> {
  const at = now.toISOString();
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  return await store.transaction(async (tx) => {
    const current = (await tx.get('SELECT * FROM job_locks WHERE job = ?', [job])) as LockRow | undefined;
    if (current && current.holder !== holder && !takeable(current, at)) return false;
    await tx.run(
      tx.dialect.upsert({
        table: 'job_locks',
        columns: ['job', 'holder', 'host', 'pid', 'process_started', 'acquired_at', 'heartbeat_at', 'expires_at'],
        conflict: ['job'],
        update: ['holder', 'host', 'pid', 'process_started', 'acquired_at', 'heartbeat_at', 'expires_at'],
      }),
      [job, holder, owner.host, owner.pid, owner.started, at, at, expires],
    );
    return true;
  });
}

/** Extends a held lease; returns false when `holder` no longer holds it (it was taken over or released). */
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

/** Releases a lease held by `holder` (a no-op when it is not held by them). */
export async function releaseJobLock(store: Queryable, job: string, holder: string): Promise<void> {
  await store.run('DELETE FROM job_locks WHERE job = ? AND holder = ?', [job, holder]);
}

/**
 * Clears the lease of `job` whoever holds it, and marks the job's runs still shown as running `abandoned` — for a
 * holder on another host that will not come back. Refuses (returns `live`) when the holder is a running process on
 * this host, unless `force`.
 *
 * @example
 * const { cleared, abandonedRuns } = await unlockJob(store, 'nightly');
 */
export async function unlockJob(
  store: Queryable,
  job: string,
  options: { force?: boolean; now?: Date } = {},
): Promise<{ cleared: boolean; live?: LeaseHolder; abandonedRuns: number[] }> {
  const at = (options.now ?? new Date()).toISOString();
  return await store.transaction(async (tx) => {
    const current = (await tx.get('SELECT * FROM job_locks WHERE job = ?', [job])) as LockRow | undefined;
    if (current && options.force !== true && current.host === thisHost() && !isDeadHere(holderOf(current)))
      return { cleared: false, live: holderOf(current), abandonedRuns: [] };
    if (current) await tx.run('DELETE FROM job_locks WHERE job = ?', [job]);
    const abandonedRuns = await abandonRuns(tx, job, 'abandoned: its lock was cleared by hand', at);
    return { cleared: current !== undefined, abandonedRuns };
  });
}

/**
 * Marks the runs of `job` still shown as running as abandoned, with `reason`: called by the holder that just took the
 * job's lease (no other run of the job can be running then). Returns their ids.
 */
export async function abandonRuns(store: Queryable, job: string, reason: string, at: string): Promise<number[]> {
  const rows = (await store.all(
    `UPDATE sync_runs SET status = 'failed', abandoned_at = ?, finished_at = ?, error = ?
      WHERE job = ? AND status = 'running' RETURNING id`,
    [at, at, reason, job],
  )) as { id: number }[];
  return rows.map((r) => r.id).sort((x, y) => x - y);
}

/** A run's lease was taken over: the transaction it was about to commit was rolled back instead. */
export class LeaseLostError extends Error {
  constructor(job: string) {
    super(`the lease of job "${job}" was taken over by another run: this run's last transaction was rolled back`);
    this.name = 'LeaseLostError';
  }
}

/**
 * `store` fenced by the lease of `job`: each transaction begun through it checks, just before it commits, that
 * `holder` still holds the lease, and rolls back with a LeaseLostError when not — so a run paused past its lease (a
 * stopped process, a long GC, a network partition) cannot commit after another run took the job over. Statements
 * outside a transaction are not fenced.
 *
 * @example
 * const fenced = fencedByLease(store, 'nightly', holder);
 * await loadPage(fenced, page); // throws LeaseLostError, writing nothing, once another run holds the lease
 */
export function fencedByLease(store: Queryable, job: string, holder: string): Queryable {
  return fencedBy(store, async (tx) => {
    const held = await tx.get('SELECT 1 AS held FROM job_locks WHERE job = ? AND holder = ?', [job, holder]);
    if (held === undefined) throw new LeaseLostError(job);
  });
}

/**
 * `store` with `check` run inside each transaction begun through it, just before it commits: a check that throws
 * rolls the transaction back. Statements outside a transaction are not checked.
 */
export function fencedBy(store: Queryable, check: (tx: Queryable) => Promise<void>): Queryable {
  return {
    path: store.path,
    dialect: store.dialect,
    inTransaction: store.inTransaction,
    all: (sql, params) => store.all(sql, params),
    get: (sql, params) => store.get(sql, params),
    run: (sql, params) => store.run(sql, params),
    exec: (sql) => store.exec(sql),
    iterate: (sql, params, batch) => store.iterate(sql, params, batch),
    onRollback: (listener) => store.onRollback(listener),
    transaction: (fn, options) =>
      store.transaction(async (tx) => {
        const result = await fn(tx);
        await check(tx);
        return result;
      }, options),
  };
}
