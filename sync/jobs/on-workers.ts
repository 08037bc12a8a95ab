/**
 * A run handed to workers: its steps split into tasks (a read per stream of each source, the compute in parts, a push
 * per destination × segment) that `segflow worker` processes claim from the store; the run waits for them and folds
 * their outcomes into the same result as a run in one process. A compute is a prepare task (text analysis, the plan,
 * the slices' bounds), a features task per slice of contacts (side by side on several workers), then a segments task
 * once every slice succeeded; with one slice it stays one task.
 */
import type { Config, PushStep } from '../../config/index.js';
import {
  closeTasks,
  enqueueTasks,
  FINISHED_TASK_STATUSES,
  listTasks,
  liveWorkers,
  requestCancel,
  type JobTask,
  type NewTask,
  type Queryable,
} from '../../core/index.js';
import type { PushOutcome } from '../push/index.js';
import type { StreamOutcome } from '../read/index.js';
import {
  addStep,
  computeFailure,
  notPushed,
  type JobResult,
  type RunJobOptions,
  type StepResult,
  type Stopping,
} from './run-job.js';

/** What a read task reads. */
export interface ReadTaskSpec {
  source: string;
  stream: string;
  mode: 'full' | 'incremental';
}

/** What a compute task computes: the job step's compute, measured from the run's `now`. */
export interface ComputeTaskSpec {
  now: string;
  /** Every contact's features and memberships (`segflow run --full --workers`). */
  full?: boolean;
  /**
   * Its part of a compute split into slices of contacts: `prepare` (stage 0), `features` of slice `slice` of
   * `slices` (stage 1), `segments` (stage 2). Left out: the whole compute in one task.
   */
  part?: 'prepare' | 'features' | 'segments';
  slice?: number;
  slices?: number;
}

/** Slices a compute is split into on workers when its step does not say: the live workers, at least two. */
export const defaultComputeSlices = (workers: number): number => Math.max(2, workers);

/** What a push task pushes. */
export interface PushTaskSpec {
  destination: string;
  segment: string;
  /** The segment is an account segment (`account_segments:` of the step). */
  account?: boolean;
}

