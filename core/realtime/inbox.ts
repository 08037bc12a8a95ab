import type { SourceRecord } from '../../plugins/model/index.js';
import { powerOfTwoChunks, valueRows } from '../identity/rows.js';
import { loadPage, type LoadCounts } from '../runs/load.js';
import type { IdentityOptions } from '../identity/options.js';
import type { Queryable } from '../store/store.js';
import { DEFAULT_INBOX_LAYOUT, idSlotsAt, partOf, shardOf, type InboxLayout } from './partitions.js';
import { queueTouched, type QueuedContact } from './queue.js';

/** How a message arrived: over the Segment-spec API (identify traits accumulate) or through a tool's webhook. */
export type InboxKind = 'segment' | 'webhook';

/** One accepted message: its id (deduplicated per connection) and the canonical records it maps to. */
export interface InboxMessage {
  messageId: string;
  records: SourceRecord[];
}

/** A message as the inbox stores it: its records as JSON text and its shard (plain text, cheap to post to a thread). */
export interface StoredMessage {
  messageId: string;
  records: string;
  shard: number;
}

/** Messages of `connection` as the inbox stores them. */
export function storedMessages(connection: string, messages: readonly InboxMessage[]): StoredMessage[] {
  return messages.map((m) => ({
    messageId: m.messageId,
    records: JSON.stringify(m.records),
    shard: shardOf(connection, m.messageId, m.records),
  }));
}

/**
 * Stores accepted messages durably in one transaction; a message id already stored for the connection is a
 * duplicate and changes nothing. Returns, per message, whether it was new.
 *
 * @example
 * const [isNew] = acceptMessages(store, 'website', 'segment', [{ messageId: 'm-1', records }]);
 */
export async function acceptMessages(
  store: Queryable,
  connection: string,
  kind: InboxKind,
  messages: readonly InboxMessage[],
  now = new Date(),
  layout: InboxLayout = DEFAULT_INBOX_LAYOUT,
): Promise<boolean[]> {
  return await acceptStored(store, connection, kind, storedMessages(connection, messages), now, layout);
}

/**
 * `acceptMessages` for messages already in their stored form (`storedMessages`): what the step worker commits, the
 * thread that answered the request having serialised them.
 */
export async function acceptStored(
  store: Queryable,
  connection: string,
  kind: InboxKind,
  messages: readonly StoredMessage[],
  now = new Date(),
  layout: InboxLayout = DEFAULT_INBOX_LAYOUT,
): Promise<boolean[]> {
  const at = now.toISOString();
  const part = partOf(now, layout.partitionMs);
  const insert = `INSERT INTO realtime_inbox (connection, message_id, kind, records, received_at, part, shard)`;
  if (!store.dialect.supportsPartitioning) {
    // SQLite's inbox is unique over (connection, message_id): a few multi-row inserts, which answer the ids they
    // inserted; the others were there already.
    return await store.transaction(async (tx) => {
      const inserted = new Set<string>();
      for (const chunk of powerOfTwoChunks(messages, 7)) {
        const rows = (await tx.all(
          `${insert} VALUES ${valueRows(chunk.length, 7)} ON CONFLICT DO NOTHING RETURNING message_id`,
          chunk.flatMap((m) => [connection, m.messageId, kind, m.records, at, part, m.shard]),
        )) as { message_id: string }[];
        for (const row of rows) inserted.add(row.message_id);
      }
      // A message id twice in one request: its first is new, the second a duplicate.
      return messages.map((m) => inserted.delete(m.messageId));
    });
  }
  // PostgreSQL's partitioned inbox can only be unique per time partition, so a message id is first recorded in
  // realtime_inbox_ids, looked for in the two slots that hold the retention (one statement; writers take turns on both
  // engines, so nothing slips in between the check and the insert).
  const [slot, previous] = idSlotsAt(now, layout.retentionMs);
  const sql = `WITH fresh AS (
      INSERT INTO realtime_inbox_ids (slot, connection, message_id)
        SELECT ${slot}, ?, ? WHERE NOT EXISTS (
          SELECT 1 FROM realtime_inbox_ids WHERE slot IN (${slot}, ${previous}) AND connection = ? AND message_id = ?)
        ON CONFLICT DO NOTHING RETURNING 1)
    ${insert} SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM fresh) ON CONFLICT DO NOTHING`;
  return await store.transaction(async (tx) => {
    const accepted: boolean[] = [];
    for (const m of messages) {
      const row = [connection, m.messageId, kind, m.records, at, part, m.shard];
      const params = [connection, m.messageId, connection, m.messageId, ...row];
      accepted.push((await tx.run(sql, params)).changes > 0);
    }
    return accepted;
  });
}

