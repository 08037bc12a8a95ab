/**
 * Runs one job of a loaded config: its steps in order (read, compute, push) under the job's lock in the store,
 * recorded as a sync run with its status and counts. `segflow run` prints what it returns.
 *
 * @example
 * const result = await runJob(config, 'nightly', { registry: builtinRegistry() });
 * result.status; // 'succeeded' | 'partial' | 'failed' | 'locked'
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  hasEntry,
  namedEntry,
  type ComputeStep,
  type Config,
  type PushStep,
  type ReadStep,
} from '../../config/index.js';
import {
  FEATURE_NAMES,
  acquireJobLock,
  cancelRequested,
  finishRun,
  heartbeatJobLock,
  identityOptionsOf,
  isDeadHere,
  jobLockHolder,
  thisProcess,
  abandonRuns,
  fencedByLease,
  fencedByTask,
  liveWorkers,
  type LeaseHolder,
  openStore,
  parseTraitSource,
  releaseJobLock,
  startRun,
  withDependencies,
  writeRunReport,
  type SegmentReport,
  type Queryable,
  type TaskLease,
} from '../../core/index.js';
import { reasonOf, type DestinationDefinition, type Logger, type Registry } from '../../plugins/index.js';
import {
  pushAccountSegments,
  pushSegments,
  segmentOutcome,
  type PushAccountSegmentsOptions,
  type PushOutcome,
} from '../push/index.js';
import { readSource, type StreamOutcome } from '../read/index.js';
import {
  computeInput,
  computeInputInWorker,
  type ComputeInput,
  type ComputeOutcome,
  type ComputePart,
  type ComputePhase,
  type ComputeReport,
} from '../compute/index.js';
import { withConsoleSegments } from './console-segments.js';
import { connectionContext } from './contexts.js';
import { runStepsOnWorkers } from './on-workers.js';

export interface RunJobOptions {
  registry: Registry;
  /** Plan the pushes only: nothing is read, computed, sent or written. */
  dryRun?: boolean;
  logger?: Logger;
  /**
   * Aborting it (SIGTERM) stops the run gently: a read ends after its last committed page, a push after the batch in
   * flight is answered and recorded, a compute is stopped (its transaction rolls back); the run ends `cancelled`.
   */
  signal?: AbortSignal;
  /** The moment relative times in segment rules and features are measured from. Default: now. */
  now?: Date;
  /** How long the job lock holds without a heartbeat; a crashed run's lock is taken over after it. Default 10 min. */
  lockTtlMs?: number;
  /** Who holds the lock; default a fresh id per run. */
  holder?: string;
  /** Retries a retryable push row gets when the step does not say (default 3). */
  maxRetries?: number;
  /** First wait before retrying push rows in the run. */
  retryDelayMs?: number;
  /** Called once the run is recorded (before its first step), with its id: the API answers with it at once. */
  onRunStarted?(runId: number): void;
  /** Called as the run goes: records read, compute phases, changes sent. */
  onProgress?(progress: RunProgress): void;
  /** How often the run looks in the store for a cancel request (`requestCancel`). Default 1000 ms. */
  cancelPollMs?: number;
  /** Plan each push once more before sending, to report its total changes (a progress bar's ETA). */
  planTotals?: boolean;
  /** Compute every contact's features and memberships (`segflow run --full`), whatever the compute step says. */
  fullCompute?: boolean;
  /** `worker` (default): compute in a worker thread with its own store connection; `here`: in this thread. */
  computeIn?: 'worker' | 'here';
  /**
   * Called after a page (or a push batch's results, or a compute slice's features, computed `here`) is written and
   * before its commit: tests kill the process there.
   */
  beforeCommit?: { page?: () => void; delivery?: () => void; slice?: () => void };
  /**
   * Enqueue the run's tasks (a read per stream, the compute, a push per destination × segment) for `segflow worker`
   * processes and wait for them, instead of running the steps in this process. Default: while any worker is running
   * on the store.
   */
  workers?: boolean;
  /** With `workers`: how often the run looks at its tasks. Default 500 ms. */
  taskPollMs?: number;
  /** Draw connections' rate budgets from this store too, shared with every process calling the same tools. */
  sharedBudgets?: Queryable;
}

