import type { Queryable } from '../store/store.js';
import { recomputeContacts, type FeatureOptions } from './compute.js';
import { crossingBands, releaseMarks } from './incremental.js';

/**
 * A compute split across workers (issue #26): each slice of contacts (a range of contact ids) has its features
 * recomputed by its own task, side by side, and one segments task then refreshes what needs the whole base (day
 * counts, RFM breakpoints) and evaluates memberships. A slice moves the dirty marks it took to `compute_pending` in
 * its own commit, so a slice that dies leaves its marks for the slice's next attempt, and the segments task finds
 * every contact whose memberships are still to evaluate, even a deleted one (which has no features row to show it).
 */

/** The contacts of one slice: ids above `after` (when set) and up to `upTo` (when set). */
export interface ContactRange {
  after?: number;
  upTo?: number;
}

/**
 * Bounds cutting ids into `count` slices of about equal size: slice i holds the ids above bound i-1 and up to bound
 * i, the first has no lower bound and the last no upper one (contacts created later fall into it). `ids` sorted
 * ascending.
 *
 * @example
 * boundsOf([1, 2, 3, 4, 5, 6], 3); // [2, 4]
 */
export function boundsOf(ids: readonly number[], count: number): number[] {
  const bounds: number[] = [];
  for (let i = 1; i < count; i++) {
    const at = ids[Math.ceil((i * ids.length) / count) - 1];
    if (at !== undefined && (bounds.length === 0 || at > (bounds[bounds.length - 1] as number))) bounds.push(at);
  }
  return bounds;
}

/**
 * Bounds cutting every contact id of the store into `count` slices of about equal size (see {@link boundsOf}): one
 * NTILE over the ids, not the ids themselves.
 *
 * @example
 * const bounds = await contactBounds(store, 2);
 */
export async function contactBounds(store: Queryable, count: number): Promise<number[]> {
  if (count <= 1) return [];
  const rows = (await store.all(
    'SELECT MAX(id) AS bound FROM (SELECT id, NTILE(?) OVER (ORDER BY id) AS tile FROM contacts) AS t GROUP BY tile ORDER BY tile',
    [count],
  )) as { bound: number }[];
  return rows
    .slice(0, -1)
    .map((r) => Number(r.bound))
    .filter((b, i, all) => i === 0 || b > (all[i - 1] as number));
}

/**
 * The range of slice `index` (0-based) of the slices `bounds` make.
 *
 * @example
 * rangeOf([2, 4], 1); // { after: 2, upTo: 4 }
 */
export function rangeOf(bounds: readonly number[], index: number): ContactRange {
  return {
    ...(index > 0 && bounds[index - 1] !== undefined ? { after: bounds[index - 1] as number } : {}),
    ...(index < bounds.length ? { upTo: bounds[index] as number } : {}),
  };
}

function within(column: string, range: ContactRange): { sql: string; params: number[] } {
  const parts: string[] = [];
  const params: number[] = [];
  if (range.after !== undefined) {
    parts.push(`${column} > ?`);
    params.push(range.after);
  }
  if (range.upTo !== undefined) {
    parts.push(`${column} <= ?`);
    params.push(range.upTo);
  }
  return { sql: parts.length === 0 ? 'TRUE' : parts.join(' AND '), params };
}

/** What one slice's features task did. */
export interface SliceRun {
  /** Contacts whose features were written (the live ones among those recomputed). */
  contacts: number;
  /** Dirty contacts it took, and contacts with an event that crossed a window edge. */
  dirty: number;
  crossed: number;
}

/** Options of {@link computeSlice}. */
export interface SliceOptions extends FeatureOptions {
  now: Date;
  range: ContactRange;
  /** Every contact of the range (a full compute), else the dirty ones and those with an event crossing a window edge. */
  full: boolean;
  /** The last completed compute's "as of": window edges crossed since are recomputed. Required unless `full`. */
  asOf?: string | undefined;
  /** Windows (ms) beyond the built-in ones whose edges count (rules' and expression features' windows). */
  windows?: readonly number[];
  /** Called inside the transaction after the features are written, before the commit (tests stop there). */
  beforeCommit?: () => void | Promise<void>;
}

