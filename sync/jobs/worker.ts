/**
 * A worker: claims the tasks of job runs from the store (any run of any job of its config), one at a time, and runs
 * each under the task's lease — heartbeating it, committing only while it holds (fencing), stopping when the run is
 * asked to cancel. `segflow worker` runs one until it is stopped; several, on one PostgreSQL store, share the runs.
 *
 * @example
 * const report = await runWorker(config, { registry: builtinRegistry(), signal });
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../../config/index.js';
import { withConsoleSegments } from './console-segments.js';
import {
  acquireJobLock,
  cancelRequested,
  claimTask,
  fencedByTask,
  finishTask,
  heartbeatJobLock,
  heartbeatTask,
  leaseOf,
  listTasks,
  openStore,
  releaseJobLock,
  releaseTask,
  TaskLeaseLostError,
  WORKER_LEASE_PREFIX,
  type ClaimedTask,
  type Queryable,
  type SliceRun,
  type TaskStatus,
} from '../../core/index.js';
import { reasonOf, type Logger, type Registry } from '../../plugins/index.js';
import { pushOfTask, type ComputeTaskSpec, type PushTaskSpec, type ReadTaskSpec } from './on-workers.js';
import {
  computeFailure,
  computePartStep,
  computeResultOf,
  pushStep,
  readStep,
  type RunJobOptions,
  type Stopping,
} from './run-job.js';
import type { ComputePart, SlicedPlan } from '../compute/index.js';

export interface WorkerOptions {
  registry: Registry;
  logger?: Logger;
  /** Aborting it stops the worker: the task in hand ends after its page or batch and is given back (or finished). */
  signal?: AbortSignal;
  /** The worker's id in task leases; default `worker:<host>:<pid>:<random>`. */
  holder?: string;
  /** How long a task lease holds without a heartbeat (heartbeats every third). Default 60 s. */
  leaseTtlMs?: number;
  /** How long to wait before looking again when no task is claimable. Default 1000 ms. */
  pollMs?: number;
  /** Stop as soon as no task is claimable (a batch worker), instead of waiting for more. */
  untilIdle?: boolean;
  /** Told each claim, outcome, give-back and lost lease. */
  onTask?(event: WorkerEvent): void;
  /** Called right after a claim, before the task runs (tests pause or kill the process there). */
  afterClaim?(task: ClaimedTask): void;
  computeIn?: RunJobOptions['computeIn'];
  retryDelayMs?: number;
  maxRetries?: number;
  /** Called after a page (or a push batch's results) is written and before its commit: tests kill the process there. */
  beforeCommit?: RunJobOptions['beforeCommit'];
  onProgress?: RunJobOptions['onProgress'];
}

/** What a worker did with a task. */
export type WorkerEvent =
  | { type: 'claimed'; task: ClaimedTask; what: string }
  | { type: 'finished'; task: ClaimedTask; what: string; status: TaskStatus; error?: string }
  /** Given back when the worker stopped: another worker goes on from the task's last commit. */
  | { type: 'released'; task: ClaimedTask; what: string }
  /** Its lease was taken over while it ran: nothing after the takeover was committed. */
  | { type: 'lost'; task: ClaimedTask; what: string };