/** What a run reports as it goes (a progress bar or log lines are drawn from it). */
export type RunProgress =
  | { kind: 'step'; index: number; total: number; step: 'read' | 'compute' | 'push'; name: string }
  | { kind: 'read'; source: string; stream: string; read: number; pages: number }
  | { kind: 'compute'; phase: ComputePhase; done: boolean }
  /** `total`: the changes planned for the segment, when `planTotals` asked for them. */
  | { kind: 'push'; destination: string; segment: string; sent: number; total?: number };

export type StepResult =
  | { kind: 'read'; skipped: boolean; sources: { source: string; streams: StreamOutcome[] }[]; ms?: number }
  | {
      kind: 'compute';
      skipped: boolean;
      contacts: number;
      segments: SegmentReport[];
      /** Account segments evaluated (`account_segments:`), each with its size, entries and exits. */
      accountSegments?: ComputeReport['accountSegments'];
      error?: string;
      /** Stopped by a cancel request or SIGTERM; nothing it was computing was committed. */
      cancelled?: boolean;
      models?: ComputeReport['models'];
      warnings?: string[];
      timings?: ComputeReport['timings'];
      ms?: number;
    }
  | { kind: 'push'; destination: string; outcome: PushOutcome; ms?: number };

export interface JobResult {
  job: string;
  /** `locked`: another run of the job holds its lock, nothing was done. */
  status: 'succeeded' | 'partial' | 'failed' | 'cancelled' | 'locked';
  dryRun: boolean;
  /** The sync run recorded in the store (none for a dry run or a locked job). */
  runId?: number;
  steps: StepResult[];
  counts: Record<string, number>;
  error?: string;
}

const DEFAULT_LOCK_TTL_MS = 10 * 60 * 1000;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A timer's store check that skips its tick while another connection holds the write lock past the busy timeout (a
 * long compute transaction): the lock's TTL spans several heartbeats. Any other failure stops the run with its reason
 * (a throw in a timer would kill the process).
 */
function whenStoreFree(
  logger: Logger,
  what: string,
  check: () => Promise<void>,
  stop: (reason: string) => void,
): () => void {
  let running = false;
  return () => {
    // A tick still waiting for the store (its connection busy in the run's own transaction) is not doubled.
    if (running) return;
    running = true;
    check()
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === 'SQLITE_BUSY')
          logger.warn(`${what} skipped: the store is busy; trying again at the next tick`);
        else stop(`${what} failed: ${reasonOf(error)}`);
      })
      .finally(() => {
        running = false;
      });
  };
}

/** How a run is told to stop, and what the steps check. */
export interface Stopping {
  /** Aborted when the run should stop (signal, cancel request, lost lock). */
  signal: AbortSignal;
  /** Why it stopped. */
  reason(): string | undefined;
}

/**
 * Runs `jobName` from `config`. A step that fails is reported and the following steps still run, except that a
 * failed compute stops the pushes after it (they would send stale membership). The run is `succeeded` when every
 * stream, segment and destination succeeded, `failed` when nothing did, `cancelled` when it was stopped, `partial`
 * otherwise. While it runs it extends its lock every third of the TTL and looks for a cancel request every second.
 */