/**
 * Recomputes the features of one slice of contacts, in one transaction: its dirty contacts and those with an event
 * that crossed a window edge since `asOf` (or every contact of the range, `full`), placed against the stored RFM
 * breakpoints (the segments task finds new ones over the whole base); the dirty marks it took are deleted and the
 * contacts added to `compute_pending` in the same commit. Slices of different ranges write different rows: on an
 * engine with row locks (PostgreSQL) the transaction does not take the store's writer lock, so slices run side by
 * side.
 *
 * @example
 * await computeSlice(store, { now, range: { upTo: 5000 }, full: false, asOf: '2026-03-01T00:00:00.000Z' });
 */
export async function computeSlice(store: Queryable, options: SliceOptions): Promise<SliceRun> {
  const { range, full, asOf, windows, beforeCommit, ...featureOptions } = options;
  return await store.transaction(
    async (tx) => {
      const byId = within('contact_id', range);
      const taken = new Map<number, number>();
      for (const r of (await tx.all(`SELECT contact_id, marks FROM compute_dirty WHERE ${byId.sql}`, byId.params)) as {
        contact_id: number;
        marks: number;
      }[])
        taken.set(Number(r.contact_id), Number(r.marks));
      const ids = new Set(taken.keys());
      if (full) {
        const contacts = within('id', range);
        for (const r of (await tx.all(
          `SELECT id FROM contacts WHERE ${contacts.sql} UNION SELECT contact_id AS id FROM contact_features WHERE ${byId.sql}`,
          [...contacts.params, ...byId.params],
        )) as { id: number }[])
          ids.add(Number(r.id));
      } else {
        if (asOf === undefined) throw new Error('an incremental slice needs the last compute\'s "as of" time');
        for (const [low, high] of crossingBands(asOf, options.now, windows))
          for (const r of (await tx.all(
            `SELECT DISTINCT contact_id FROM contact_events WHERE occurred_at >= ? AND occurred_at <= ? AND ${byId.sql}`,
            [low, high, ...byId.params],
          )) as { contact_id: number }[])
            ids.add(Number(r.contact_id));
      }
      // The marks first, then the features: a real-time step marks contacts (its loads' triggers) before it recomputes
      // their features, and taking row locks in the same order keeps the two from deadlocking.
      await releaseMarks(tx, taken);
      if (taken.size > 0)
        await tx.run(
          `INSERT INTO compute_pending (contact_id) SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j WHERE TRUE ON CONFLICT (contact_id) DO NOTHING`,
          [JSON.stringify([...taken.keys()])],
        );
      const sorted = [...ids].sort((a, b) => a - b);
      // Without the writer lock a merge or an erasure may delete one of these contacts meanwhile, and contact_features
      // has no foreign key on PostgreSQL to stop a row being written for it: the slice holds its contacts as such a key
      // would, so a deletion waits for this commit and its cascade then removes the rows written here.
      const lock = tx.dialect.rowLock('key');
      if (lock !== '' && sorted.length > 0)
        await tx.get(
          `SELECT COUNT(*) AS n FROM (SELECT id FROM contacts WHERE id IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j) ${lock}) AS held`,
          [JSON.stringify(sorted)],
        );
      const run = sorted.length > 0 ? await recomputeContacts(tx, sorted, featureOptions) : undefined;
      await beforeCommit?.();
      return { contacts: run?.contacts ?? 0, dirty: taken.size, crossed: sorted.length - taken.size };
    },
    // SQLite has one writer (and a deferred transaction that reads first could not take the lock later).
    { deferred: !store.dialect.singleFile },
  );
}

/**
 * The contacts whose features a slice recomputed for a dirty mark and whose memberships are not evaluated yet.
 *
 * @example
 * const pending = await pendingContacts(store);
 */
export async function pendingContacts(store: Queryable): Promise<number[]> {
  return (
    (await store.all('SELECT contact_id FROM compute_pending ORDER BY contact_id')) as { contact_id: number }[]
  ).map((r) => Number(r.contact_id));
}

/**
 * Deletes the pending contacts whose memberships were evaluated, in the transaction that commits them.
 *
 * @example
 * await clearPending(tx, pending);
 */
export async function clearPending(tx: Queryable, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.run(
    `DELETE FROM compute_pending WHERE contact_id IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j)`,
    [JSON.stringify(ids)],
  );
}
