import { fencedBy, isDeadHere, thisProcess, type LeaseProcess } from '../runs/locks.js';
import type { SourceRecord } from '../../plugins/model/index.js';
import type { Queryable } from '../store/store.js';

/**
 * The inbox is partitioned two ways. By time, for dropping: a message goes to partition `part` = its receipt time's
 * window (`partitionMs` long) modulo INBOX_PARTS, a ring (on PostgreSQL each part is a declarative LIST partition
 * created by the migration, so no DDL runs while accepting; on SQLite a column); a part whose messages are all loaded
 * and older than the retention is dropped whole — TRUNCATE of its partition on PostgreSQL, one `DELETE … WHERE part =`
 * on SQLite — never a row-by-row cleanup. And by person, for leasing: `shard` = a hash of the connection and the
 * person's id, so one person's messages stay in arrival order in one shard; a step worker loads only the shards it
 * leases (INBOX_SHARDS rows in realtime_inbox_leases, claimed like job tasks: heartbeats, takeover of a dead or silent
 * holder, a fencing token checked before each step commits).
 */

/** Parts in the time ring (each a PostgreSQL partition). */
export const INBOX_PARTS = 32;
/** Lease units of the inbox. */
export const INBOX_SHARDS = 8;

/** How the inbox is cut by time. */
export interface InboxLayout {
  /** The length of one time partition. Default one hour. */
  partitionMs: number;
  /** How long a fully loaded partition is kept (a resent messageId is a duplicate for this long). Default 24 hours. */
  retentionMs: number;
}

export const DEFAULT_INBOX_LAYOUT: InboxLayout = { partitionMs: 3_600_000, retentionMs: 86_400_000 };

/** Slots in the ring of message ids (PostgreSQL): a message id is looked for in two, the third is being emptied. */
export const ID_SLOTS = 3;

/** The slot of realtime_inbox_ids a message id received at `at` goes to: its retention-long window, in the ring. */
export function idSlotOf(at: Date, retentionMs = DEFAULT_INBOX_LAYOUT.retentionMs): number {
  return Math.floor(at.getTime() / retentionMs) % ID_SLOTS;
}

/**
 * The slots a message id received at `at` is looked for in: its own window's and the one before, which hold every id
 * received within the retention (and some up to twice as long).
 */
export function idSlotsAt(at: Date, retentionMs = DEFAULT_INBOX_LAYOUT.retentionMs): [number, number] {
  const slot = idSlotOf(at, retentionMs);
  return [slot, (slot + ID_SLOTS - 1) % ID_SLOTS];
}

/** The time partition a message received at `at` goes to. */
export function partOf(at: Date, partitionMs = DEFAULT_INBOX_LAYOUT.partitionMs): number {
  return Math.floor(at.getTime() / partitionMs) % INBOX_PARTS;
}