export async function runJob(config: Config, jobName: string, options: RunJobOptions): Promise<JobResult> {
  const job = namedEntry(config.jobs, jobName);
  if (!job) throw new Error(`no job "${jobName}" (jobs: ${Object.keys(config.jobs).join(', ') || 'none'})`);
  const dryRun = options.dryRun === true;
  const holder = options.holder ?? `run:${process.pid}:${randomUUID()}`;
  const ttl = options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  const logger = options.logger ?? quiet;
  if (config.store.engine === 'sqlite') mkdirSync(dirname(config.store.path), { recursive: true });
  const store = await openStore(config.store.path);
  const result: JobResult = { job: jobName, status: 'succeeded', dryRun, steps: [], counts: {} };
  const stop = new AbortController();
  let stopReason: string | undefined;
  const stopWith = (reason: string) => {
    if (stop.signal.aborted) return;
    stopReason = reason;
    logger.warn('stopping the run after its current page or batch', { job: jobName, reason });
    stop.abort(new Error(reason));
  };
  const onSignal = () => stopWith('stopped by a signal');
  const timers: NodeJS.Timeout[] = [];
  try {
    // console segments (stored in the store) are computed and pushed like the config's
    config = await withConsoleSegments(store, config);
    const before = dryRun ? undefined : await jobLockHolder(store, jobName);
    if (!dryRun && !(await acquireJobLock(store, jobName, holder, ttl))) {
      result.status = 'locked';
      result.error = `job "${jobName}" is already running (${describeHolder(before)}; its lock is held in ${config.store.shown}; \`segflow runs ${config.file} unlock ${jobName}\` clears a lock whose holder will not come back)`;
      return result;
    }
    // Holding the lease, no other run of the job can be running: one still shown so was killed or taken over.
    if (!dryRun)
      await abandonRuns(
        store,
        jobName,
        before === undefined || before.holder === holder
          ? 'abandoned: its process stopped without finishing'
          : isDeadHere(before)
            ? `abandoned: its process (pid ${before.pid}) stopped without finishing`
            : `abandoned: its lease expired (last heartbeat ${before.heartbeatAt}) and another run took the job over`,
        new Date().toISOString(),
      );
    try {
      if (options.signal?.aborted) onSignal();
      options.signal?.addEventListener('abort', onSignal, { once: true });
      if (!dryRun) {
        const runId = await startRun(store, jobName);
        result.runId = runId;
        timers.push(
          setInterval(
            whenStoreFree(
              logger,
              'job lock heartbeat',
              async () => {
                if (!(await heartbeatJobLock(store, jobName, holder, ttl)))
                  stopWith('the job lock was taken over by another run');
              },
              stopWith,
            ),
            Math.max(10, Math.floor(ttl / 3)),
          ),
          setInterval(
            whenStoreFree(
              logger,
              'cancel check',
              async () => {
                if (await cancelRequested(store, runId)) stopWith('cancel requested');
              },
              stopWith,
            ),
            options.cancelPollMs ?? 1000,
          ),
        );
        for (const t of timers) t.unref();
        options.onRunStarted?.(runId);
      }
      const stopping: Stopping = { signal: stop.signal, reason: () => stopReason };
      // A dry run writes nothing and holds no lease.
      const steps = dryRun ? store : fencedByLease(store, jobName, holder);
      const onWorkers = options.workers ?? (!dryRun && (await liveWorkers(store)).length > 0);
      if (onWorkers && !dryRun) await runStepsOnWorkers(steps, config, jobName, options, result, stopping);
      else await runSteps(steps, config, config.jobs[jobName]?.steps ?? job.steps, options, result, stopping);
      result.status = overall(result);
      const refused = result.steps.find((s) => s.kind === 'push' && s.outcome.configError !== undefined);
      if (refused?.kind === 'push' && result.status !== 'cancelled') {
        result.status = 'failed';
        result.error ??= `push to ${refused.destination}: ${refused.outcome.configError}`;
      }
      if (result.status === 'cancelled' && result.error === undefined && stopReason !== undefined)
        result.error = stopReason;
    } catch (error) {
      result.status = 'failed';
      result.error = reasonOf(error);
    } finally {
      for (const t of timers) clearInterval(t);
      options.signal?.removeEventListener('abort', onSignal);
      if (result.runId !== undefined) {
        await writeRunReport(store, result.runId, runReport(result));
        await finishRun(
          store,
          result.runId,
          result.status as 'succeeded' | 'partial' | 'failed' | 'cancelled',
          result.counts,
          result.error ?? null,
        );
      }
      if (!dryRun) await releaseJobLock(store, jobName, holder);
    }
    return result;
  } finally {
    await store.close();
  }
}

/** Who holds a job's lease, for the "already running" message. */
function describeHolder(h: LeaseHolder | undefined): string {
  if (h === undefined) return 'another run took its lock a moment ago';
  const where = h.host === thisProcess().host ? 'on this machine' : `on ${h.host.split('/')[0] ?? h.host}`;
  return `process ${h.pid} ${where}, last heartbeat ${h.heartbeatAt}`;
}

/** What the store keeps of a run beside its counts: each step's outcome and time, without sampled contacts. */
export function runReport(result: JobResult): { steps: unknown[] } {
  return {
    steps: result.steps.map((step) =>
      step.kind === 'push'
        ? {
            ...step,
            outcome: { ...step.outcome, segments: step.outcome.segments.map(({ sample: _sample, ...s }) => s) },
          }
        : step,
    ),
  };
}

