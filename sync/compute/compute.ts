import { createHash } from 'node:crypto';
import {
  boundsOf,
  clearPending,
  commitCompute,
  computeAccountFeatures,
  computeFeatures,
  computeFeaturesIncrementally,
  computeSlice,
  contactBounds,
  durationMs,
  evaluateAccountSegments,
  evaluateSegments,
  lastModelRunId,
  pendingContacts,
  planCompute,
  rangeOf,
  ruleInputs,
  segmentScope,
  type AccountSegmentDefinition,
  type AccountSegmentReport,
  runModels,
  type ComputeFingerprints,
  type ComputePlan,
  type ComputeState,
  type FeatureOptions,
  type ModelRunReport,
  type SegmentDefinition,
  type SegmentReport,
  type SliceRun,
  type Queryable,
  type TaskLease,
} from '../../core/index.js';
import { analyseTextEvents, computeVoiceFeatures, fitPendingTopics } from '../../core/text/index.js';

/** What a compute step needs, as plain data (it crosses into the worker thread). */
export interface ComputeInput {
  /** The store file; the worker opens its own connection to it. */
  storePath: string;
  /** ISO time the features, models and relative rules are measured from. */
  now: string;
  currency?: FeatureOptions['currency'];
  /** Expression features by name. */
  features?: FeatureOptions['features'];
  /** PostgreSQL: the connections a whole-base feature computation may use (config `store.compute_connections`). */
  connections?: number;
  /** The segments to evaluate, each after the ones it refers to. */
  segments: SegmentDefinition[];
  /** Account segments to evaluate after the segments (their members conditions may name any of `segments`). */
  accountSegments?: AccountSegmentDefinition[];
  protectedAttributes?: readonly string[];
  /** The config's models by name (every known name, for rule checks). */
  models?: Record<string, unknown>;
  /** Only these models run (default all). */
  onlyModels?: readonly string[];
  /** The lease of the worker task computing: each phase commits only while the lease is still the task holder's. */
  lease?: TaskLease;
  /** Voice of the customer (config `text:`): keep redacted text or not, and the topics of tickets. */
  text?: { keep: boolean; topics?: { count: number | 'auto'; names: Record<string, string> } | undefined };
  /**
   * `incremental` (default): recompute only the contacts that changed or crossed a window edge since the last compute
   * (see computeAll); `full`: every contact.
   */
  mode?: 'incremental' | 'full';
  /** A part of a compute split across workers (see {@link ComputePart}); the whole compute when left out. */
  part?: ComputePart;
}

/** How a compute ran: over the whole base, or over the contacts that could have changed. */
export interface ComputeScope {
  mode: 'full' | 'incremental';
  /** `incremental`, or why the run (or its segments) covered everyone. */
  reason: string;
  /** Contacts whose features were recomputed from their events (every contact when full). */
  features: number;
  /** Contacts whose memberships were evaluated (undefined: everyone). */
  segments?: number;
  /**
   * Segments evaluated for every contact all the same, with why (they read accounts, voice features, a model that
   * ran, a time relative to now); segments referring to them are too.
   */
  everyone?: Record<string, string>;
  /** Dirty contacts, and contacts with an event that crossed a window edge, that the run took. */
  dirty: number;
  crossed: number;
}

/** What a compute step did. */
export interface ComputeReport {
  contacts: number;
  segments: SegmentReport[];
  /** Each account segment's size and what entered and left it. */
  accountSegments?: AccountSegmentReport[];
  /** Each model's run: status, contacts scored, a one-line summary. */
  models: Pick<ModelRunReport, 'model' | 'status' | 'contacts' | 'summary' | 'error'>[];
  warnings: string[];
  /** The topics found in this run's new tickets (when config `text.topics` is set and there were enough). */
  topics?: { name: string; terms: string[]; size: number }[];
  /** Milliseconds spent in each phase. */
  timings: { features: number; models: number; segments: number };
  /** Full or incremental, and over how many contacts. */
  scope: ComputeScope;
}