/** The shard of a message: FNV-1a of the connection and the id of the person its first record is about. */
export function shardOf(connection: string, messageId: string, records: readonly SourceRecord[]): number {
  const first = records[0];
  const person =
    first === undefined
      ? messageId
      : first.kind === 'contact'
        ? first.externalId
        : (first.contact.externalId ?? first.contact.email ?? messageId);
  let hash = 0x811c9dc5;
  const text = `${connection}\u0000${person}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % INBOX_SHARDS;
}

/** The shards a step worker holds, with the fencing token of each claim. */
export interface ShardLease {
  holder: string;
  shards: { shard: number; fence: number }[];
}

/** A step worker's lease on inbox shards was taken over: its step was rolled back. */
export class InboxLeaseLostError extends Error {
  constructor(shards: readonly number[]) {
    super(`inbox shard(s) ${shards.join(', ')} were taken over by another step worker: this step was rolled back`);
    this.name = 'InboxLeaseLostError';
  }
}

interface LeaseRow {
  shard: number;
  holder: string | null;
  host: string | null;
  pid: number | null;
  process_started: string | null;
  fence: number;
  expires_at: string | null;
}

/**
 * Renews what `holder` holds and claims its share of the rest: free shards, shards whose lease expired and shards
 * whose holder is a dead process on this host, up to an even share among the step workers alive (each renews its
 * presence in realtime_step_workers here, shards or not) (so a second worker gets
 * half, and one left alone takes them all as the other's leases lapse). A holder above its share gives the excess
 * back. On PostgreSQL the pick is `FOR UPDATE SKIP LOCKED`, as job tasks are claimed.
 *
 * @example
 * const lease = await leaseShards(store, `step:${process.pid}`, 30_000);
 * await runStep(fencedByShards(store, lease), input, new Date(), lease.shards.map((s) => s.shard));
 */
export async function leaseShards(
  store: Queryable,
  holder: string,
  ttlMs: number,
  now = new Date(),
  owner: LeaseProcess = thisProcess(),
): Promise<ShardLease> {
  const at = now.toISOString();
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  return await store.transaction(async (tx) => {
    // The shards' rows are made by the first lease (a fresh store holds no rows, so `segflow store copy` takes it).
    await tx.run(
      `INSERT INTO realtime_inbox_leases (shard, fence)
         SELECT value, 0 FROM ${tx.dialect.jsonValues('?', 'integer')} AS j WHERE true ON CONFLICT DO NOTHING`,
      [JSON.stringify(Array.from({ length: INBOX_SHARDS }, (_, shard) => shard))],
    );
    const rows = (await tx.all(
      `SELECT shard, holder, host, pid, process_started, fence, expires_at FROM realtime_inbox_leases ORDER BY shard`,
    )) as LeaseRow[];
    const live = (r: LeaseRow): boolean =>
      r.holder !== null &&
      r.expires_at !== null &&
      r.expires_at > at &&
      !(r.host !== null && r.pid !== null && isDeadHere({ host: r.host, pid: r.pid, started: r.process_started }));
    // Every step worker says it is there, shards or not, so the others leave it its share.
    await tx.run(
      `INSERT INTO realtime_step_workers (holder, host, pid, process_started, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (holder) DO UPDATE SET expires_at = excluded.expires_at`,
      [holder, owner.host, owner.pid, owner.started, expires],
    );
    const workers = (await tx.all(
      'SELECT holder, host, pid, process_started, expires_at FROM realtime_step_workers',
    )) as Omit<LeaseRow, 'shard' | 'fence'>[];
    const present = workers.filter((w) => live({ ...w, shard: 0, fence: 0 }));
    for (const w of workers.filter((x) => !present.includes(x)))
      await tx.run('DELETE FROM realtime_step_workers WHERE holder = ? AND expires_at = ?', [w.holder, w.expires_at]);
    const share = Math.ceil(INBOX_SHARDS / Math.max(1, present.length));
    const mine = rows.filter((r) => r.holder === holder && live(r));
    const keep = mine.slice(0, share);
    for (const r of mine.slice(share))
      await tx.run(`UPDATE realtime_inbox_leases SET holder = NULL, expires_at = NULL WHERE shard = ? AND fence = ?`, [
        r.shard,
        r.fence,
      ]);
    if (keep.length > 0)
      await tx.run(
        `UPDATE realtime_inbox_leases SET heartbeat_at = ?, expires_at = ?
          WHERE holder = ? AND shard IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j)`,
        [at, expires, holder, JSON.stringify(keep.map((r) => r.shard))],
      );
    const shards = keep.map((r) => ({ shard: r.shard, fence: r.fence }));
    const free = rows.filter((r) => !live(r)).map((r) => r.shard);
    const wanted = share - keep.length;
    if (wanted > 0 && free.length > 0) {
      const claimed = (await tx.all(
        `UPDATE realtime_inbox_leases
            SET holder = ?, host = ?, pid = ?, process_started = ?, fence = fence + 1, heartbeat_at = ?, expires_at = ?
          WHERE shard IN (
            SELECT shard FROM realtime_inbox_leases
             WHERE shard IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j)
             ORDER BY shard LIMIT ? ${tx.dialect.rowLock('skip')})
          RETURNING shard, fence`,
        [holder, owner.host, owner.pid, owner.started, at, expires, JSON.stringify(free), wanted],
      )) as { shard: number; fence: number }[];
      shards.push(...claimed);
    }
    shards.sort((a, b) => a.shard - b.shard);
    return { holder, shards };
  });
}

/** Gives a holder's shards back (a step worker that stops), so another takes them at once. */
export async function releaseShards(store: Queryable, holder: string): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.run(`UPDATE realtime_inbox_leases SET holder = NULL, expires_at = NULL WHERE holder = ?`, [holder]);
    await tx.run('DELETE FROM realtime_step_workers WHERE holder = ?', [holder]);
  });
}

/**
 * `store` fenced by a shard lease: each transaction begun through it checks, just before it commits, that every shard
 * is still the holder's under the same fencing token (on PostgreSQL locking their rows until commit), and rolls back
 * with InboxLeaseLostError otherwise — so a step worker paused past its lease cannot commit what another re-loads.
 */
export function fencedByShards(store: Queryable, lease: ShardLease): Queryable {
  return fencedBy(store, async (tx) => {
    if (lease.shards.length === 0) return;
    const held = (await tx.all(
      `SELECT shard, fence FROM realtime_inbox_leases
        WHERE holder = ? AND shard IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j)
        ORDER BY shard ${tx.dialect.rowLock('wait')}`,
      [lease.holder, JSON.stringify(lease.shards.map((s) => s.shard))],
    )) as { shard: number; fence: number }[];
    const fences = new Map(held.map((r) => [r.shard, r.fence]));
    const lost = lease.shards.filter((s) => fences.get(s.shard) !== s.fence).map((s) => s.shard);
    if (lost.length > 0) throw new InboxLeaseLostError(lost);
  });
}

/** What one call of {@link dropLoadedPartitions} dropped. */
export interface DroppedPartitions {
  /** The parts emptied. */
  dropped: number[];
  /** A part due to go still holds rows (`maxRows` was reached): call again. */
  more: boolean;
}

/**
 * Drops every time partition whose messages are all loaded and were all received more than `retentionMs` before
 * `now`, except the current window's part and its neighbours (another process's clock may be a little off): on
 * PostgreSQL `TRUNCATE` of the partition; on SQLite a delete of the part's rows, at most `maxRows` of them per call
 * (a part holds an hour of messages, millions at a steady 2,000 a second, and one delete of them all would hold the
 * write lock for many seconds), the rest left for the next call.
 *
 * @example
 * const { more } = await dropLoadedPartitions(store, DEFAULT_INBOX_LAYOUT, new Date(), { maxRows: 2000 });
 */
export async function dropLoadedPartitions(
  store: Queryable,
  layout: InboxLayout = DEFAULT_INBOX_LAYOUT,
  now = new Date(),
  options: { maxRows?: number } = {},
): Promise<DroppedPartitions> {
  const current = partOf(now, layout.partitionMs);
  const near = new Set([current, (current + 1) % INBOX_PARTS, (current + INBOX_PARTS - 1) % INBOX_PARTS]);
  const before = new Date(now.getTime() - layout.retentionMs).toISOString();
  return await store.transaction(async (tx) => {
    // `+part`: without statistics (segflow never runs ANALYZE) SQLite would read every kept message along the part
    // index to skip a sort, instead of the few waiting ones through their partial index.
    const waiting = new Set(
      (
        (await tx.all('SELECT DISTINCT +part AS part FROM realtime_inbox WHERE loaded_at IS NULL')) as {
          part: number;
        }[]
      ).map((r) => Number(r.part)),
    );
    const out: DroppedPartitions = { dropped: [], more: false };
    let budget = options.maxRows ?? Number.MAX_SAFE_INTEGER;
    for (let part = 0; part < INBOX_PARTS && !out.more; part++) {
      if (near.has(part) || waiting.has(part)) continue;
      const { newest } = (await tx.get('SELECT MAX(received_at) AS newest FROM realtime_inbox WHERE part = ?', [
        part,
      ])) as { newest: string | null };
      if (newest === null || newest >= before) continue;
      if (tx.dialect.supportsPartitioning) {
        await tx.exec(`TRUNCATE ${inboxPartition(part)}`);
        out.dropped.push(part);
        continue;
      }
      const { changes } = await tx.run(
        'DELETE FROM realtime_inbox WHERE id IN (SELECT id FROM realtime_inbox WHERE part = ? LIMIT ?)',
        [part, budget],
      );
      if (changes < budget) out.dropped.push(part);
      else out.more = true;
      budget -= changes;
    }
    if (tx.dialect.supportsPartitioning) await emptyStaleIdSlot(tx, layout, now);
    return out;
  });
}

/**
 * PostgreSQL: empties the id slot the next window will use (it holds ids received two windows ago, past the
 * retention), unless the next window is near: another process's clock a little ahead may already write there.
 */
async function emptyStaleIdSlot(tx: Queryable, layout: InboxLayout, now: Date): Promise<void> {
  const next = (Math.floor(now.getTime() / layout.retentionMs) + 1) * layout.retentionMs;
  if (next - now.getTime() < Math.min(60_000, layout.retentionMs / 4)) return;
  const stale = idsPartition((idSlotOf(now, layout.retentionMs) + 1) % ID_SLOTS);
  if ((await tx.get(`SELECT 1 AS held FROM ${stale} LIMIT 1`)) !== undefined) await tx.exec(`TRUNCATE ${stale}`);
}

/**
 * PostgreSQL: fills realtime_inbox_ids from the inbox as if its messages had been accepted here — each id received in
 * the current or the previous retention-long window goes to that window's slot, older ones (past the retention) to
 * none — after emptying it of ids the inbox no longer holds. What `segflow store copy` runs on a PostgreSQL target, so
 * that a message resent after the copy is still a duplicate. Nothing to do on SQLite, whose inbox is unique over
 * (connection, message_id).
 *
 * @example
 * await store.transaction((tx) => rebuildInboxIds(tx));
 */
export async function rebuildInboxIds(
  store: Queryable,
  now = new Date(),
  layout: InboxLayout = DEFAULT_INBOX_LAYOUT,
): Promise<void> {
  if (!store.dialect.supportsPartitioning) return;
  await store.exec('TRUNCATE realtime_inbox_ids');
  const window = Math.floor(now.getTime() / layout.retentionMs) * layout.retentionMs;
  const [slot, previous] = idSlotsAt(now, layout.retentionMs);
  const into = `INSERT INTO realtime_inbox_ids (slot, connection, message_id)
    SELECT CAST(? AS INTEGER), connection, message_id FROM realtime_inbox WHERE received_at >= ?`;
  await store.run(`${into} ON CONFLICT DO NOTHING`, [slot, new Date(window).toISOString()]);
  await store.run(`${into} AND received_at < ? ON CONFLICT DO NOTHING`, [
    previous,
    new Date(window - layout.retentionMs).toISOString(),
    new Date(window).toISOString(),
  ]);
}

/** The PostgreSQL table of one slot of message ids. */
export function idsPartition(slot: number): string {
  return `realtime_inbox_ids_s${slot}`;
}

/** The PostgreSQL table of one time partition. */
export function inboxPartition(part: number): string {
  return `realtime_inbox_p${String(part).padStart(2, '0')}`;
}