async function runSteps(
  store: Queryable,
  config: Config,
  steps: Config['jobs'][string]['steps'],
  options: RunJobOptions,
  result: JobResult,
  stopping: Stopping,
): Promise<void> {
  const dryRun = options.dryRun === true;
  const save = async () => {
    if (result.runId !== undefined) await writeRunReport(store, result.runId, runReport(result), result.counts);
  };
  let computeFailed = false;
  for (const [index, step] of steps.entries()) {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    const kind = 'read' in step ? 'read' : 'compute' in step ? 'compute' : 'push';
    const name =
      'read' in step
        ? step.read.sources.join(', ')
        : 'push' in step
          ? step.push.destination
          : 'features, models, segments';
    options.onProgress?.({ kind: 'step', index, total: steps.length, step: kind, name });
    if ('read' in step) {
      if (dryRun) {
        result.steps.push({
          kind: 'read',
          skipped: true,
          sources: step.read.sources.map((source) => ({ source, streams: [] })),
        });
        continue;
      }
      const sources = await readStep(store, config, step.read, options, result.runId, stopping);
      addStep(result, { kind: 'read', skipped: false, sources, ms: ms() });
    } else if ('compute' in step) {
      if (dryRun) {
        result.steps.push({ kind: 'compute', skipped: true, contacts: 0, segments: [] });
        continue;
      }
      if (stopping.signal.aborted) {
        result.steps.push({
          kind: 'compute',
          skipped: true,
          contacts: 0,
          segments: [],
          cancelled: true,
          error: stopping.reason() ?? 'cancelled',
        });
        computeFailed = true;
        continue;
      }
      const computed = await computeStep(config, step.compute, options, stopping);
      if (computed.error !== undefined) computeFailed = true;
      result.steps.push({ ...computed, ms: ms() });
    } else {
      if (computeFailed) {
        const cancelled = stopping.signal.aborted;
        result.steps.push({
          kind: 'push',
          destination: step.push.destination,
          outcome: notPushed(
            step.push,
            dryRun,
            cancelled ? 'not pushed: the run was stopped' : 'not pushed: the compute step before it failed',
            cancelled,
          ),
        });
        continue;
      }
      if (stopping.signal.aborted) {
        result.steps.push({
          kind: 'push',
          destination: step.push.destination,
          outcome: notPushed(step.push, dryRun, 'not pushed: the run was stopped', true),
        });
        continue;
      }
      const outcome = await pushStep(store, config, step.push, options, result.runId, stopping);
      addStep(result, { kind: 'push', destination: step.push.destination, outcome, ms: ms() });
    }
    await save();
  }
}

/** Adds a step's outcome to a run's result, with its counts. */
export function addStep(result: JobResult, step: StepResult): void {
  const count = (key: string, n: number) => (result.counts[key] = (result.counts[key] ?? 0) + n);
  if (step.kind === 'read')
    for (const s of step.sources.flatMap((x) => x.streams)) {
      count('read', s.counts.read);
      count('inserted', s.counts.inserted);
      count('updated', s.counts.updated);
      count('rejected', s.rejected);
    }
  if (step.kind === 'push' && !result.dryRun)
    for (const s of step.outcome.segments) {
      count('added', s.added);
      count('removed', s.removed);
      count('traits_updated', s.updated ?? 0);
      count('rejected', s.rejected);
      count('retried', s.retried);
    }
  result.steps.push(step);
}