/** The tasks of one run of `jobName`: every stream its read steps name, its compute, each push's segments. */
export function tasksOf(
  config: Config,
  jobName: string,
  options: Pick<RunJobOptions, 'registry' | 'now' | 'fullCompute'> & {
    /** Slices of a compute step that does not set `slices` (default 2). */
    computeSlices?: number;
  },
): NewTask[] {
  const job = config.jobs[jobName]!;
  const now = (options.now ?? new Date()).toISOString();
  const tasks: NewTask[] = [];
  for (const [step, s] of job.steps.entries()) {
    if ('read' in s) {
      for (const source of s.read.sources) {
        const connection = config.sources[source]!;
        const connector = options.registry.source(connection.connector);
        const streams =
          s.read.streams ?? connection.streams ?? connector.streams(connection.config as never).map((x) => x.name);
        for (const stream of streams) {
          const spec: ReadTaskSpec = { source, stream, mode: s.read.mode };
          tasks.push({ step, kind: 'read', spec });
        }
      }
    } else if ('compute' in s) {
      const spec: ComputeTaskSpec = { now, ...(options.fullCompute === true ? { full: true } : {}) };
      const slices = s.compute.slices ?? options.computeSlices ?? defaultComputeSlices(0);
      if (slices <= 1) {
        tasks.push({ step, kind: 'compute', spec });
        continue;
      }
      tasks.push({ step, stage: 0, kind: 'compute', spec: { ...spec, part: 'prepare', slices } });
      for (let slice = 0; slice < slices; slice++)
        tasks.push({ step, stage: 1, kind: 'compute', spec: { ...spec, part: 'features', slice, slices } });
      tasks.push({ step, stage: 2, kind: 'compute', spec: { ...spec, part: 'segments', slices } });
    } else {
      for (const segment of s.push.segments) {
        const spec: PushTaskSpec = { destination: s.push.destination, segment };
        tasks.push({ step, kind: 'push', spec });
      }
      for (const segment of s.push.account_segments ?? []) {
        const spec: PushTaskSpec = { destination: s.push.destination, segment, account: true };
        tasks.push({ step, kind: 'push', spec });
      }
    }
  }
  return tasks;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const finished = (t: JobTask) => FINISHED_TASK_STATUSES.includes(t.status);

/**
 * Enqueues the run's tasks and waits until every one has finished. Stopped (a signal, a cancel request, a lost job
 * lease), it asks the run to cancel: pending tasks are cancelled at once, running ones stop after their page or
 * batch, and a task whose worker died meanwhile is cancelled once its lease runs out.
 */
export async function runStepsOnWorkers(
  store: Queryable,
  config: Config,
  jobName: string,
  options: RunJobOptions,
  result: JobResult,
  stopping: Stopping,
): Promise<void> {
  const runId = result.runId!;
  const computeSlices = defaultComputeSlices((await liveWorkers(store)).length);
  await enqueueTasks(store, runId, jobName, tasksOf(config, jobName, { ...options, computeSlices }));
  let cancelling = false;
  for (;;) {
    const tasks = await listTasks(store, runId);
    if (tasks.every(finished)) break;
    if (stopping.signal.aborted && !cancelling) {
      cancelling = true;
      await requestCancel(store, runId);
      await closeTasks(store, runId, { status: 'cancelled', reason: stopping.reason() ?? 'cancelled' });
      continue;
    }
    if (cancelling) {
      const at = new Date().toISOString();
      const live = tasks.some((t) => t.status === 'running' && t.expiresAt !== null && t.expiresAt > at);
      if (!live) {
        await closeTasks(store, runId, {
          onlyPending: false,
          status: 'cancelled',
          reason: stopping.reason() ?? 'cancelled',
        });
        continue;
      }
    }
    await sleep(options.taskPollMs ?? 500);
  }
  foldTasks(config, jobName, await listTasks(store, runId), result);
}

/** The run's step results from its tasks' outcomes, as a run in one process reports them. */
function foldTasks(config: Config, jobName: string, tasks: JobTask[], result: JobResult): void {
  for (const [index, step] of config.jobs[jobName]!.steps.entries()) {
    const mine = tasks.filter((t) => t.step === index);
    if ('read' in step) {
      const sources = step.read.sources.map((source) => ({
        source,
        streams: mine
          .filter((t) => (t.spec as ReadTaskSpec).source === source)
          .map((t) => (t.result as StreamOutcome | null) ?? unreadStream(t)),
      }));
      addStep(result, { kind: 'read', skipped: false, sources });
    } else if ('compute' in step) {
      // The whole compute's task, or the segments task of a sliced one, reports the step; a failed slice says why.
      const last = mine.find((t) => {
        const part = (t.spec as ComputeTaskSpec).part;
        return part === undefined || part === 'segments';
      });
      const computed = last?.status === 'succeeded' ? (last.result as StepResult & { kind: 'compute' }) : undefined;
      const failed = mine.find((t) => t.status === 'failed' && t !== last) ?? last;
      addStep(
        result,
        computed ??
          computeFailure({
            error: failed?.error ?? 'not computed',
            ...(mine.some((t) => t.status === 'cancelled') ? { cancelled: true } : {}),
          }),
      );
    } else {
      const outcomes = mine.map(
        (t) =>
          (t.result as PushOutcome | null) ??
          notPushed(
            pushOfTask(step.push, t.spec as PushTaskSpec),
            false,
            t.error ?? 'not pushed',
            t.status === 'cancelled',
          ),
      );
      addStep(result, {
        kind: 'push',
        destination: step.push.destination,
        outcome: mergePushes(step.push.destination, outcomes),
      });
    }
  }
}

function unreadStream(task: JobTask): StreamOutcome {
  return {
    stream: (task.spec as ReadTaskSpec).stream,
    status: task.status === 'cancelled' ? 'cancelled' : 'failed',
    pages: 0,
    counts: { read: 0, inserted: 0, updated: 0, skipped: 0, merged: 0 },
    rejected: 0,
    error: task.error ?? 'not read',
  };
}

/** One destination's outcome from its segments' push tasks. */
function mergePushes(destination: string, outcomes: PushOutcome[]): PushOutcome {
  const configError = outcomes.find((o) => o.configError !== undefined)?.configError;
  const statuses = outcomes.map((o) => o.status);
  const status: PushOutcome['status'] =
    configError !== undefined || (statuses.length > 0 && statuses.every((s) => s === 'failed'))
      ? 'failed'
      : statuses.includes('cancelled')
        ? 'cancelled'
        : statuses.every((s) => s === 'succeeded')
          ? 'succeeded'
          : 'partial';
  return {
    connection: destination,
    status,
    ...(configError === undefined ? {} : { configError }),
    dryRun: false,
    segments: outcomes.flatMap((o) => o.segments),
  };
}

/** The push step one push task runs: its one segment, or its one account segment. */
export function pushOfTask(push: PushStep, spec: PushTaskSpec): PushStep {
  const { account_segments: _accounts, ...rest } = push;
  return spec.account
    ? { ...rest, segments: [], account_segments: [spec.segment] }
    : { ...rest, segments: [spec.segment] };
}
