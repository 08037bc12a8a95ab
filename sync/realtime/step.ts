import {
  evaluateSegments,
  recomputeContacts,
  type EvaluateOptions,
  type FeatureOptions,
  type IdentityOptions,
  type SegmentDefinition,
  type Store,
} from '../../core/index.js';
import { loadWaitingMessages, queueForDestinations, touchedContacts } from '../../core/realtime/index.js';

/** What one step needs: plain data, so it can be posted to the step worker. */
export interface StepInput {
  segments: readonly SegmentDefinition[];
  /** The destinations' connection names, whose pending queues recomputed contacts join. */
  destinations: readonly string[];
  features?: Omit<FeatureOptions, 'now'>;
  evaluate?: Omit<EvaluateOptions, 'now' | 'contacts'>;
  identity?: IdentityOptions;
  /** Most contacts recomputed per step (default 1000) and messages loaded per step (default 500: a message touches at most one contact, so touched contacts never pile up); the rest wait. */
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
 * those contacts) and queues them for every destination, in one transaction with the recompute.
 */
export function runStep(store: Store, input: StepInput, now: Date): StepReport {
  const started = performance.now();
  // Small steps: each holds the store's single write lock, which the server thread's inbox commits wait on.
  const load = loadWaitingMessages(store, { limit: input.maxMessagesPerTick ?? 500, ...(input.identity ? { identity: input.identity } : {}) });
  const loadMs = Math.round(performance.now() - started);
  const touched = touchedContacts(store, input.maxContactsPerTick ?? 1000);
  if (touched.length > 0) {
    const ids = touched.map((c) => c.contactId);
    store.transaction(() => {
      recomputeContacts(store, ids, { ...input.features, now });
      if (input.segments.length > 0) evaluateSegments(store, input.segments, { ...input.evaluate, now, contacts: ids });
      queueForDestinations(store, touched, input.destinations);
    });
  }
  return { messages: load.messages, contacts: touched.length, loadMs, totalMs: Math.round(performance.now() - started) };
}