export async function readStep(
  store: Queryable,
  config: Config,
  step: ReadStep,
  options: RunJobOptions,
  runId: number | undefined,
  stopping: Stopping,
): Promise<{ source: string; streams: StreamOutcome[] }[]> {
  // Sources side by side, each with its own rate budget: one waits on its API while another's pages load. Pages still
  // commit one at a time (each load is synchronous on the one store connection), and loads do not depend on order.
  const readOne = async (name: string): Promise<{ source: string; streams: StreamOutcome[] }> => {
    const connection = config.sources[name]!;
    const source = options.registry.source(connection.connector);
    const ctx = connectionContext(config, {
      kind: 'source',
      name,
      connector: source,
      logger: options.logger ?? quiet,
      // Aborting a read in flight loses nothing: its page was not committed, and the next run reads it again.
      signal: stopping.signal,
      ...(options.sharedBudgets === undefined ? {} : { sharedBudgets: options.sharedBudgets }),
    });
    const streams = step.streams ?? connection.streams ?? source.streams(connection.config as never).map((s) => s.name);
    const progress = new Map<string, { read: number; pages: number }>();
    const outcomes = await readSource({
      store,
      connection: name,
      source,
      config: connection.config,
      streams,
      mode: step.mode,
      ctx,
      ...(runId === undefined ? {} : { runId }),
      identity: identityOptionsOf(config.identity),
      onPage: (stream, page) => {
        const seen = progress.get(stream) ?? { read: 0, pages: 0 };
        seen.read += page.read;
        seen.pages++;
        progress.set(stream, seen);
        options.onProgress?.({ kind: 'read', source: name, stream, ...seen });
      },
      ...(options.beforeCommit?.page ? { beforeCommit: options.beforeCommit.page } : {}),
    });
    return { source: name, streams: outcomes };
  };
  return Promise.all(step.sources.map(readOne));
}

/** What a job's compute step computes, as the compute thread takes it. */
export function computeInputOf(
  config: Config,
  step: ComputeStep,
  options: RunJobOptions,
  lease?: TaskLease,
): ComputeInput {
  return {
    storePath: config.store.path,
    ...(config.store.computeConnections === undefined ? {} : { connections: config.store.computeConnections }),
    now: (options.now ?? new Date()).toISOString(),
    currency: config.currency,
    features: config.features,
    segments: withDependencies(config.segments, step.segments),
    // Account segments whose members conditions name a segment need it computed too: every segment then.
    ...(config.account_segments?.length
      ? {
          accountSegments: config.account_segments,
          ...(step.segments && config.account_segments.some((a) => JSON.stringify(a.rule).includes('"in_segment"'))
            ? { segments: withDependencies(config.segments, undefined) }
            : {}),
        }
      : {}),
    protectedAttributes: config.protected_attributes,
    models: config.models,
    ...(step.models ? { onlyModels: step.models } : {}),
    ...(lease === undefined ? {} : { lease }),
    ...(config.text ? { text: config.text } : {}),
    ...(options.fullCompute === true || step.mode === 'full' ? { mode: 'full' as const } : {}),
  };
}

/**
 * Runs a compute input (the whole compute, or a part of a sliced one) in a worker thread, or in this thread when
 * `options.computeIn` is `here`; fenced by the task's lease when the input carries one.
 */
export async function runComputeInput(
  input: ComputeInput,
  options: RunJobOptions,
  stopping: Stopping,
): Promise<ComputeOutcome> {
  const onPhase = (phase: ComputePhase, done: boolean) => options.onProgress?.({ kind: 'compute', phase, done });
  if (options.computeIn !== 'here') return await computeInputInWorker(input, { signal: stopping.signal, onPhase });
  const store = await openStore(input.storePath);
  try {
    const fenced = input.lease === undefined ? store : fencedByTask(store, input.lease);
    return await computeInput(fenced, input, onPhase, options.beforeCommit?.slice);
  } finally {
    await store.close();
  }
}

export async function computeStep(
  config: Config,
  step: ComputeStep,
  options: RunJobOptions,
  stopping: Stopping,
  lease?: TaskLease,
): Promise<StepResult & { kind: 'compute' }> {
  const outcome = await computePartStep(config, step, options, stopping, lease);
  if ('error' in outcome) return computeFailure(outcome);
  if (!('report' in outcome)) return computeFailure({ error: `the compute answered a ${outcome.part} part` });
  return computeResultOf(outcome.report);
}

/**
 * Runs a job's compute step, or with `part` one part of it split across workers; a failure (or a stop) is answered
 * with its reason instead of thrown.
 */
export async function computePartStep(
  config: Config,
  step: ComputeStep,
  options: RunJobOptions,
  stopping: Stopping,
  lease?: TaskLease,
  part?: ComputePart,
): Promise<ComputeOutcome | { error: string; cancelled?: boolean }> {
  const input = computeInputOf(config, step, options, lease);
  try {
    return await runComputeInput(part === undefined ? input : { ...input, part }, options, stopping);
  } catch (error) {
    const cancelled = stopping.signal.aborted;
    return cancelled ? { error: stopping.reason() ?? 'cancelled', cancelled } : { error: reasonOf(error) };
  }
}