/** Messages accepted and not yet loaded. */
export async function waitingMessages(store: Queryable): Promise<number> {
  return ((await store.get('SELECT COUNT(*) AS n FROM realtime_inbox WHERE loaded_at IS NULL')) as { n: number }).n;
}

interface InboxRow {
  id: number;
  connection: string;
  kind: InboxKind;
  records: string;
  received_at: string;
}

export interface InboxLoad extends LoadCounts {
  /** Messages loaded. */
  messages: number;
  /** Contacts the loaded records resolved to, now queued for recompute. */
  touched: number;
  /**
   * Contacts the messages named that had no compute mark (`compute_dirty`) before this load: any mark they hold now
   * was made inside the caller's transaction, so no compute can have read it (see `clearComputeMarks`).
   */
  unmarked: Set<number>;
  /**
   * With `queue: false`: the contacts the loaded records resolved to, each with its earliest receipt time, for the
   * caller to recompute in the same transaction (nothing was added to `realtime_touched`). Empty otherwise.
   */
  contacts: QueuedContact[];
}

/**
 * Loads up to `limit` waiting messages through the normal load path (identity resolution, idempotent events) in ONE
 * transaction with marking them loaded and queueing the contacts they touched, so a crash leaves them all waiting.
 * Identify traits accumulate as Segment's do: a `segment` message's contact traits are laid over the stored ones.
 *
 * @example
 * const load = loadWaitingMessages(store, { limit: 5000 });
 * load.touched; // contacts to recompute
 */