/** Bumped when the features' SQL changes meaning, so that stores computed by an older version recompute fully. */
const FEATURES_VERSION = 1;

const fingerprint = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * What the definitions ask of an incremental run: the windows whose edges events cross, a reason to be full when a
 * feature follows the clock in a way no window edge captures, and the segments evaluated for everyone (with why).
 */
function plannedInputs(input: ComputeInput): {
  windows: number[];
  full?: string;
  everyone: Map<string, string>;
  readModels: string[];
} {
  const windows = [...ruleInputs(input.segments).windows];
  const clockBound: string[] = [];
  for (const [name, f] of Object.entries(input.features ?? {})) {
    if (f.within !== undefined) windows.push(durationMs(f.within));
    for (const [property, filter] of Object.entries(f.where ?? {})) {
      if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) continue;
      const ops = filter as Record<string, unknown>;
      for (const op of ['within', 'before'])
        if (typeof ops[op] === 'string') {
          if (property === 'occurred_at') windows.push(durationMs(ops[op]));
          else clockBound.push(`feature ${name}: property ${property} compared with a time relative to now`);
        }
    }
  }
  const everyone = new Map<string, string>();
  const readModels: string[] = [];
  for (const segment of input.segments) {
    const reads = ruleInputs([segment]);
    const why =
      reads.clockBound[0] ??
      (reads.accounts ? 'it reads accounts' : reads.voice ? 'it reads voice features' : undefined);
    if (why !== undefined) everyone.set(segment.key, why);
    if (reads.models) readModels.push(segment.key);
  }
  return {
    windows,
    ...(clockBound[0] === undefined ? {} : { full: clockBound[0] }),
    ...(input.mode === 'full' ? { full: 'a full compute was asked for' } : {}),
    everyone,
    readModels,
  };
}

/** The phases a compute step goes through, in order; each is committed before the next starts. */
export type ComputePhase = 'features' | 'models' | 'segments';

/**
 * Computes features (with the voice of the customer: text events analysed, `contact_voice`), then models, then
 * segments (rules read model outputs), on `store`. Each phase commits on its own.
 *
 * Incremental by default: features and memberships are recomputed only for the contacts marked dirty since the last
 * compute (new, changed or removed events, changed traits, merges) and those with an event that crossed the edge of a
 * window (the features' 7/30/60/90/365 days, every rule's and expression feature's window) between the last
 * compute's "as of" and `now`; every contact's day counts move with the clock from stored dates and RFM scores are
 * placed against breakpoints found again over the whole base; memberships are also evaluated for the contacts whose
 * features moved. It is full when asked (`mode: 'full'`), at the first compute, when the definitions' fingerprints
 * changed, or when a feature follows the clock in a way no window edge captures. A segment whose rule reads what
 * changes for contacts outside that set (accounts, voice features, a model that ran since the last compute, a trait
 * compared with a time relative to now), and every segment referring to it, is evaluated for every contact. The dirty marks are deleted, and
 * the "as of" moved, in the transaction that commits the memberships: a crash at any point leaves them for the next
 * run, which then recomputes what this one did not finish.
 *
 * @example
 * const report = computeAll(store, { storePath, now: new Date().toISOString(), segments }, (p) => log(p));
 */
export async function computeAll(
  store: Queryable,
  input: ComputeInput,
  onPhase: (phase: ComputePhase, done: boolean) => void = () => {},
): Promise<ComputeReport> {
  const clock = phaseClock(onPhase);
  clock.start('features');
  const { plan, planned, topics } = await analyseAndPlan(store, input);
  const options = featureOptionsOf(input);
  const features = plan.featuresFull
    ? await computeFeatures(store, options)
    : await computeFeaturesIncrementally(store, plan.contacts, options);
  return await finishCompute(store, input, { plan, planned, topics, features, clock });
}

/** What a run of {@link computeInput} gives, by part. */
export type ComputeOutcome =
  | { part: 'whole' | 'segments'; report: ComputeReport }
  | { part: 'prepare'; plan: SlicedPlan }
  | { part: 'features'; slice: SliceRun };