/** A compute step's result from its report. */
export function computeResultOf(report: ComputeReport): StepResult & { kind: 'compute' } {
  return {
    kind: 'compute',
    skipped: false,
    contacts: report.contacts,
    segments: report.segments,
    ...(report.accountSegments ? { accountSegments: report.accountSegments } : {}),
    models: report.models,
    warnings: report.warnings,
    timings: report.timings,
  };
}

/** A compute step that failed (or was stopped) before it computed anything it reports. */
export function computeFailure(failure: { error: string; cancelled?: boolean }): StepResult & { kind: 'compute' } {
  return {
    kind: 'compute',
    skipped: false,
    contacts: 0,
    segments: [],
    ...(failure.cancelled === true ? { cancelled: true } : {}),
    error: failure.error,
  };
}

export async function pushStep(
  store: Queryable,
  config: Config,
  step: PushStep,
  options: RunJobOptions,
  runId: number | undefined,
  stopping: Stopping,
): Promise<PushOutcome> {
  const connection = config.destinations[step.destination]!;
  const destination = options.registry.destination(connection.connector);
  // A push stops between batches: a batch in flight is answered and its results committed first, so nothing the
  // destination accepted is forgotten (and sent again) because of a stop.
  const between = new AbortController();
  let inFlight = 0;
  const onStop = () => {
    if (inFlight === 0) between.abort(stopping.signal.reason);
  };
  if (stopping.signal.aborted) onStop();
  stopping.signal.addEventListener('abort', onStop, { once: true });
  const gentle: DestinationDefinition = {
    ...destination,
    write: async (batch, cfg, ctx) => {
      inFlight++;
      try {
        return await destination.write(batch, cfg as never, ctx);
      } finally {
        inFlight--;
        if (stopping.signal.aborted) between.abort(stopping.signal.reason);
      }
    },
  };
  const ctx = connectionContext(config, {
    kind: 'destination',
    name: step.destination,
    connector: destination,
    logger: options.logger ?? quiet,
    signal: between.signal,
    ...(options.sharedBudgets === undefined ? {} : { sharedBudgets: options.sharedBudgets }),
  });
  const identitiesFrom = connection.identities_from;
  const names = new Map(config.segments.map((s) => [s.key, s.name]));
  const sent = new Map<string, number>();
  const totals = new Map<string, number>();
  const common = {
    store,
    destination: gentle,
    config: connection.config,
    ctx,
    connection: step.destination,
    segments: step.segments.map((key) => ({ key, name: names.get(key) ?? key })),
    ...(identitiesFrom === undefined ? {} : { identitiesFrom }),
    mode: step.mode,
    ...(step.require_consent === undefined ? {} : { requireConsent: step.require_consent }),
    ...(step.traits === undefined ? {} : { traits: step.traits }),
    maxRetries: step.max_retries ?? options.maxRetries ?? 3,
  };
  try {
    checkTraitSources(config, step);
    if (options.planTotals && options.dryRun !== true) {
      for (const s of (await pushSegments({ ...common, dryRun: true })).segments) {
        const total = s.added + s.removed + (s.updated ?? 0);
        totals.set(s.segment, total);
        options.onProgress?.({ kind: 'push', destination: step.destination, segment: s.segment, sent: 0, total });
      }
    }
    const contacts = await pushSegments({
      ...common,
      ...(runId === undefined ? {} : { runId }),
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
      dryRun: options.dryRun === true,
      onBatch: (segment, n) => {
        const done = (sent.get(segment) ?? 0) + n;
        sent.set(segment, done);
        const total = totals.get(segment);
        options.onProgress?.({
          kind: 'push',
          destination: step.destination,
          segment,
          sent: done,
          ...(total === undefined ? {} : { total }),
        });
      },
      ...(options.beforeCommit?.delivery ? { beforeCommit: options.beforeCommit.delivery } : {}),
    });
    if (!step.account_segments?.length || contacts.configError !== undefined) return contacts;
    return withAccountPushes(contacts, {
      store,
      destination,
      config: connection.config,
      ctx,
      connection: step.destination,
      segments: step.account_segments.map((key) => ({
        key,
        name: config.account_segments?.find((a) => a.key === key)?.name ?? key,
      })),
      identitiesFrom: identitiesFrom ?? defaultIdentitySource(config, connection.connector),
      ...(options.dryRun === true ? { dryRun: true } : {}),
    });
  } catch (error) {
    return notPushed(step, options.dryRun === true, reasonOf(error));
  } finally {
    stopping.signal.removeEventListener('abort', onStop);
  }
}