export async function loadWaitingMessages(
  store: Queryable,
  options: {
    limit?: number;
    identity?: IdentityOptions;
    now?: Date;
    /** Only the messages of these inbox shards (a step worker's lease). Default: every shard. */
    shards?: readonly number[];
    /**
     * `false`: the touched contacts are returned (`contacts`) instead of queued in `realtime_touched`, for a caller
     * that recomputes them all in this transaction. Default true.
     */
    queue?: boolean;
  } = {},
): Promise<InboxLoad> {
  const now = options.now ?? new Date();
  const counts: InboxLoad = {
    read: 0,
    inserted: 0,
    updated: 0,
    skipped: 0,
    merged: 0,
    messages: 0,
    touched: 0,
    unmarked: new Set(),
    contacts: [],
  };
  const queue = options.queue !== false;
  const touchedHere = new Map<number, string>();
  return await store.transaction(async (tx) => {
    const rows = (
      options.shards === undefined
        ? await tx.all(
            // `+id`: ordered by rowid, SQLite would walk every loaded message kept before the first waiting one.
            'SELECT id, connection, kind, records, received_at FROM realtime_inbox WHERE loaded_at IS NULL ORDER BY +id LIMIT ?',
            [options.limit ?? 5000],
          )
        : options.shards.length === 0
          ? []
          : await tx.all(
              `SELECT id, connection, kind, records, received_at FROM realtime_inbox
                WHERE loaded_at IS NULL AND shard IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS s)
                ORDER BY id LIMIT ?`,
              [JSON.stringify(options.shards), options.limit ?? 5000],
            )
    ) as InboxRow[];
    if (rows.length === 0) return counts;
    const byConnection = new Map<string, InboxRow[]>();
    for (const row of rows) {
      const list = byConnection.get(row.connection) ?? [];
      list.push(row);
      byConnection.set(row.connection, list);
    }
    for (const [connection, list] of byConnection) {
      const parsed = list.map((row) => JSON.parse(row.records) as SourceRecord[]);
      const known = await knownIdentities(tx, parsed.flat());
      for (const k of known.values()) if (k.contactId !== null && !k.marked) counts.unmarked.add(k.contactId);
      const records: SourceRecord[] = [];
      const receivedOf = new Map<SourceRecord, string>();
      const latest = new Map<string, Record<string, unknown>>();
      list.forEach((row, i) => {
        // Segment identifies and tool webhooks both carry only what changed: lay it over what the store holds.
        for (const r of withStoredTraits(parsed[i] as SourceRecord[], known, latest)) {
          records.push(r);
          receivedOf.set(r, row.received_at);
        }
      });
      const last = list[list.length - 1] as InboxRow;
      const result = await loadPage(tx, {
        connection,
        stream: 'realtime',
        records,
        checkpoint: { inbox: last.id },
        now,
        ...(options.identity ? { identity: options.identity } : {}),
      });
      counts.read += result.read;
      counts.inserted += result.inserted;
      counts.updated += result.updated;
      counts.skipped += result.skipped;
      counts.merged += result.merged;
      // Without merges or skipped records, a record's contact is the one its identity had before the load (for
      // every identity the store knew): only the others are looked up again.
      const settled = result.merged === 0 && result.skipped === 0 && result.errors.length === 0;
      const touched = await contactsOf(tx, records, receivedOf, settled ? known : undefined);
      if (!queue) {
        for (const [id, at] of touched) {
          const seen = touchedHere.get(id);
          if (seen === undefined || at < seen) touchedHere.set(id, at);
        }
      } else {
        counts.touched += await queueTouched(
          tx,
          [...touched].map(([contactId, receivedAt]) => ({ contactId, receivedAt })),
        );
      }
    }
    const ids = JSON.stringify(rows.map((r) => r.id));
    // Once loaded, only the message id is kept (for deduplication): the payload lives on in the store's own tables,
    // where an erasure finds it, and not in a copy here.
    await tx.run(
      `UPDATE realtime_inbox SET loaded_at = ?, records = '[]' WHERE id IN (SELECT value FROM ${tx.dialect.jsonValues('?', 'integer')} AS j)`,
      [now.toISOString(), ids],
    );
    counts.messages = rows.length;
    if (!queue) {
      counts.touched = touchedHere.size;
      counts.contacts = [...touchedHere].map(([contactId, receivedAt]) => ({ contactId, receivedAt }));
    }
    return counts;
  });
}

/**
 * The contacts the records now belong to (after resolution and merges), each with its earliest receipt time. With
 * `known` (the identities as they were before a load that merged nothing and skipped nothing), a record of a known
 * identity belongs to that identity's contact and is not looked up.
 */
async function contactsOf(
  store: Queryable,
  records: readonly SourceRecord[],
  receivedOf: Map<SourceRecord, string>,
  known?: ReadonlyMap<string, KnownIdentity>,
): Promise<Map<number, string>> {
  const byIdentity: [string, string, string][] = [];
  const byEvent: [string, string, string][] = [];
  const out = new Map<number, string>();
  const note = (contactId: number, at: string): void => {
    const seen = out.get(contactId);
    if (seen === undefined || at < seen) out.set(contactId, at);
  };
  for (const r of records) {
    const at = receivedOf.get(r) ?? '';
    const externalId = r.kind === 'contact' ? r.externalId : r.kind === 'event' ? r.contact?.externalId : undefined;
    const before =
      known && typeof externalId === 'string' && !(r.kind === 'contact' && r.deleted === true)
        ? known.get(knownKey(r.source, externalId))?.contactId
        : undefined;
    if (before !== undefined && before !== null) note(before, at);
    else if (r.kind === 'contact') byIdentity.push([r.source, r.externalId, at]);
    else byEvent.push([r.source, r.sourceEventId, at]);
  }
  const add = (rows: { contact_id: number | null; at: string }[]): void => {
    for (const row of rows) if (row.contact_id !== null) note(Number(row.contact_id), row.at);
  };
  const d = store.dialect;
  const keys = `${d.jsonValues('?', 'json')} AS k`;
  const key = (i: number): string => d.jsonElement('k.value', i, 'text');
  if (byIdentity.length > 0) {
    add(
      (await store.all(
        `SELECT i.contact_id, ${key(2)} AS at FROM ${keys}
           JOIN identities i ON i.source = ${key(0)} AND i.external_id = ${key(1)}`,
        [JSON.stringify(byIdentity)],
      )) as { contact_id: number | null; at: string }[],
    );
  }
  if (byEvent.length > 0) {
    add(
      (await store.all(
        `SELECT e.contact_id, ${key(2)} AS at FROM ${keys}
           JOIN events e ON e.source = ${key(0)} AND e.source_event_id = ${key(1)}`,
        [JSON.stringify(byEvent)],
      )) as { contact_id: number | null; at: string }[],
    );
  }
  return out;
}

