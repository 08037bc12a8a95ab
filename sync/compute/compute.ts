import { createHash } from 'node:crypto';
import {
  commitCompute,
  computeAccountFeatures,
  computeFeatures,
  computeFeaturesIncrementally,
  durationMs,
  evaluateAccountSegments,
  evaluateSegments,
  lastModelRunId,
  planCompute,
  ruleInputs,
  segmentScope,
  type AccountSegmentDefinition,
  type AccountSegmentReport,
  runModels,
  type FeatureOptions,
  type ModelRunReport,
  type SegmentDefinition,
  type SegmentReport,
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
  const now = new Date(input.now);
  const timings = { features: 0, models: 0, segments: 0 };
  let at = performance.now();
  const lap = (phase: ComputePhase) => {
    const t = performance.now();
    timings[phase] = Math.round(t - at);
    at = t;
    onPhase(phase, true);
  };

  onPhase('features', false);
  // Text analysis writes into the new text events (redaction, sentiment, topic): it runs before the plan is made, so
  // that the marks its writes leave are taken by this run.
  const text = input.text ?? { keep: false };
  const topics = text.topics
    ? await fitPendingTopics(store, { topics: text.topics.count, names: text.topics.names })
    : undefined;
  await analyseTextEvents(store, { keepText: text.keep, ...(topics ? { topics } : {}) });
  const planned = plannedInputs(input);
  const customFeatures = Object.keys(input.features ?? {});
  const plan = await planCompute(store, {
    now,
    fingerprints: {
      features: fingerprint({ v: FEATURES_VERSION, features: input.features ?? {}, currency: input.currency ?? null }),
      segments: fingerprint({
        segments: input.segments.map((s) => [s.key, s.rule, s.holdout ?? 0]),
        customFeatures,
        protectedAttributes: input.protectedAttributes ?? [],
        models: Object.keys(input.models ?? {}),
      }),
    },
    windows: planned.windows,
    full: planned.full,
  });
  const featureOptions = {
    now,
    ...(input.currency === undefined ? {} : { currency: input.currency }),
    ...(input.features === undefined ? {} : { features: input.features }),
  };
  const features = plan.featuresFull
    ? await computeFeatures(store, featureOptions)
    : await computeFeaturesIncrementally(store, plan.contacts, featureOptions);
  await computeVoiceFeatures(store, { now });
  await computeAccountFeatures(store, now);
  lap('features');

  onPhase('models', false);
  const models = input.models ?? {};
  const warnings = [...features.warnings];
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
  lap('models');

  onPhase('segments', false);
  // Models refit on their own schedule (here or through the model commands), over everyone: when one ran since the
  // last compute, the rules reading models see new outputs for all.
  const modelRun = await lastModelRunId(store);
  const everyone = new Map(planned.everyone);
  if (modelRun !== (plan.previous?.modelRun ?? 0))
    for (const key of planned.readModels) everyone.set(key, 'a model it reads ran');
  const scoped = plan.segmentsFull ? undefined : await segmentScope(store, plan);
  const report = await evaluateSegments(store, input.segments, {
    now,
    customFeatures,
    ...(input.protectedAttributes === undefined ? {} : { protectedAttributes: input.protectedAttributes }),
    models: Object.keys(models),
    ...(scoped === undefined ? {} : { contacts: scoped, everyone: [...everyone.keys()] }),
    onCommit: (tx) => commitCompute(tx, plan, modelRun),
  });
  const accountSegments = input.accountSegments?.length
    ? await evaluateAccountSegments(store, input.accountSegments, input.segments, {
        now,
        customFeatures: Object.keys(input.features ?? {}),
        ...(input.protectedAttributes === undefined ? {} : { protectedAttributes: input.protectedAttributes }),
        models: Object.keys(models),
      })
    : undefined;
  lap('segments');
  return {
    contacts: features.contacts,
    segments: report.segments,
    ...(accountSegments ? { accountSegments } : {}),
    models: ran,
    ...(topics ? { topics: topics.topics.map(({ name, terms, size }) => ({ name, terms, size })) } : {}),
    warnings,
    timings,
    scope: {
      mode: plan.featuresFull ? 'full' : 'incremental',
      reason: plan.reason,
      features: features.contacts,
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