/** The source a destination's tool ids come from when `identities_from` is left out: the one source of its connector. */
function defaultIdentitySource(config: Config, connector: string): string {
  const same = Object.values(config.sources).filter((s) => s.connector === connector);
  return same.length === 1 ? (same[0] as { name: string }).name : connector;
}

/**
 * Pushes (or, in a dry run, plans) a step's account segments after its segments, folding each into the outcome as a
 * segment of its own, marked `accounts`.
 */
async function withAccountPushes(outcome: PushOutcome, options: PushAccountSegmentsOptions): Promise<PushOutcome> {
  const accounts = await pushAccountSegments(options);
  const segments = [
    ...outcome.segments,
    ...accounts.map((a) => ({
      ...segmentOutcome(a.segment, a.error === undefined ? 'succeeded' : 'failed'),
      accounts: true,
      sample: (a.sample ?? []).map((c) => ({
        op: c.op,
        contactId: String(c.accountId),
        email: null,
        externalIds: c.externalIds,
        account: { name: c.name, domain: c.domain },
      })),
      added: a.added,
      removed: a.removed,
      rejected: a.rejected,
      skipped: a.skipped + a.notInTool,
      ...(a.error === undefined ? {} : { error: a.error }),
    })),
  ];
  const failed = segments.filter((s) => s.status === 'failed').length;
  const status: PushOutcome['status'] =
    outcome.status === 'cancelled'
      ? 'cancelled'
      : failed === segments.length && failed > 0
        ? 'failed'
        : failed > 0 || outcome.status === 'partial'
          ? 'partial'
          : 'succeeded';
  return { ...outcome, status, segments };
}

/** A push step's trait sources must name a model of `models:`, a built-in feature or one of `features:`, or a trait. */
function checkTraitSources(config: Config, step: PushStep): void {
  for (const [trait, text] of Object.entries(step.traits ?? {})) {
    let source;
    try {
      source = parseTraitSource(text);
    } catch (error) {
      throw new Error(`push to ${step.destination}: trait ${trait}: ${reasonOf(error)}`, { cause: error });
    }
    if (source.kind === 'model' && !hasEntry(config.models, source.model)) {
      const known = Object.keys(config.models).join(', ') || 'none are defined';
      throw new Error(
        `push to ${step.destination}: trait ${trait} maps "${text}", but there is no model "${source.model}" under models: (${known})`,
      );
    }
    if (source.kind === 'feature' && !FEATURE_NAMES.includes(source.name) && !hasEntry(config.features, source.name)) {
      throw new Error(
        `push to ${step.destination}: trait ${trait} maps "${text}", which is neither a built-in feature nor one under features: (write trait:${source.name} for a contact trait)`,
      );
    }
  }
}

export function notPushed(step: PushStep, dryRun: boolean, reason: string, cancelled = false): PushOutcome {
  return {
    connection: step.destination,
    status: cancelled ? 'cancelled' : 'failed',
    dryRun,
    segments: [...step.segments, ...(step.account_segments ?? [])].map((segment) => ({
      ...segmentOutcome(segment, cancelled ? 'cancelled' : 'failed'),
      error: reason,
    })),
  };
}

/** Every stream, compute and destination outcome folded into one run status. */
function overall(result: JobResult): JobResult['status'] {
  const outcomes: string[] = [];
  for (const step of result.steps) {
    if (step.kind === 'read') outcomes.push(...step.sources.flatMap((s) => s.streams.map((x) => x.status)));
    else if (step.kind === 'compute')
      outcomes.push(
        step.cancelled ? 'cancelled' : step.skipped ? 'skipped' : step.error === undefined ? 'succeeded' : 'failed',
      );
    else outcomes.push(step.outcome.status);
  }
  const real = outcomes.filter((s) => s !== 'skipped');
  if (real.includes('cancelled')) return 'cancelled';
  if (real.length > 0 && real.every((s) => s === 'failed')) return 'failed';
  if (real.some((s) => s !== 'succeeded')) return 'partial';
  return 'succeeded';
}
