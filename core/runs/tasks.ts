import type { Queryable } from '../store/store.js';
import { fencedBy, isDeadHere, thisProcess, type LeaseProcess } from './locks.js';

/**
 * A job run split into tasks that any worker may claim: reads (one per stream of each source), compute (a prepare
 * task, a feature task per slice of contacts, a segments task), pushes (one per destination × segment). A task belongs
 * to one of the job's steps and a stage within it; it may be claimed once every task of the earlier steps of its run,
 * and of the lower stages of its step, has finished. A claimed task is leased like a job: its holder heartbeats, a holder that
 * stops heartbeating (or is a dead process on this host) loses it to the next claim, and each claim raises the task's
 * fencing token, so a holder whose lease was taken over cannot commit.
 */

/** What a task does. */
export type TaskKind = 'read' | 'compute' | 'push';

/** A task's status: `pending` until claimed, `running` while leased, then its outcome. */
export type TaskStatus = 'pending' | 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';

/** The finished statuses. */
export const FINISHED_TASK_STATUSES: readonly TaskStatus[] = ['succeeded', 'partial', 'failed', 'cancelled'];

/** A task to enqueue: the index of its job step, its kind and what it needs to run (plain JSON). */
export interface NewTask {
  step: number;
  /** Within its step, a task waits for every task of a lower stage (default 0). */
  stage?: number;
  kind: TaskKind;
  spec: unknown;
}

/** A task as stored. */
export interface JobTask {
  id: number;
  runId: number;
  job: string;
  step: number;
  stage: number;
  kind: TaskKind;
  spec: unknown;
  status: TaskStatus;
  holder: string | null;
  /** Raised by each claim: the holder's proof that the lease is still its own. */
  fence: number;
  attempts: number;
  /** When its lease runs out (null unless claimed). */
  expiresAt: string | null;
  result: unknown;
  error: string | null;
}

/** A task claimed by a worker: the lease it holds it under. */
export interface ClaimedTask extends JobTask {
  holder: string;
}

/** The lease of a claimed task, as plain data (it crosses into the compute thread). */
export interface TaskLease {
  taskId: number;
  holder: string;
  fence: number;
}

interface TaskRow {
  id: number;
  run_id: number;
  job: string;
  step: number;
  stage: number;
  kind: TaskKind;
  spec: string;
  status: TaskStatus;
  holder: string | null;
  fence: number;
  attempts: number;
  expires_at: string | null;
  result: string | null;
  error: string | null;
}

function taskOf(row: TaskRow): JobTask {
  return {
    id: row.id,
    runId: row.run_id,
    job: row.job,
    step: row.step,
    stage: Number(row.stage),
    kind: row.kind,
    spec: JSON.parse(row.spec) as unknown,
    status: row.status,
    holder: row.holder,
    fence: row.fence,
    attempts: row.attempts,
    expiresAt: row.expires_at,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    error: row.error,
  };
}

/** The lease of a claimed task. */
export function leaseOf(task: ClaimedTask): TaskLease {
  return { taskId: task.id, holder: task.holder, fence: task.fence };
}

/**
 * Adds the tasks of run `runId` of `job`, all pending.
 *
 * @example
 * await enqueueTasks(store, runId, 'nightly', [{ step: 0, kind: 'read', spec: { source: 'crm', stream: 'contacts' } }]);
 */
export async function enqueueTasks(store: Queryable, runId: number, job: string, tasks: NewTask[]): Promise<void> {
  if (tasks.length === 0) return;
  await store.transaction(async (tx) => {
    for (const task of tasks)
      await tx.run(
        `INSERT INTO job_tasks (run_id, job, step, stage, kind, spec, status, fence, attempts, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, 0, ?)`,
        [runId, job, task.step, task.stage ?? 0, task.kind, JSON.stringify(task.spec), new Date().toISOString()],
      );
  });
}

/**
 * Claims the next task any worker may run, for `holder` (a process's worker id) for `ttlMs`: a pending task, or a
 * running one whose lease expired or whose holder is a dead process on this host, of a run still running and not
 * asked to cancel, every task of the earlier steps of its run (and of the lower stages of its step) finished. On PostgreSQL the pick is `FOR UPDATE SKIP
 * LOCKED`: workers claiming together each get another task, none waits for another's claim. Returns undefined when
 * nothing is claimable now.
 *
 * @example
 * const task = await claimTask(store, `worker:${process.pid}`, 60_000);
 */