export interface WorkerReport {
  holder: string;
  tasks: { id: number; what: string; outcome: TaskStatus | 'released' | 'lost' }[];
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const DEFAULT_LEASE_TTL_MS = 60_000;

/**
 * The part of a sliced compute a compute task runs, with what the earlier parts of its step left in their tasks'
 * results (the prepare task's plan, the slices' runs); undefined for a whole compute.
 */
async function computePartOf(store: Queryable, task: ClaimedTask): Promise<ComputePart | undefined> {
  const spec = task.spec as ComputeTaskSpec;
  if (spec.part === undefined) return undefined;
  if (spec.part === 'prepare') return { part: 'prepare', slices: spec.slices ?? 1 };
  const earlier = (await listTasks(store, task.runId)).filter(
    (t) => t.step === task.step && t.kind === 'compute' && t.stage < task.stage,
  );
  const plan = (earlier.find((t) => (t.spec as ComputeTaskSpec).part === 'prepare')?.result as { plan?: SlicedPlan })
    ?.plan;
  if (plan === undefined) throw new Error(`task ${task.id}: the prepare task of its compute left no plan`);
  if (spec.part === 'features') return { part: 'features', plan, slice: spec.slice ?? 0 };
  const slices = earlier.filter((t) => (t.spec as ComputeTaskSpec).part === 'features');
  const unfinished = slices.find((t) => t.status !== 'succeeded');
  if (unfinished)
    throw new Error(`task ${task.id}: slice task ${unfinished.id} did not succeed (${unfinished.status})`);
  return { part: 'segments', plan, slices: slices.map((t) => t.result as SliceRun) };
}

/** What a task does, in a few words: `read shop/contacts`, `compute`, `push segment/buyers`. */
export function describeTask(task: ClaimedTask): string {
  if (task.kind === 'read') {
    const spec = task.spec as ReadTaskSpec;
    return `read ${spec.source}/${spec.stream}`;
  }
  if (task.kind === 'push') {
    const spec = task.spec as PushTaskSpec;
    return `push ${spec.destination}/${spec.segment}`;
  }
  const spec = task.spec as ComputeTaskSpec;
  if (spec.part === 'features') return `compute features ${(spec.slice ?? 0) + 1}/${spec.slices ?? 1}`;
  return spec.part === undefined ? 'compute' : `compute ${spec.part}`;
}

/** Runs a worker on `config`'s store until `signal` aborts (or, with `untilIdle`, until nothing is claimable). */
export async function runWorker(config: Config, options: WorkerOptions): Promise<WorkerReport> {
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const ttl = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const logger = options.logger ?? quiet;
  const signal = options.signal ?? new AbortController().signal;
  const store = await openStore(config.store.path);
  const presence = `${WORKER_LEASE_PREFIX}${holder}`;
  const report: WorkerReport = { holder, tasks: [] };
  const beat = setInterval(() => {
    heartbeatJobLock(store, presence, holder, ttl).catch((error: unknown) =>
      logger.warn('worker heartbeat failed', { reason: reasonOf(error) }),
    );
  }, ttl / 3);
  beat.unref();
  try {
    await acquireJobLock(store, presence, holder, ttl);
    while (!signal.aborted) {
      const task = await claimTask(store, holder, ttl);
      if (task === undefined) {
        if (options.untilIdle === true) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, options.pollMs ?? 1000);
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          signal.addEventListener('abort', done, { once: true });
        });
        continue;
      }
      const what = describeTask(task);
      options.onTask?.({ type: 'claimed', task, what });
      options.afterClaim?.(task);
      const outcome = await runTask(store, config, task, { ...options, logger, signal, leaseTtlMs: ttl });
      report.tasks.push({ id: task.id, what, outcome: outcome.type === 'finished' ? outcome.status : outcome.type });
      options.onTask?.({ ...outcome, task, what } as WorkerEvent);
    }
  } finally {
    clearInterval(beat);
    await releaseJobLock(store, presence, holder).catch(() => undefined);
    await store.close();
  }
  return report;
}

type TaskOutcome = { type: 'finished'; status: TaskStatus; error?: string } | { type: 'released' } | { type: 'lost' };

