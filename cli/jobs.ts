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
import { configSecrets, rateBudget, type ComputeStep, type Config, type PushStep, type ReadStep, type Segment } from '../config/index.js';
import {
  acquireJobLock,
  computeFeatures,
  evaluateSegments,
  finishRun,
  openStore,
  releaseJobLock,
  startRun,
  type SegmentReport,
  type Store,
} from '../core/index.js';
import { createContext, type Logger, type Registry } from '../plugins/index.js';
import { pushSegments, readSource, type PushOutcome, type StreamOutcome } from '../sync/index.js';

export interface RunJobOptions {
  registry: Registry;
  /** Plan the pushes only: nothing is read, computed, sent or written. */
  dryRun?: boolean;
  logger?: Logger;
  /** Aborting it (SIGTERM) ends each step after its current page or batch. */
  signal?: AbortSignal;
  /** The moment relative times in segment rules and features are measured from. Default: now. */
  now?: Date;
  /** How long the job lock holds without the run finishing; a crashed run's lock is taken over after it. */
  lockTtlMs?: number;
  /** Who holds the lock; default a fresh id per run. */
  holder?: string;
  /** Retries a retryable push row gets when the step does not say (default 3). */
  maxRetries?: number;
  /** First wait before retrying push rows in the run. */
  retryDelayMs?: number;
  /** Called once the run is recorded (before its first step), with its id: the API answers with it at once. */
  onRunStarted?(runId: number): void;
}

export type StepResult =
  | { kind: 'read'; skipped: boolean; sources: { source: string; streams: StreamOutcome[] }[] }
  | { kind: 'compute'; skipped: boolean; contacts: number; segments: SegmentReport[]; error?: string }
  | { kind: 'push'; destination: string; outcome: PushOutcome };

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

const DEFAULT_LOCK_TTL_MS = 6 * 60 * 60 * 1000;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs `jobName` from `config`. A step that fails is reported and the following steps still run, except that a
 * failed compute stops the pushes after it (they would send stale membership). The run is `succeeded` when every
 * stream, segment and destination succeeded, `failed` when nothing did, `partial` otherwise.
 */
export async function runJob(config: Config, jobName: string, options: RunJobOptions): Promise<JobResult> {
  const job = config.jobs[jobName];
  if (!job) throw new Error(`no job "${jobName}" (jobs: ${Object.keys(config.jobs).join(', ') || 'none'})`);
  const dryRun = options.dryRun === true;
  const holder = options.holder ?? `run:${process.pid}:${randomUUID()}`;
  mkdirSync(dirname(config.store.path), { recursive: true });
  const store = openStore(config.store.path);
  const result: JobResult = { job: jobName, status: 'succeeded', dryRun, steps: [], counts: {} };
  try {
    if (!dryRun && !acquireJobLock(store, jobName, holder, options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS)) {
      result.status = 'locked';
      result.error = `job "${jobName}" is already running (its lock is held in ${config.store.path})`;
      return result;
    }
    try {
      if (!dryRun) {
        result.runId = startRun(store, jobName);
        options.onRunStarted?.(result.runId);
      }
      await runSteps(store, config, job.steps, options, result);
      result.status = overall(result);
    } catch (error) {
      result.status = 'failed';
      result.error = error instanceof Error ? error.message : String(error);
    } finally {
      if (result.runId !== undefined) {
        finishRun(store, result.runId, result.status as 'succeeded' | 'partial' | 'failed' | 'cancelled', result.counts, result.error ?? null);
      }
      if (!dryRun) releaseJobLock(store, jobName, holder);
    }
    return result;
  } finally {
    store.close();
  }
}

async function runSteps(
  store: Store,
  config: Config,
  steps: Config['jobs'][string]['steps'],
  options: RunJobOptions,
  result: JobResult,
): Promise<void> {
  const dryRun = options.dryRun === true;
  const count = (key: string, n: number) => (result.counts[key] = (result.counts[key] ?? 0) + n);
  let computeFailed = false;
  for (const step of steps) {
    if ('read' in step) {
      if (dryRun) {
        result.steps.push({ kind: 'read', skipped: true, sources: step.read.sources.map((source) => ({ source, streams: [] })) });
        continue;
      }
      const sources = await readStep(store, config, step.read, options, result.runId);
      for (const s of sources.flatMap((x) => x.streams)) {
        count('read', s.counts.read);
        count('inserted', s.counts.inserted);
        count('updated', s.counts.updated);
        count('rejected', s.rejected);
      }
      result.steps.push({ kind: 'read', skipped: false, sources });
    } else if ('compute' in step) {
      if (dryRun) {
        result.steps.push({ kind: 'compute', skipped: true, contacts: 0, segments: [] });
        continue;
      }
      const computed = computeStep(store, config, step.compute, options);
      if (computed.error !== undefined) computeFailed = true;
      result.steps.push(computed);
    } else {
      if (computeFailed) {
        result.steps.push({ kind: 'push', destination: step.push.destination, outcome: notPushed(step.push, dryRun, 'not pushed: the compute step before it failed') });
        continue;
      }
      const outcome = await pushStep(store, config, step.push, options, result.runId);
      for (const s of outcome.segments) {
        if (dryRun) continue;
        count('added', s.added);
        count('removed', s.removed);
        count('rejected', s.rejected);
        count('retried', s.retried);
      }
      result.steps.push({ kind: 'push', destination: step.push.destination, outcome });
    }
  }
}