/**
 * Runs what `input` asks: the whole compute ({@link computeAll}), or its `part` of a compute split across workers.
 *
 * @example
 * const outcome = await computeInput(store, { ...input, part: { part: 'prepare', slices: 2 } });
 */
export async function computeInput(
  store: Queryable,
  input: ComputeInput,
  onPhase: (phase: ComputePhase, done: boolean) => void = () => {},
  beforeCommit?: () => void,
): Promise<ComputeOutcome> {
  const part = input.part;
  if (part === undefined) return { part: 'whole', report: await computeAll(store, input, onPhase) };
  if (part.part === 'prepare') return { part: 'prepare', plan: await prepareCompute(store, input, part.slices) };
  if (part.part === 'features') {
    onPhase('features', false);
    const slice = await computeFeatureSlice(store, input, part.plan, part.slice, beforeCommit);
    onPhase('features', true);
    return { part: 'features', slice };
  }
  return { part: 'segments', report: await computeSegmentsPart(store, input, part.plan, part.slices, onPhase) };
}

/**
 * A compute split across workers, in parts run by separate tasks: `prepare` (text analysis and the plan, once),
 * `features` (the features of one slice of contacts, one task per slice, side by side) and `segments` (once every
 * slice succeeded: what needs the whole base, models, memberships). Together they leave the store as
 * {@link computeAll} does at the same `now`.
 */
export type ComputePart =
  | { part: 'prepare'; slices: number }
  | { part: 'features'; plan: SlicedPlan; slice: number }
  | { part: 'segments'; plan: SlicedPlan; slices: SliceRun[] };

/** What the prepare part decided, as plain JSON (kept in its task's result): the other parts follow it. */
export interface SlicedPlan {
  now: string;
  /** The last completed compute, if any. */
  previous?: ComputeState;
  fingerprints: ComputeFingerprints;
  featuresFull: boolean;
  segmentsFull: boolean;
  reason: string;
  /** Windows (ms) beyond the built-in ones whose edges the slices look for crossed events in. */
  windows: number[];
  /** Contact-id bounds of the slices (see `boundsOf`): the contacts to recompute, cut into slices of about equal size. */
  bounds: number[];
  topics?: ComputeReport['topics'];
}

/**
 * Analyses new text events and decides what the compute recomputes (as computeAll does first), and cuts the contacts
 * into `slices` slices of about equal work: the contacts to recompute when incremental, every contact when full.
 *
 * @example
 * const plan = await prepareCompute(store, input, 2);
 */
export async function prepareCompute(store: Queryable, input: ComputeInput, slices: number): Promise<SlicedPlan> {
  const { plan, planned, topics } = await analyseAndPlan(store, input);
  return {
    now: plan.now,
    ...(plan.previous === undefined ? {} : { previous: plan.previous }),
    fingerprints: plan.fingerprints,
    featuresFull: plan.featuresFull,
    segmentsFull: plan.segmentsFull,
    reason: plan.reason,
    windows: planned.windows,
    bounds: plan.featuresFull ? await contactBounds(store, slices) : boundsOf(plan.contacts, slices),
    ...(topics ? { topics: topicsOf(topics) } : {}),
  };
}

/**
 * Recomputes the features of slice `slice` of `plan` in one transaction, which also moves the slice's dirty marks to
 * the contacts pending membership evaluation (see core computeSlice). `beforeCommit` runs inside the transaction
 * (tests stop the process there).
 *
 * @example
 * const run = await computeFeatureSlice(store, input, plan, 0);
 */
export async function computeFeatureSlice(
  store: Queryable,
  input: ComputeInput,
  plan: SlicedPlan,
  slice: number,
  beforeCommit?: () => void | Promise<void>,
): Promise<SliceRun> {
  return await computeSlice(store, {
    ...featureOptionsOf(input),
    now: new Date(plan.now),
    range: rangeOf(plan.bounds, slice),
    full: plan.featuresFull,
    asOf: plan.previous?.asOf,
    windows: plan.windows,
    ...(beforeCommit ? { beforeCommit } : {}),
  });
}