export async function claimTask(
  store: Queryable,
  holder: string,
  ttlMs: number,
  now = new Date(),
  owner: LeaseProcess = thisProcess(),
): Promise<ClaimedTask | undefined> {
  const at = now.toISOString();
  await expireDeadHolders(store, at);
  const row = (await store.get(
    `UPDATE job_tasks
        SET status = 'running', holder = ?, host = ?, pid = ?, process_started = ?, fence = fence + 1,
            attempts = attempts + 1, claimed_at = ?, heartbeat_at = ?, expires_at = ?
      WHERE id = (
        SELECT t.id FROM job_tasks t
         WHERE (t.status = 'pending' OR (t.status = 'running' AND t.expires_at <= ?))
           AND EXISTS (SELECT 1 FROM sync_runs r
                        WHERE r.id = t.run_id AND r.status = 'running' AND r.cancel_requested_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM job_tasks p
                            WHERE p.run_id = t.run_id AND (p.step < t.step OR (p.step = t.step AND p.stage < t.stage))
                              AND p.status IN ('pending', 'running'))
         ORDER BY t.run_id, t.step, t.stage, t.id
         LIMIT 1 ${store.dialect.rowLock('skip')})
        AND (status = 'pending' OR (status = 'running' AND expires_at <= ?))
      RETURNING *`,
    [holder, owner.host, owner.pid, owner.started, at, at, new Date(now.getTime() + ttlMs).toISOString(), at, at],
  )) as TaskRow | undefined;
  return row ? (taskOf(row) as ClaimedTask) : undefined;
}

/** Makes the leases of running tasks whose holder is a dead process on this host expire now, so they are claimable. */
async function expireDeadHolders(store: Queryable, at: string): Promise<void> {
  const host = thisProcess().host;
  const running = (await store.all(
    `SELECT id, holder, pid, process_started, fence FROM job_tasks
      WHERE status = 'running' AND host = ? AND expires_at > ?`,
    [host, at],
  )) as { id: number; holder: string; pid: number; process_started: string | null; fence: number }[];
  for (const r of running) {
    if (!isDeadHere({ host, pid: r.pid, started: r.process_started })) continue;
    await store.run(`UPDATE job_tasks SET expires_at = ? WHERE id = ? AND fence = ? AND status = 'running'`, [
      at,
      r.id,
      r.fence,
    ]);
  }
}

/** Extends a claimed task's lease; false when it was taken over (or finished, or released). */
export async function heartbeatTask(
  store: Queryable,
  lease: TaskLease,
  ttlMs: number,
  now = new Date(),
): Promise<boolean> {
  const r = await store.run(
    `UPDATE job_tasks SET heartbeat_at = ?, expires_at = ?
      WHERE id = ? AND holder = ? AND fence = ? AND status = 'running'`,
    [now.toISOString(), new Date(now.getTime() + ttlMs).toISOString(), lease.taskId, lease.holder, lease.fence],
  );
  return r.changes === 1;
}

/** A task's lease was taken over: the transaction it was about to commit was rolled back instead. */
export class TaskLeaseLostError extends Error {
  constructor(taskId: number) {
    super(
      `the lease of task ${taskId} was taken over by another worker: this worker's last transaction was rolled back`,
    );
    this.name = 'TaskLeaseLostError';
  }
}

/** Throws TaskLeaseLostError unless `lease` still holds its task; on PostgreSQL it locks the task's row until commit. */
async function checkLease(tx: Queryable, lease: TaskLease): Promise<void> {
  const held = await tx.get(
    `SELECT 1 AS held FROM job_tasks WHERE id = ? AND holder = ? AND fence = ? AND status = 'running' ${tx.dialect.rowLock('wait')}`,
    [lease.taskId, lease.holder, lease.fence],
  );
  if (held === undefined) throw new TaskLeaseLostError(lease.taskId);
}

/**
 * `store` fenced by a task's lease: each transaction begun through it checks, just before it commits, that the lease
 * is still the holder's (same holder, same fencing token), and rolls back with TaskLeaseLostError otherwise — so a
 * worker paused past its lease cannot commit after another worker re-claimed its task.
 *
 * @example
 * await loadPage(fencedByTask(store, leaseOf(task)), page); // throws TaskLeaseLostError once the task was re-claimed
 */
export function fencedByTask(store: Queryable, lease: TaskLease): Queryable {
  return fencedBy(store, (tx) => checkLease(tx, lease));
}

/**
 * Records a claimed task's outcome, fenced by its lease; returns false (recording nothing) when the lease was lost.
 * A failed compute task fails, in the same transaction, the compute tasks of the later stages of its step (the
 * segments task runs only after every slice succeeded) and the push tasks after it (they would send stale
 * membership): no worker can claim them in between.
 */