async function readStep(
  store: Store,
  config: Config,
  step: ReadStep,
  options: RunJobOptions,
  runId: number | undefined,
): Promise<{ source: string; streams: StreamOutcome[] }[]> {
  const out: { source: string; streams: StreamOutcome[] }[] = [];
  // One after another: a single store connection commits each page, and each source keeps its own rate budget.
  for (const name of step.sources) {
    const connection = config.sources[name]!;
    const source = options.registry.source(connection.connector);
    const ctx = createContext({
      connection: name,
      budget: rateBudget(source, connection.rate_limit),
      secrets: configSecrets(config),
      logger: options.logger ?? quiet,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const streams = step.streams ?? connection.streams;
    out.push({
      source: name,
      streams: await readSource({
        store,
        connection: name,
        source,
        config: connection.config,
        ...(streams ? { streams } : {}),
        mode: step.mode,
        ctx,
        ...(runId === undefined ? {} : { runId }),
        identity: {
          ...(config.identity.role_addresses ? { roleAddresses: config.identity.role_addresses } : {}),
          ...(config.identity.max_contacts_per_identifier ? { sharedEmailLimit: config.identity.max_contacts_per_identifier } : {}),
        },
      }),
    });
  }
  return out;
}

function computeStep(store: Store, config: Config, step: ComputeStep, options: RunJobOptions): StepResult & { kind: 'compute' } {
  const now = options.now ?? new Date();
  try {
    const features = computeFeatures(store, { now, currency: config.currency, features: config.features });
    const report = evaluateSegments(store, withDependencies(config.segments, step.segments), {
      now,
      customFeatures: Object.keys(config.features),
      protectedAttributes: config.protected_attributes,
      models: Object.keys(config.models),
    });
    return { kind: 'compute', skipped: false, contacts: features.contacts, segments: report.segments };
  } catch (error) {
    return { kind: 'compute', skipped: false, contacts: 0, segments: [], error: error instanceof Error ? error.message : String(error) };
  }
}

/** The named segments (all when none are named) and every segment they refer to with `in_segment`. */
function withDependencies(segments: readonly Segment[], keys: readonly string[] | undefined): Segment[] {
  if (!keys) return [...segments];
  const byKey = new Map(segments.map((s) => [s.key, s]));
  const wanted = new Set<string>();
  const visit = (key: string) => {
    if (wanted.has(key) || !byKey.has(key)) return;
    wanted.add(key);
    refersTo(byKey.get(key)!.rule).forEach(visit);
  };
  keys.forEach(visit);
  return segments.filter((s) => wanted.has(s.key));
}

function refersTo(rule: unknown): string[] {
  if (Array.isArray(rule)) return rule.flatMap(refersTo);
  if (!rule || typeof rule !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(rule)) {
    if (k === 'in_segment' && typeof v === 'string') out.push(v);
    else if (k === 'all' || k === 'any' || k === 'not') out.push(...refersTo(v));
  }
  return out;
}

async function pushStep(
  store: Store,
  config: Config,
  step: PushStep,
  options: RunJobOptions,
  runId: number | undefined,
): Promise<PushOutcome> {
  const connection = config.destinations[step.destination]!;
  const destination = options.registry.destination(connection.connector);
  const ctx = createContext({
    connection: step.destination,
    budget: rateBudget(destination, connection.rate_limit),
    secrets: configSecrets(config),
    logger: options.logger ?? quiet,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const identitiesFrom =
    connection.identities_from ?? Object.values(config.sources).find((s) => s.connector === connection.connector)?.name;
  const names = new Map(config.segments.map((s) => [s.key, s.name]));
  try {
    return await pushSegments({
      store,
      destination,
      config: connection.config,
      ctx,
      connection: step.destination,
      segments: step.segments.map((key) => ({ key, name: names.get(key) ?? key })),
      ...(identitiesFrom === undefined ? {} : { identitiesFrom }),
      mode: step.mode,
      ...(step.require_consent === undefined ? {} : { requireConsent: step.require_consent }),
      maxRetries: step.max_retries ?? options.maxRetries ?? 3,
      ...(runId === undefined ? {} : { runId }),
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
      dryRun: options.dryRun === true,
    });
  } catch (error) {
    return notPushed(step, options.dryRun === true, error instanceof Error ? error.message : String(error));
  }
}

function notPushed(step: PushStep, dryRun: boolean, reason: string): PushOutcome {
  return {
    connection: step.destination,
    status: 'failed',
    dryRun,
    segments: step.segments.map((segment) => ({
      segment,
      status: 'failed',
      added: 0,
      removed: 0,
      rejected: 0,
      retried: 0,
      pending: 0,
      skipped: 0,
      skippedBy: { suppressed: 0, noConsent: 0, noIdentity: 0, exhausted: 0 },
      batches: 0,
      sample: [],
      error: reason,
    })),
  };
}

/** Every stream, compute and destination outcome folded into one run status. */
function overall(result: JobResult): JobResult['status'] {
  const outcomes: string[] = [];
  for (const step of result.steps) {
    if (step.kind === 'read') outcomes.push(...step.sources.flatMap((s) => s.streams.map((x) => x.status)));
    else if (step.kind === 'compute') outcomes.push(step.skipped ? 'skipped' : step.error === undefined ? 'succeeded' : 'failed');
    else outcomes.push(step.outcome.status);
  }
  const real = outcomes.filter((s) => s !== 'skipped');
  if (real.includes('cancelled')) return 'cancelled';
  if (real.length > 0 && real.every((s) => s === 'failed')) return 'failed';
  if (real.some((s) => s !== 'succeeded')) return 'partial';
  return 'succeeded';
}