/**
 * The last part of a compute split across workers, once every slice's features are committed: day counts moved
 * with the clock and RFM rescored over the whole base, voice and account features, models, then memberships of the
 * contacts the slices recomputed (or everyone, as the plan says), committed with the compute's "as of".
 *
 * @example
 * const report = await computeSegmentsPart(store, input, plan, sliceRuns);
 */
export async function computeSegmentsPart(
  store: Queryable,
  input: ComputeInput,
  sliced: SlicedPlan,
  slices: readonly SliceRun[],
  onPhase: (phase: ComputePhase, done: boolean) => void = () => {},
): Promise<ComputeReport> {
  const clock = phaseClock(onPhase);
  clock.start('features');
  const sum = (key: keyof SliceRun) => slices.reduce((n, s) => n + s[key], 0);
  const plan: ComputePlan = {
    now: sliced.now,
    previous: sliced.previous,
    fingerprints: sliced.fingerprints,
    featuresFull: sliced.featuresFull,
    segmentsFull: sliced.segmentsFull,
    reason: sliced.reason,
    contacts: [],
    dirty: sum('dirty'),
    crossed: sum('crossed'),
    taken: new Map(),
  };
  // No contact is recomputed here: the day counts of every contact move with the clock, and the breakpoints and RFM
  // scores are found again over the features the slices wrote.
  const refreshed = await computeFeaturesIncrementally(store, [], featureOptionsOf(input));
  return await finishCompute(store, input, {
    plan,
    planned: plannedInputs(input),
    topics: undefined,
    reportedTopics: sliced.topics,
    features: { contacts: sum('contacts'), warnings: refreshed.warnings },
    clock,
  });
}

/** Tells each phase's start and end, and times it. */
interface PhaseClock {
  timings: ComputeReport['timings'];
  start(phase: ComputePhase): void;
  lap(phase: ComputePhase): void;
}

function phaseClock(onPhase: (phase: ComputePhase, done: boolean) => void): PhaseClock {
  const timings = { features: 0, models: 0, segments: 0 };
  let at = performance.now();
  return {
    timings,
    start(phase) {
      onPhase(phase, false);
    },
    lap(phase) {
      const t = performance.now();
      timings[phase] = Math.round(t - at);
      at = t;
      onPhase(phase, true);
    },
  };
}

function featureOptionsOf(input: ComputeInput): FeatureOptions & { now: Date } {
  return {
    now: new Date(input.now),
    ...(input.currency === undefined ? {} : { currency: input.currency }),
    ...(input.features === undefined ? {} : { features: input.features }),
    ...(input.connections === undefined ? {} : { connections: input.connections }),
  };
}

type FittedTopics = Awaited<ReturnType<typeof fitPendingTopics>>;

function topicsOf(fitted: NonNullable<FittedTopics>): NonNullable<ComputeReport['topics']> {
  return fitted.topics.map(({ name, terms, size }) => ({ name, terms, size }));
}

/**
 * Text analysis, then the plan: text analysis writes into the new text events (redaction, sentiment, topic), so it
 * runs before the plan is made, and the marks its writes leave are taken by this run.
 */
async function analyseAndPlan(
  store: Queryable,
  input: ComputeInput,
): Promise<{ plan: ComputePlan; planned: ReturnType<typeof plannedInputs>; topics: FittedTopics | undefined }> {
  const text = input.text ?? { keep: false };
  const topics = text.topics
    ? await fitPendingTopics(store, { topics: text.topics.count, names: text.topics.names })
    : undefined;
  await analyseTextEvents(store, { keepText: text.keep, ...(topics ? { topics } : {}) });
  const planned = plannedInputs(input);
  const plan = await planCompute(store, {
    now: new Date(input.now),
    fingerprints: {
      features: fingerprint({ v: FEATURES_VERSION, features: input.features ?? {}, currency: input.currency ?? null }),
      segments: fingerprint({
        segments: input.segments.map((s) => [s.key, s.rule, s.holdout ?? 0]),
        customFeatures: Object.keys(input.features ?? {}),
        protectedAttributes: input.protectedAttributes ?? [],
        models: Object.keys(input.models ?? {}),
      }),
    },
    windows: planned.windows,
    full: planned.full,
  });
  return { plan, planned, topics };
}

