import {
  evaluateSegments,
  recomputeContacts,
  type EvaluateOptions,
  type FeatureOptions,
  type IdentityOptions,
  type SegmentDefinition,
  type Queryable,
} from '../../core/index.js';
import {
  anyTouched,
  clearComputeMarks,
  computeMarksOf,
  DEFAULT_INBOX_LAYOUT,
  dropLoadedPartitions,
  fencedByShards,
  InboxLeaseLostError,
  leaseShards,
  loadWaitingMessages,
  queueForDestinations,
  queueTouched,
  releaseShards,
  touchedContacts,
  type InboxLayout,
  type QueuedContact,
  type ShardLease,
} from '../../core/realtime/index.js';

/**
 * Default step sizes: a step's fixed costs (statements, the segment queries, a commit) are paid once for up to this
 * many messages and contacts; steps and flushes take turns, so a backlog drains at most this many per turn (1,000
 * could not catch up with 1,000 events/s on a loaded machine).
 */
export const STEP_MESSAGES = 2000;
export const STEP_CONTACTS = 2000;
/**
 * Most kept messages a step worker deletes per step once their partition is due to go (SQLite; PostgreSQL truncates
 * the partition): 19 ms at p50 on a 2-core machine (`npm run bench -- inbox`), and at four steps a second 8,000 rows/s,
 * four times a steady 2,000 events/s.
 */
export const DROP_ROWS = 2000;

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
  /** How the inbox is cut by time (partition length, retention). Default DEFAULT_INBOX_LAYOUT. */
  layout?: InboxLayout;
  /** How long a step worker's lease on its inbox shards lasts without renewal. Default 30 s. */
  leaseMs?: number;
  /** Most kept messages a step worker deletes per step from partitions due to go (SQLite). Default DROP_ROWS. */
  dropRows?: number;
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
export async function runStep(
  store: Queryable,
  input: StepInput,
  now: Date,
  shards?: readonly number[],
): Promise<StepReport> {
  const started = performance.now();
  return await store.transaction(async (tx) => {
    const most = input.maxContactsPerTick ?? STEP_CONTACTS;
    // With nothing left over in the touched queue, the contacts this load touches are recomputed straight away (those
    // past the step's share wait in the queue); otherwise the queue's oldest go first, as they always did.
    const direct = !(await anyTouched(tx));
    const load = await loadWaitingMessages(tx, {
      ...(shards === undefined ? {} : { shards }),
      limit: input.maxMessagesPerTick ?? STEP_MESSAGES,
      ...(input.identity ? { identity: input.identity } : {}),
      queue: !direct,
    });
    const loadMs = Math.round(performance.now() - started);
    let touched: QueuedContact[];
    if (direct) {
      const oldestFirst = load.contacts.sort((a, b) =>
        a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.contactId - b.contactId,
      );
      touched = oldestFirst.slice(0, most);
      await queueTouched(tx, oldestFirst.slice(most));
    } else touched = await touchedContacts(tx, most);
    if (touched.length > 0) {
      const ids = touched.map((c) => c.contactId);
      // Marks this load made are cleared once recomputed: the next scheduled compute need not redo these contacts.
      const marks = await computeMarksOf(
        tx,
        ids.filter((id) => load.unmarked.has(id)),
      );
      await recomputeContacts(tx, ids, { ...input.features, now });
      if (input.segments.length > 0)
        await evaluateSegments(tx, input.segments, { ...input.evaluate, now, contacts: ids });
      await queueForDestinations(tx, touched, input.destinations, { fromTouched: !direct });
      await clearComputeMarks(tx, marks, now);
    }
    return {
      messages: load.messages,
      contacts: touched.length,
      loadMs,
      totalMs: Math.round(performance.now() - started),
    };
  });
}

/** A step worker on a store several may share: steps over the inbox shards it leases, and drops loaded partitions. */
export interface ShardedSteps {
  /** Renews (or takes) the lease when due, then runs a step over the leased shards, fenced by the lease. */
  step(now: Date): Promise<StepReport>;
  /** Gives the shards back, for another worker to take at once. */
  release(): Promise<void>;
}

/**
 * Steps as `holder` (one per step worker): the lease on its share of the inbox shards is renewed every sixth of its
 * length (and re-taken at once after a step found it lost), each step commits only while the lease is still its own,
 * and every half partition (at most a minute) the partitions whose messages are all loaded and past the retention are
 * dropped. Lease times are the wall clock's, whatever clock features are measured from.
 *
 * @example
 * const steps = shardedSteps(store, input, `step:${process.pid}`);
 * await steps.step(new Date());
 */
export function shardedSteps(store: Queryable, input: StepInput, holder: string): ShardedSteps {
  const ttlMs = input.leaseMs ?? 30_000;
  const layout = input.layout ?? DEFAULT_INBOX_LAYOUT;
  let lease: ShardLease | undefined;
  let renewAt = 0;
  let dropAt = 0;
  return {
    async step(now) {
      if (lease === undefined || Date.now() >= renewAt) {
        lease = await leaseShards(store, holder, ttlMs);
        renewAt = Date.now() + ttlMs / 6;
      }
      let report: StepReport;
      try {
        report = await runStep(
          fencedByShards(store, lease),
          input,
          now,
          lease.shards.map((s) => s.shard),
        );
      } catch (error) {
        if (error instanceof InboxLeaseLostError) renewAt = 0;
        throw error;
      }
      if (Date.now() >= dropAt) {
        dropAt = Date.now() + Math.min(60_000, layout.partitionMs / 2);
        const { more } = await dropLoadedPartitions(store, layout, new Date(), {
          maxRows: input.dropRows ?? DROP_ROWS,
        });
        // A part left half deleted goes on at the next step: a few thousand rows per step hold the write lock.
        if (more) dropAt = 0;
      }
      return report;
    },
    release: () => releaseShards(store, holder),
  };
}
