import {
  evaluateSegments,
  recomputeContacts,
  type EvaluateOptions,
  type FeatureOptions,
  type IdentityOptions,
  type SegmentDefinition,
  type Queryable,
} from '../../core/index.js';
import { loadWaitingMessages, queueForDestinations, touchedContacts } from '../../core/realtime/index.js';

/**
 * Default step sizes: a step's fixed costs (statements, the segment queries, a commit) are paid once for up to this
 * many messages and contacts; steps and flushes take turns, so a backlog drains at most this many per turn (1,000
 * could not catch up with 1,000 events/s on a loaded machine).
 */
export const STEP_MESSAGES = 2000;
export const STEP_CONTACTS = 2000;

/** What one step needs: plain data, so it can be posted to the step worker. */
export interface StepInput {
  segments: readonly SegmentDefinition[];
  /** The destinations' connection names, whose pending queues recomputed contacts join. */
  destinations: readonly string[];
  features?: Omit<FeatureOptions, 'now'>;
  evaluate?: Omit<EvaluateOptions, 'now' | 'contacts'>;
  identity?: IdentityOptions;
  /** Most contacts recomputed per step and messages loaded per step (a message touches at most one contact, so with no more messages than contacts touched contacts never pile up); the rest wait. */
  maxContactsPerTick?: number;
  maxMessagesPerTick?: number;
}

/** What a step did. */
export interface StepReport {
  messages: number;
  contacts: number;
  loadMs: number;
  totalMs: number;
}

/**
 * Loads the waiting messages, then recomputes the contacts they touched together (features, then segments over just
 * those contacts) and queues them for every destination, all in ONE transaction: one commit per step, and pages that
 * loading and recomputing both write (a contact's events, features and memberships) go to the log once.
 */
export async function runStep(store: Queryable, input: StepInput, now: Date): Promise<StepReport> {
  const started = performance.now();
  return await store.transaction(async (tx) => {
    const load = await loadWaitingMessages(tx, {
      limit: input.maxMessagesPerTick ?? STEP_MESSAGES,
      ...(input.identity ? { identity: input.identity } : {}),
    });
    const loadMs = Math.round(performance.now() - started);
    const touched = await touchedContacts(tx, input.maxContactsPerTick ?? STEP_CONTACTS);
    if (touched.length > 0) {
      const ids = touched.map((c) => c.contactId);
      await recomputeContacts(tx, ids, { ...input.features, now });
      if (input.segments.length > 0)
        await evaluateSegments(tx, input.segments, { ...input.evaluate, now, contacts: ids });
      await queueForDestinations(tx, touched, input.destinations);
    }
    return {
      messages: load.messages,
      contacts: touched.length,
      loadMs,
      totalMs: Math.round(performance.now() - started),
    };
  });
}
