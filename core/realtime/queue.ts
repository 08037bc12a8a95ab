import type { Store } from '../store/store.js';

/** A contact waiting in a queue, with when the earliest message behind it was received. */
export interface QueuedContact {
  contactId: number;
  receivedAt: string;
}

/** Up to `limit` contacts touched by loaded messages and not yet recomputed, oldest first. */
export function touchedContacts(store: Store, limit = 2000): QueuedContact[] {
  return (
    store.statement('SELECT contact_id, received_at FROM realtime_touched ORDER BY received_at, contact_id LIMIT ?').all(limit) as {
      contact_id: number;
      received_at: string;
    }[]
  ).map((r) => ({ contactId: r.contact_id, receivedAt: r.received_at }));
}

/**
 * Moves recomputed contacts from the touched queue to each destination's pending queue (inside the caller's
 * transaction, which also holds the recompute, so a crash redoes both).
 *
 * @example
 * store.transaction(() => { recomputeContacts(store, ids); evaluateSegments(...); queueForDestinations(store, contacts, ['segment']); });
 */
export function queueForDestinations(store: Store, contacts: readonly QueuedContact[], destinations: readonly string[]): void {
  store.transaction(() => {
    const json = JSON.stringify(contacts.map((c) => [c.contactId, c.receivedAt]));
    for (const destination of destinations) {
      store
        .statement(
          `INSERT INTO realtime_pending (destination, contact_id, received_at)
           SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?) WHERE true
           ON CONFLICT (destination, contact_id) DO NOTHING`,
        )
        .run(destination, json);
    }
    store
      .statement("DELETE FROM realtime_touched WHERE contact_id IN (SELECT json_extract(value, '$[0]') FROM json_each(?))")
      .run(json);
  });
}

/** How many contacts wait for `destination`, and when the oldest of them was received (null when none). */
export function pendingSummary(store: Store, destination: string): { contacts: number; oldest: string | null } {
  const row = store
    .statement('SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM realtime_pending WHERE destination = ?')
    .get(destination) as { n: number; oldest: string | null };
  return { contacts: row.n, oldest: row.oldest };
}

/** Up to `limit` contacts waiting for `destination`, oldest first. */
export function pendingContacts(store: Store, destination: string, limit: number): QueuedContact[] {
  return (
    store
      .statement('SELECT contact_id, received_at FROM realtime_pending WHERE destination = ? ORDER BY received_at, contact_id LIMIT ?')
      .all(destination, limit) as { contact_id: number; received_at: string }[]
  ).map((r) => ({ contactId: r.contact_id, receivedAt: r.received_at }));
}

/** Drops contacts from `destination`'s pending queue once their changes went through the planner. */
export function clearPending(store: Store, destination: string, contactIds: readonly number[]): void {
  store
    .statement('DELETE FROM realtime_pending WHERE destination = ? AND contact_id IN (SELECT value FROM json_each(?))')
    .run(destination, JSON.stringify(contactIds));
}
