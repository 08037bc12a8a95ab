import {
  computeAccountFeatures,
  computeFeatures,
  evaluateSegments,
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
  protectedAttributes?: readonly string[];
  /** The config's models by name (every known name, for rule checks). */
  models?: Record<string, unknown>;
  /** Only these models run (default all). */
  onlyModels?: readonly string[];
  /** The lease of the worker task computing: each phase commits only while the lease is still the task holder's. */
  lease?: TaskLease;
  /** Voice of the customer (config `text:`): keep redacted text or not, and the topics of tickets. */
  text?: { keep: boolean; topics?: { count: number | 'auto'; names: Record<string, string> } | undefined };
}

/** What a compute step did. */
export interface ComputeReport {
  contacts: number;
  segments: SegmentReport[];
  /** Each model's run: status, contacts scored, a one-line summary. */
  models: Pick<ModelRunReport, 'model' | 'status' | 'contacts' | 'summary' | 'error'>[];
  warnings: string[];
  /** The topics found in this run's new tickets (when config `text.topics` is set and there were enough). */
  topics?: { name: string; terms: string[]; size: number }[];
  /** Milliseconds spent in each phase. */
  timings: { features: number; models: number; segments: number };
}

/** The phases a compute step goes through, in order; each is committed before the next starts. */
export type ComputePhase = 'features' | 'models' | 'segments';

/**
 * Computes features (with the voice of the customer: text events analysed, `contact_voice`), then models, then
 * segments (rules read model outputs), on `store`. Each phase commits on its
 * own; a crash in between leaves the earlier phases' output, and the next run recomputes all of it.
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
  const features = await computeFeatures(store, {
    now,
    ...(input.currency === undefined ? {} : { currency: input.currency }),
    ...(input.features === undefined ? {} : { features: input.features }),
  });
  const text = input.text ?? { keep: false };
  const topics = text.topics
    ? await fitPendingTopics(store, { topics: text.topics.count, names: text.topics.names })
    : undefined;
  await analyseTextEvents(store, { keepText: text.keep, ...(topics ? { topics } : {}) });
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
  const report = await evaluateSegments(store, input.segments, {
    now,
    customFeatures: Object.keys(input.features ?? {}),
    ...(input.protectedAttributes === undefined ? {} : { protectedAttributes: input.protectedAttributes }),
    models: Object.keys(models),
  });
  lap('segments');
  return {
    contacts: features.contacts,
    segments: report.segments,
    models: ran,
    ...(topics ? { topics: topics.topics.map(({ name, terms, size }) => ({ name, terms, size })) } : {}),
    warnings,
    timings,
  };
}
