import type { Store } from '../store/store.js';

/**
 * The outcome of the last delivery of one contact's membership of one segment to one destination. `skipped`: the
 * tool does not hold the person (and was not asked to create them); `identityDigest` says who they were then.
 */
export type DeliveryStatus = 'delivered' | 'removed' | 'rejected' | 'retryable' | 'skipped';

/** One row of delivered state. */
export interface DeliveredState {
  destination: string;
  segmentKey: string;
  contactId: number;
  destinationRecordId: string | null;
  deliveredAt: string | null;
  status: DeliveryStatus;
  attempts: number;
  /** The error, or for a skipped row the reason it was skipped. */
  lastError: string | null;
  /** For a skipped row, a digest of the identities it was offered with (the planner offers it again when they change). */
  identityDigest: string | null;
}

/**
 * Records the outcome of delivering one contact's membership to a destination. `attempts` counts the tries of one
 * change: it counts up while the row stays retryable and starts again at 1 after a final outcome. `identityDigest`
 * is kept for a skipped row only.
 *
 * @example
 * recordDelivery(store, { destination: 'salesforce', segmentKey: 'vip', contactId: 7, status: 'delivered',
 *   destinationRecordId: '00v000000000001' });
 * recordDelivery(store, { destination: 'salesforce', segmentKey: 'vip', contactId: 8, status: 'skipped',
 *   error: 'not in Salesforce', identityDigest: 'a3f1…' });
 */
export function recordDelivery(
  store: Store,
  row: {
    destination: string;
    segmentKey: string;
    contactId: number;
    status: DeliveryStatus;
    destinationRecordId?: string | null;
    error?: string | null;
    identityDigest?: string | null;
  },
  now = new Date().toISOString(),
): void {
  const delivered = row.status === 'delivered' || row.status === 'removed';
  store
    .statement(
      `INSERT INTO delivered_state (destination, segment_key, contact_id, destination_record_id, delivered_at, status, attempts, last_error, identity_digest)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT (destination, segment_key, contact_id) DO UPDATE SET
         destination_record_id = COALESCE(excluded.destination_record_id, delivered_state.destination_record_id),
         delivered_at = COALESCE(excluded.delivered_at, delivered_state.delivered_at),
         status = excluded.status,
         attempts = CASE WHEN delivered_state.status = 'retryable' THEN delivered_state.attempts + 1 ELSE 1 END,
         last_error = excluded.last_error,
         identity_digest = excluded.identity_digest`,
    )
    .run(
      row.destination,
      row.segmentKey,
      row.contactId,
      row.destinationRecordId ?? null,
      delivered ? now : null,
      row.status,
      row.error ?? null,
      row.status === 'skipped' ? (row.identityDigest ?? null) : null,
    );
}

/** Delivered state of one destination and segment, by contact id. */
export function readDeliveredState(store: Store, destination: string, segmentKey: string): DeliveredState[] {
  const rows = store
    .statement('SELECT * FROM delivered_state WHERE destination = ? AND segment_key = ? ORDER BY contact_id')
    .all(destination, segmentKey) as {
    destination: string;
    segment_key: string;
    contact_id: number;
    destination_record_id: string | null;
    delivered_at: string | null;
    status: DeliveryStatus;
    attempts: number;
    last_error: string | null;
    identity_digest: string | null;
  }[];
  return rows.map((r) => ({
    destination: r.destination,
    segmentKey: r.segment_key,
    contactId: r.contact_id,
    destinationRecordId: r.destination_record_id,
    deliveredAt: r.delivered_at,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    identityDigest: r.identity_digest,
  }));
}