/** What the store holds for one identity a page names: its traits, its contact and whether that contact is marked. */
interface KnownIdentity {
  traits: string;
  contactId: number | null;
  /** Whether the contact has a compute mark (`compute_dirty`). */
  marked: boolean;
}

const knownKey = (source: string, externalId: string): string => `${source}\u0000${externalId}`;

/**
 * The stored identities the records name (a contact record's own, an event's contact), read in one statement: their
 * traits (which identify messages lay their changes over) and their contacts with whether each holds a compute mark.
 */
async function knownIdentities(
  store: Queryable,
  records: readonly SourceRecord[],
): Promise<Map<string, KnownIdentity>> {
  const keys = new Map<string, [string, string]>();
  for (const r of records) {
    const externalId = r.kind === 'contact' ? r.externalId : r.kind === 'event' ? r.contact?.externalId : undefined;
    if (typeof externalId === 'string') keys.set(knownKey(r.source, externalId), [r.source, externalId]);
  }
  const known = new Map<string, KnownIdentity>();
  if (keys.size === 0) return known;
  const d = store.dialect;
  const key = (i: number): string => d.jsonElement('k.value', i, 'text');
  const rows = (await store.all(
    `SELECT i.source, i.external_id, i.traits, i.contact_id, CASE WHEN m.contact_id IS NULL THEN 0 ELSE 1 END AS marked
       FROM ${d.jsonValues('?', 'json')} AS k
       JOIN identities i ON i.source = ${key(0)} AND i.external_id = ${key(1)}
       LEFT JOIN compute_dirty m ON m.contact_id = i.contact_id`,
    [JSON.stringify([...keys.values()])],
  )) as { source: string; external_id: string; traits: string; contact_id: number | null; marked: number }[];
  for (const row of rows)
    known.set(knownKey(row.source, row.external_id), {
      traits: row.traits,
      contactId: row.contact_id === null ? null : Number(row.contact_id),
      marked: Number(row.marked) === 1,
    });
  return known;
}

/**
 * Lays each contact record's traits over what the store holds for that identity (and earlier records of the page). A
 * deleted record is left as it is: a deletion (a GDPR one above all) must not carry the person's data forward.
 */
function withStoredTraits(
  records: readonly SourceRecord[],
  known: ReadonlyMap<string, KnownIdentity>,
  latest: Map<string, Record<string, unknown>>,
): SourceRecord[] {
  const out: SourceRecord[] = [];
  for (const r of records) {
    if (r.kind !== 'contact' || r.deleted === true) {
      out.push(r);
      continue;
    }
    const key = knownKey(r.source, r.externalId);
    let base = latest.get(key);
    if (base === undefined) {
      const stored = known.get(key)?.traits;
      base = stored === undefined ? {} : (JSON.parse(stored) as Record<string, unknown>);
    }
    const traits = { ...base, ...r.traits };
    latest.set(key, traits);
    out.push({ ...r, traits: traits as typeof r.traits });
  }
  return out;
}