export async function finishTask(
  store: Queryable,
  lease: TaskLease,
  status: Exclude<TaskStatus, 'pending' | 'running'>,
  result: unknown,
  error: string | null = null,
  now = new Date(),
): Promise<boolean> {
  try {
    return await store.transaction(async (tx) => {
      await checkLease(tx, lease);
      await tx.run(`UPDATE job_tasks SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ?`, [
        status,
        JSON.stringify(result ?? null),
        error,
        now.toISOString(),
        lease.taskId,
      ]);
      if (status === 'failed') await closeAfterFailedCompute(tx, lease.taskId, now);
      return true;
    });
  } catch (e) {
    if (e instanceof TaskLeaseLostError) return false;
    throw e;
  }
}

async function closeAfterFailedCompute(tx: Queryable, taskId: number, now: Date): Promise<void> {
  const task = (await tx.get('SELECT run_id, step, stage, kind FROM job_tasks WHERE id = ?', [taskId])) as
    { run_id: number; step: number; stage: number; kind: TaskKind } | undefined;
  if (task?.kind !== 'compute') return;
  const at = now.toISOString();
  await tx.run(
    `UPDATE job_tasks SET status = 'failed', error = ?, finished_at = ?
      WHERE run_id = ? AND step = ? AND stage > ? AND status = 'pending'`,
    ['not computed: a compute task before it failed', at, task.run_id, task.step, task.stage],
  );
  await tx.run(
    `UPDATE job_tasks SET status = 'failed', error = ?, finished_at = ?
      WHERE run_id = ? AND step > ? AND kind = 'push' AND status = 'pending'`,
    ['not pushed: the compute step before it failed', at, task.run_id, task.step],
  );
}

/**
 * Marks the unfinished tasks of run `runId` of the steps after `afterStep` finished with `status` and `reason`
 * (returns how many): pushes after a failed compute, or every pending task of a run that stops.
 */
export async function closeTasks(
  store: Queryable,
  runId: number,
  options: {
    afterStep?: number;
    kind?: TaskKind;
    onlyPending?: boolean;
    status: 'failed' | 'cancelled';
    reason: string;
  },
  now = new Date(),
): Promise<number> {
  const r = await store.run(
    `UPDATE job_tasks SET status = ?, error = ?, finished_at = ?
      WHERE run_id = ? AND step > ? AND (CAST(? AS TEXT) IS NULL OR kind = ?)
        AND status IN (${options.onlyPending === false ? "'pending', 'running'" : "'pending'"})`,
    [
      options.status,
      options.reason,
      now.toISOString(),
      runId,
      options.afterStep ?? -1,
      options.kind ?? null,
      options.kind ?? null,
    ],
  );
  return r.changes;
}

/** Gives a claimed task back (pending again, for another worker), as a worker that stops does; false if not held. */
export async function releaseTask(store: Queryable, lease: TaskLease): Promise<boolean> {
  const r = await store.run(
    `UPDATE job_tasks SET status = 'pending', holder = NULL, expires_at = NULL
      WHERE id = ? AND holder = ? AND fence = ? AND status = 'running'`,
    [lease.taskId, lease.holder, lease.fence],
  );
  return r.changes === 1;
}

/** The tasks of run `runId`, in step order (and stage order within a step). */
export async function listTasks(store: Queryable, runId: number): Promise<JobTask[]> {
  const rows = (await store.all('SELECT * FROM job_tasks WHERE run_id = ? ORDER BY step, stage, id', [
    runId,
  ])) as TaskRow[];
  return rows.map(taskOf);
}

/** The job-lock name a worker's presence lease is kept under. */
export const WORKER_LEASE_PREFIX = 'worker:';

/**
 * The workers whose presence lease is live (`segflow worker` holds `worker:<id>` in job_locks while it runs): a run
 * started while there are some hands its tasks to them.
 */
export async function liveWorkers(store: Queryable, now = new Date()): Promise<string[]> {
  const rows = (await store.all(
    `SELECT job, host, pid, process_started FROM job_locks WHERE job LIKE ? AND expires_at > ? ORDER BY job`,
    [`${WORKER_LEASE_PREFIX}%`, now.toISOString()],
  )) as { job: string; host: string | null; pid: number | null; process_started: string | null }[];
  return rows
    .filter(
      (r) => r.host === null || r.pid === null || !isDeadHere({ host: r.host, pid: r.pid, started: r.process_started }),
    )
    .map((r) => r.job.slice(WORKER_LEASE_PREFIX.length));
}