/**
 * Everything after the contacts' features: voice and account features, models, then memberships (of the plan's
 * scope, the contacts a sliced compute left pending, and those whose features moved; or everyone), committed with
 * the plan (dirty marks, "as of") and the pending contacts cleared.
 */
async function finishCompute(
  store: Queryable,
  input: ComputeInput,
  done: {
    plan: ComputePlan;
    planned: ReturnType<typeof plannedInputs>;
    topics: FittedTopics | undefined;
    reportedTopics?: ComputeReport['topics'] | undefined;
    features: { contacts: number; warnings: string[] };
    clock: PhaseClock;
  },
): Promise<ComputeReport> {
  const { plan, planned, clock } = done;
  const now = new Date(input.now);
  await computeVoiceFeatures(store, { now });
  await computeAccountFeatures(store, now);
  clock.lap('features');

  clock.start('models');
  const models = input.models ?? {};
  const warnings = [...done.features.warnings];
  const ran = (
    await runModels(store, models, {
      now,
      ...(input.onlyModels ? { only: input.onlyModels } : {}),
      ...(input.currency === undefined ? {} : { currency: input.currency }),
    })
  ).map((m) => ({
    model: m.model,
    status: m.status,
    contacts: m.contacts,
    summary: m.summary,
    ...(m.error === undefined ? {} : { error: m.error }),
  }));
  for (const m of ran) if (m.status === 'failed') warnings.push(`model ${m.model} failed: ${m.error ?? m.summary}`);
  clock.lap('models');

  // Models refit on their own schedule (here or through the model commands), over everyone: when one ran since the
  // last compute, the rules reading models see new outputs for all.
  const modelRun = await lastModelRunId(store);
  const everyone = new Map(planned.everyone);
  if (modelRun !== (plan.previous?.modelRun ?? 0))
    for (const key of planned.readModels) everyone.set(key, 'a model it reads ran');
  clock.start('segments');
  // A sliced compute whose segments task did not commit left its recomputed dirty contacts pending: they are
  // evaluated here whichever way this compute runs.
  const pending = await pendingContacts(store);
  const scoped = plan.segmentsFull
    ? undefined
    : [...new Set([...(await segmentScope(store, plan)), ...pending])].sort((a, b) => a - b);
  const customFeatures = Object.keys(input.features ?? {});
  const report = await evaluateSegments(store, input.segments, {
    now,
    customFeatures,
    ...(input.protectedAttributes === undefined ? {} : { protectedAttributes: input.protectedAttributes }),
    models: Object.keys(models),
    ...(scoped === undefined ? {} : { contacts: scoped, everyone: [...everyone.keys()] }),
    onCommit: async (tx) => {
      await commitCompute(tx, plan, modelRun);
      await clearPending(tx, pending);
    },
  });
  const accountSegments = input.accountSegments?.length
    ? await evaluateAccountSegments(store, input.accountSegments, input.segments, {
        now,
        customFeatures,
        ...(input.protectedAttributes === undefined ? {} : { protectedAttributes: input.protectedAttributes }),
        models: Object.keys(models),
      })
    : undefined;
  clock.lap('segments');
  const topics = done.topics ? topicsOf(done.topics) : done.reportedTopics;
  return {
    contacts: done.features.contacts,
    segments: report.segments,
    ...(accountSegments ? { accountSegments } : {}),
    models: ran,
    ...(topics ? { topics } : {}),
    warnings,
    timings: clock.timings,
    scope: {
      mode: plan.featuresFull ? 'full' : 'incremental',
      reason: plan.reason,
      features: done.features.contacts,
      ...(scoped === undefined
        ? {}
        : {
            segments: scoped.length,
            everyone: Object.fromEntries([...everyone].filter(([key]) => report.segments.some((s) => s.key === key))),
          }),
      dirty: plan.dirty,
      crossed: plan.crossed,
    },
  };
}
