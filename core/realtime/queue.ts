import { computeState } from '../features/incremental.js';
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

/** Whether any contact waits in the touched queue (left over by an earlier step, or queued by a plain load). */
export async function anyTouched(store: Queryable): Promise<boolean> {
  return (await store.get('SELECT 1 FROM realtime_touched LIMIT 1')) !== undefined;
}

/**
 * Adds contacts to the touched queue (a contact already there keeps its earliest receipt time); answers how many were
 * new there.
 */
export async function queueTouched(store: Queryable, contacts: readonly QueuedContact[]): Promise<number> {
  if (contacts.length === 0) return 0;
  const d = store.dialect;
  return (
    await store.run(
      `INSERT INTO realtime_touched (contact_id, received_at)
         SELECT ${d.jsonElement('j.value', 0, 'integer')}, ${d.jsonElement('j.value', 1, 'text')}
           FROM ${d.jsonValues('?', 'json')} AS j WHERE true
         ON CONFLICT (contact_id) DO NOTHING`,
      [JSON.stringify(contacts.map((c) => [c.contactId, c.receivedAt]))],
    )
  ).changes;
}

/**
 * Moves recomputed contacts from the touched queue to each destination's pending queue (inside the caller's
 * transaction, which also holds the recompute, so a crash redoes both). A contact already waiting keeps its earliest
 * receipt time and counts one more requeue, so a flush that read it before this recompute does not clear it.
 * `fromTouched: false`: the contacts were never in the touched queue (a step recomputing what its own load touched).
 *
 * @example
 * store.transaction(() => { recomputeContacts(store, ids); evaluateSegments(...); queueForDestinations(store, contacts, ['segment']); });
 */
export async function queueForDestinations(
  store: Queryable,
  contacts: readonly QueuedContact[],
  destinations: readonly string[],
  options: { fromTouched?: boolean } = {},
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
    if (options.fromTouched !== false)
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

/** Compute marks (`compute_dirty`) read before a recompute: contact id → marks. */
export type ComputeMarks = Map<number, number>;

/** The compute marks the given contacts hold now, to clear once they are recomputed (`clearComputeMarks`). */
export async function computeMarksOf(store: Queryable, contactIds: readonly number[]): Promise<ComputeMarks> {
  const marks: ComputeMarks = new Map();
  if (contactIds.length === 0) return marks;
  const rows = (await store.all(
    `SELECT contact_id, marks FROM compute_dirty WHERE contact_id IN (SELECT value FROM ${store.dialect.jsonValues('?', 'integer')} AS j)`,
    [JSON.stringify(contactIds)],
  )) as { contact_id: number; marks: number }[];
  for (const r of rows) marks.set(Number(r.contact_id), Number(r.marks));
  return marks;
}

/**
 * Clears the compute marks a real-time step read before recomputing those contacts at `now`, in the step's
 * transaction, so the next scheduled compute does not recompute them again: a mark moved on since it was read (a newer
 * write) stays, and nothing is cleared when the last compute's "as of" is later than `now` (its window-edge scan
 * would start after the step's clock). Give only marks made inside the caller's transaction (`InboxLoad.unmarked`):
 * a compute that already read a mark deletes it by its count when it commits, and a mark deleted under it and made
 * again by a later write could have that same count.
 *
 * @example
 * const marks = await computeMarksOf(tx, ids.filter((id) => load.unmarked.has(id)));
 * await recomputeContacts(tx, ids, { now });
 * await clearComputeMarks(tx, marks, now);
 */
export async function clearComputeMarks(store: Queryable, marks: ComputeMarks, now: Date): Promise<number> {
  if (marks.size === 0) return 0;
  const last = await computeState(store);
  if (last !== undefined && last.asOf > now.toISOString()) return 0;
  const byCount = new Map<number, number[]>();
  for (const [id, count] of marks) {
    const ids = byCount.get(count);
    if (ids) ids.push(id);
    else byCount.set(count, [id]);
  }
  let cleared = 0;
  for (const [count, ids] of byCount)
    cleared += (
      await store.run(
        `DELETE FROM compute_dirty WHERE marks = ? AND contact_id IN (SELECT value FROM ${store.dialect.jsonValues('?', 'integer')} AS j)`,
        [count, JSON.stringify(ids)],
      )
    ).changes;
  return cleared;
}