/** Runs one claimed task under its lease and records its outcome (or gives it back, or learns it lost the lease). */
async function runTask(
  store: Queryable,
  config: Config,
  task: ClaimedTask,
  options: WorkerOptions & { logger: Logger; signal: AbortSignal; leaseTtlMs: number },
): Promise<TaskOutcome> {
  const lease = leaseOf(task);
  const stop = new AbortController();
  let stopReason: string | undefined;
  let lost = false;
  const stopWith = (reason: string) => {
    if (stop.signal.aborted) return;
    stopReason = reason;
    stop.abort(new Error(reason));
  };
  const onWorkerStop = () => stopWith('the worker is stopping');
  if (options.signal.aborted) onWorkerStop();
  options.signal.addEventListener('abort', onWorkerStop, { once: true });
  const ticking = { beat: false, cancel: false };
  const timers = [
    setInterval(() => {
      if (ticking.beat) return;
      ticking.beat = true;
      heartbeatTask(store, lease, options.leaseTtlMs)
        .then((held) => {
          if (!held) {
            lost = true;
            stopWith(`the lease of task ${task.id} was taken over by another worker`);
          }
        })
        .catch((error: unknown) => options.logger.warn('task heartbeat failed', { reason: reasonOf(error) }))
        .finally(() => (ticking.beat = false));
    }, options.leaseTtlMs / 3),
    setInterval(() => {
      if (ticking.cancel) return;
      ticking.cancel = true;
      cancelRequested(store, task.runId)
        .then((asked) => {
          if (asked) stopWith('cancel requested');
        })
        .catch(() => undefined)
        .finally(() => (ticking.cancel = false));
    }, 1000),
  ];
  for (const t of timers) t.unref();
  const stopping: Stopping = { signal: stop.signal, reason: () => stopReason };
  const fenced = fencedByTask(store, lease);
  // The run that made the task computed and pushed the console segments of its time; the worker holds only the config
  // file, so it adds them from the store as the run did.
  config = await withConsoleSegments(store, config);
  const job = config.jobs[task.job];
  const step = job?.steps[task.step];
  const runOptions: RunJobOptions = {
    registry: options.registry,
    logger: options.logger,
    ...(options.computeIn === undefined ? {} : { computeIn: options.computeIn }),
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    ...(options.beforeCommit === undefined ? {} : { beforeCommit: options.beforeCommit }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    sharedBudgets: store,
  };
  let status: TaskStatus = 'succeeded';
  let result: unknown = null;
  let error: string | undefined;
  try {
    if (step === undefined) throw new Error(`job "${task.job}" has no step ${task.step} in this worker's config`);
    if (task.kind === 'read' && 'read' in step) {
      const spec = task.spec as ReadTaskSpec;
      const [read] = await readStep(
        fenced,
        config,
        { ...step.read, sources: [spec.source], streams: [spec.stream], mode: spec.mode },
        runOptions,
        task.runId,
        stopping,
      );
      const outcome = read?.streams[0];
      result = outcome ?? null;
      status = outcome?.status ?? 'failed';
      if (outcome?.error !== undefined) error = outcome.error;
    } else if (task.kind === 'compute' && 'compute' in step) {
      const spec = task.spec as ComputeTaskSpec;
      const outcome = await computePartStep(
        config,
        step.compute,
        { ...runOptions, now: new Date(spec.now), ...(spec.full === true ? { fullCompute: true } : {}) },
        stopping,
        lease,
        await computePartOf(store, task),
      );
      if ('error' in outcome) {
        result = computeFailure(outcome);
        status = outcome.cancelled === true ? 'cancelled' : 'failed';
        error = outcome.error;
      } else {
        // A prepare task keeps its plan, a features task what its slice did; the whole or segments task, the step's result.
        result =
          outcome.part === 'prepare'
            ? { plan: outcome.plan }
            : outcome.part === 'features'
              ? outcome.slice
              : computeResultOf(outcome.report);
      }
    } else if (task.kind === 'push' && 'push' in step) {
      const spec = task.spec as PushTaskSpec;
      const outcome = await pushStep(fenced, config, pushOfTask(step.push, spec), runOptions, task.runId, stopping);
      result = outcome;
      status = outcome.status;
      const failed = outcome.configError ?? outcome.segments.find((s) => s.error !== undefined)?.error;
      if (failed !== undefined) error = failed;
    } else {
      throw new Error(`task ${task.id} is a ${task.kind}, but step ${task.step} of job "${task.job}" is not`);
    }
  } catch (e) {
    if (e instanceof TaskLeaseLostError) lost = true;
    status = 'failed';
    error = reasonOf(e);
  } finally {
    for (const t of timers) clearInterval(t);
    options.signal.removeEventListener('abort', onWorkerStop);
  }
  if (lost) return { type: 'lost' };
  if (options.signal.aborted && status === 'cancelled') {
    await releaseTask(store, lease);
    return { type: 'released' };
  }
  // A failed compute task fails the tasks waiting for it (later stages, pushes) in the same transaction.
  if (!(await finishTask(store, lease, status as Exclude<TaskStatus, 'pending' | 'running'>, result, error ?? null)))
    return { type: 'lost' };
  return { type: 'finished', status, ...(error === undefined ? {} : { error }) };
}
