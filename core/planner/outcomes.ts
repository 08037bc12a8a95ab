import type { Store } from '../store/store.js';
import { recordDelivery } from '../delivery/delivered-state.js';
import { recordRunErrors, type RunError } from '../runs/runs.js';

/** What a destination answered for one row. */
export interface PushRowOutcome {
  contactId: number;
  op: 'add' | 'remove';
  status: 'accepted' | 'rejected' | 'retryable' | 'skipped';
  destinationRecordId?: string;
  reason?: string;
  code?: string;
  /** For a skipped row: the planned change's `identityDigest`, so the planner offers it again when they change. */
  identityDigest?: string;
}

/**
 * Records one batch's outcomes in delivered state in ONE transaction: accepted adds become `delivered` (keeping the
 * destination's record id for a later remove), accepted removes `removed`, rejected rows `rejected` with their
 * reason (and a run error), retryable rows `retryable`, skipped rows (the tool does not hold the person) `skipped`
 * with their reason and identity digest (no run error: nothing went wrong). Attempts count the tries of the current
 * change: they start at 1 after a final outcome and count up while the row stays retryable.
 *
 * @example
 * recordPushOutcomes(store, { destination: 'crm', segmentKey: 'vip', runId, outcomes: [{ contactId: 7, op: 'add', status: 'accepted', destinationRecordId: '00v1' }] });
 */
export function recordPushOutcomes(
  store: Store,
  input: {
    destination: string;
    segmentKey: string;
    outcomes: readonly PushRowOutcome[];
    runId?: number;
    beforeCommit?: () => void;
  },
  now = new Date().toISOString(),
): void {
  const errors: RunError[] = [];
  store.transaction(() => {
    for (const o of input.outcomes) {
      const status =
        o.status === 'accepted'
          ? o.op === 'add'
            ? 'delivered'
            : 'removed'
          : o.status;
      const reason =
        o.status === 'accepted'
          ? null
          : `${o.op} ${o.status}: ${o.reason ?? 'no reason given'}${o.code ? ` (${o.code})` : ''}`;
      recordDelivery(
        store,
        {
          destination: input.destination,
          segmentKey: input.segmentKey,
          contactId: o.contactId,
          status,
          destinationRecordId: o.destinationRecordId ?? null,
          error: reason,
          ...(o.identityDigest === undefined ? {} : { identityDigest: o.identityDigest }),
        },
        now,
      );
      if (o.status === 'rejected' && reason !== null) {
        errors.push({
          connection: input.destination,
          stream: input.segmentKey,
          recordKey: `contact:${o.contactId}`,
          reason,
        });
      }
    }
    if (input.runId !== undefined) recordRunErrors(store, input.runId, errors, now);
    input.beforeCommit?.();
  });
}
