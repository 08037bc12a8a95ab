import type { Queryable } from '../store/store.js';
import {
  recordDeliveries,
  recordTraitUpdates,
  type DeliveryOutcome,
  type TraitUpdateOutcome,
} from '../delivery/delivered-state.js';
import { recordRunErrors, type RunError } from '../runs/runs.js';

/** What a destination answered for one row. */
export interface PushRowOutcome {
  contactId: number;
  op: 'add' | 'remove' | 'update';
  status: 'accepted' | 'rejected' | 'retryable' | 'skipped';
  destinationRecordId?: string;
  reason?: string;
  code?: string;
  /** For a skipped row: the planned change's `identityDigest`, so the planner offers it again when they change. */
  identityDigest?: string;
  /** For an add or an update: the planned change's `mappedTraits`, kept as what was delivered. */
  mappedTraits?: string;
}

/**
 * Records one batch's outcomes in delivered state in ONE transaction: accepted adds become `delivered` (keeping the
 * destination's record id for a later remove), accepted removes `removed`, rejected rows `rejected` with their
 * reason (and a run error), retryable rows `retryable`, skipped rows (the tool does not hold the person) `skipped`
 * with their reason and identity digest (no run error: nothing went wrong). Attempts count the tries of the current
 * change: they start at 1 after a final outcome and count up while the row stays retryable. An update leaves the
 * membership delivered: accepted or rejected, its values are kept as settled (a rejected one with a run error);
 * retryable, it counts a try; skipped (the tool no longer holds the person), the row becomes skipped like an add.
 *
 * @example
 * recordPushOutcomes(store, { destination: 'crm', segmentKey: 'vip', runId, outcomes: [{ contactId: 7, op: 'add', status: 'accepted', destinationRecordId: '00v1' }] });
 */
export async function recordPushOutcomes(
  store: Queryable,
  input: {
    destination: string;
    segmentKey: string;
    outcomes: readonly PushRowOutcome[];
    runId?: number;
    beforeCommit?: () => void;
  },
  now = new Date().toISOString(),
): Promise<void> {
  const errors: RunError[] = [];
  await store.transaction(async (tx) => {
    // Deliveries are written together and trait updates together, each in one statement; a contact waiting in the
    // other list has that list written first, so one contact's outcomes are recorded in the order given.
    let deliveries: DeliveryOutcome[] = [];
    let updates: TraitUpdateOutcome[] = [];
    const delivering = new Set<number>();
    const updating = new Set<number>();
    const recordDeliveriesWaiting = async (): Promise<void> => {
      if (deliveries.length > 0) await recordDeliveries(tx, input.destination, input.segmentKey, deliveries, now);
      deliveries = [];
      delivering.clear();
    };
    const recordUpdatesWaiting = async (): Promise<void> => {
      if (updates.length > 0) await recordTraitUpdates(tx, input.destination, input.segmentKey, updates, now);
      updates = [];
      updating.clear();
    };
    for (const o of input.outcomes) {
      const reason =
        o.status === 'accepted'
          ? null
          : `${o.op} ${o.status}: ${o.reason ?? 'no reason given'}${o.code ? ` (${o.code})` : ''}`;
      // A rejected row, add, remove or update alike, is a run error too.
      if (o.status === 'rejected' && reason !== null)
        errors.push({
          connection: input.destination,
          stream: input.segmentKey,
          recordKey: `contact:${o.contactId}`,
          reason,
        });
      if (o.op === 'update' && o.status !== 'skipped') {
        if (delivering.has(o.contactId)) await recordDeliveriesWaiting();
        updating.add(o.contactId);
        updates.push({ contactId: o.contactId, status: o.status, mappedTraits: o.mappedTraits ?? null, error: reason });
        continue;
      }
      if (updating.has(o.contactId)) await recordUpdatesWaiting();
      delivering.add(o.contactId);
      deliveries.push({
        contactId: o.contactId,
        status: o.status === 'accepted' ? (o.op !== 'remove' ? 'delivered' : 'removed') : o.status,
        destinationRecordId: o.destinationRecordId ?? null,
        error: reason,
        ...(o.identityDigest === undefined ? {} : { identityDigest: o.identityDigest }),
        ...(o.mappedTraits === undefined ? {} : { mappedTraits: o.mappedTraits }),
      });
    }
    await recordDeliveriesWaiting();
    await recordUpdatesWaiting();
    if (input.runId !== undefined) await recordRunErrors(tx, input.runId, errors, now);
    input.beforeCommit?.();
  });
}
