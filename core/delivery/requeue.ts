import type { Queryable } from '../store/store.js';

/**
 * Puts the rows a run's push rejected back in line: each `rejected` membership row that run recorded (its run errors
 * name the destination, the segment and `contact:<id>`) becomes `retryable` with no attempt counted, so the next push
 * plans it again. Rows that changed since (delivered, removed, retried already) are left alone. Returns how many were
 * requeued.
 *
 * @example
 * const requeued = await requeueRejectedRows(store, 42); // then run the job again
 */
export async function requeueRejectedRows(store: Queryable, runId: number): Promise<number> {
  return await store.transaction(async (tx) => {
    const rows = (await tx.all(
      `SELECT DISTINCT connection, stream, record_key FROM run_errors
        WHERE run_id = ? AND connection IS NOT NULL AND stream IS NOT NULL AND record_key LIKE 'contact:%'`,
      [runId],
    )) as { connection: string; stream: string; record_key: string }[];
    let requeued = 0;
    for (const r of rows) {
      const contactId = Number(r.record_key.slice('contact:'.length));
      if (!Number.isSafeInteger(contactId)) continue;
      requeued += (
        await tx.run(
          `UPDATE delivered_state SET status = 'retryable', attempts = 0
            WHERE destination = ? AND segment_key = ? AND contact_id = ? AND status = 'rejected'`,
          [r.connection, r.stream, contactId],
        )
      ).changes;
    }
    return requeued;
  });
}

/** How one contact's membership of one segment stands with one destination. */
export interface ContactDelivery {
  destination: string;
  segmentKey: string;
  status: string;
  deliveredAt: string | null;
  attempts: number;
  lastError: string | null;
  destinationRecordId: string | null;
}

/** Every destination × segment row of delivered state of a contact (its delivery history per tool). */
export async function deliveriesOfContact(store: Queryable, contactId: number): Promise<ContactDelivery[]> {
  const rows = (await store.all(
    `SELECT destination, segment_key, status, delivered_at, attempts, last_error, destination_record_id
       FROM delivered_state WHERE contact_id = ? ORDER BY destination, segment_key`,
    [contactId],
  )) as {
    destination: string;
    segment_key: string;
    status: string;
    delivered_at: string | null;
    attempts: number;
    last_error: string | null;
    destination_record_id: string | null;
  }[];
  return rows.map((r) => ({
    destination: r.destination,
    segmentKey: r.segment_key,
    status: r.status,
    deliveredAt: r.delivered_at,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    destinationRecordId: r.destination_record_id,
  }));
}
