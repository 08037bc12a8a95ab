import type { Queryable } from '../store/store.js';

/** A contact waiting in a queue, with when the earliest message behind it was received. */
export interface QueuedContact {
  contactId: number;
  receivedAt: string;
}

/** A contact waiting for a destination: `requeued` counts the recomputes that queued it again while it waited. */
export interface PendingContact extends QueuedContact {
  requeued: number;
}

/** Up to `limit` contacts touched by loaded messages and not yet recomputed, oldest first. */
export async function touchedContacts(store: Queryable, limit = 2000): Promise<QueuedContact[]> {
  return (
    (await store.all('SELECT contact_id, received_at FROM realtime_touched ORDER BY received_at, contact_id LIMIT ?', [
      limit,
    ])) as {
      contact_id: number;
      received_at: string;
    }[]
  ).map((r) => ({ contactId: r.contact_id, receivedAt: r.received_at }));
}

/**
 * Moves recomputed contacts from the touched queue to each destination's pending queue (inside the caller's
 * transaction, which also holds the recompute, so a crash redoes both). A contact already waiting keeps its earliest
 * receipt time and counts one more requeue, so a flush that read it before this recompute does not clear it.
 *
 * @example
 * store.transaction(() => { recomputeContacts(store, ids); evaluateSegments(...); queueForDestinations(store, contacts, ['segment']); });
 */
export async function queueForDestinations(
  store: Queryable,
  contacts: readonly QueuedContact[],
  destinations: readonly string[],
): Promise<void> {
  await store.transaction(async (tx) => {
    const d = tx.dialect;
    const rows = `${d.jsonValues('?', 'json')} AS j`;
    const json = JSON.stringify(contacts.map((c) => [c.contactId, c.receivedAt]));
    for (const destination of destinations) {
      await tx.run(
        `INSERT INTO realtime_pending (destination, contact_id, received_at)
           SELECT ?, ${d.jsonElement('j.value', 0, 'integer')}, ${d.jsonElement('j.value', 1, 'text')} FROM ${rows} WHERE true
           ON CONFLICT (destination, contact_id) DO UPDATE SET requeued = realtime_pending.requeued + 1`,
        [destination, json],
      );
    }
    await tx.run(
      `DELETE FROM realtime_touched WHERE contact_id IN (SELECT ${d.jsonElement('j.value', 0, 'integer')} FROM ${rows})`,
      [json],
    );
  });
}

/** How many contacts wait for `destination`, and when the oldest of them was received (null when none). */
export async function pendingSummary(
  store: Queryable,
  destination: string,
): Promise<{ contacts: number; oldest: string | null }> {
  const row = (await store.get(
    'SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM realtime_pending WHERE destination = ?',
    [destination],
  )) as { n: number; oldest: string | null };
  return { contacts: row.n, oldest: row.oldest };
}

/** Up to `limit` contacts waiting for `destination`, oldest first. */
export async function pendingContacts(store: Queryable, destination: string, limit: number): Promise<PendingContact[]> {
  return (
    (await store.all(
      'SELECT contact_id, received_at, requeued FROM realtime_pending WHERE destination = ? ORDER BY received_at, contact_id LIMIT ?',
      [destination, limit],
    )) as { contact_id: number; received_at: string; requeued: number }[]
  ).map((r) => ({ contactId: r.contact_id, receivedAt: r.received_at, requeued: r.requeued }));
}

/**
 * Drops contacts from `destination`'s pending queue once their changes went through the planner; one queued again
 * since it was read (a newer recompute the planner may not have seen) stays, for the next flush.
 *
 * @example
 * const waiting = pendingContacts(store, 'cdp', 1000);
 * // ... push them
 * clearPending(store, 'cdp', waiting);
 */
export async function clearPending(
  store: Queryable,
  destination: string,
  contacts: readonly PendingContact[],
): Promise<void> {
  const d = store.dialect;
  const element = (i: number): string => d.jsonElement('j.value', i, 'integer');
  await store.run(
    `DELETE FROM realtime_pending WHERE destination = ?
         AND (contact_id, requeued) IN (SELECT ${element(0)}, ${element(1)} FROM ${d.jsonValues('?', 'json')} AS j)`,
    [destination, JSON.stringify(contacts.map((c) => [c.contactId, c.requeued]))],
  );
}
