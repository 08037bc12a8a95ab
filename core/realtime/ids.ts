import { identityKey } from '../identity/key.js';
import type { IdentityOptions } from '../identity/options.js';
import { loadPage } from '../runs/load.js';
import type { Queryable } from '../store/store.js';
import type { ContactRecord } from '../../plugins/model/index.js';

/** What joining the write keys' ids did. */
export interface JoinedIds {
  /** Identities moved from a write key's name to the shared source. */
  moved: number;
  /** Identities that another key had already sent under the same id: kept, linked, their contacts merged. */
  linked: number;
  /** Events moved to the shared source. */
  events: number;
}

interface Row {
  id: number;
  source: string;
  external_id: string;
}

/**
 * Joins what a store split by write key: until ids were workspace-wide, each key recorded its messages under its own
 * name, so one userId sent by two keys was two contacts. Every identity and event of those keys moves to `source`
 * (and so do the messages still waiting in the inbox);
 * an id that already exists there keeps its identity under `<key>:<id>`, linked to the shared one, and the resolver
 * merges their contacts (recorded in contact_merges like any other merge). Idempotent, and safe to interrupt: run at
 * every start, it finishes what a crash left.
 *
 * @example
 * await joinWriteKeyIds(store, ['website', 'server'], 'tracking');
 */
export async function joinWriteKeyIds(
  store: Queryable,
  writeKeys: readonly string[],
  source: string,
  identity?: IdentityOptions,
): Promise<JoinedIds> {
  const keys = writeKeys.filter((k) => k !== source);
  const out: JoinedIds = { moved: 0, linked: 0, events: 0 };
  if (keys.length === 0) return out;
  const list = store.dialect.jsonValues('?', 'text');
  await store.transaction(async (tx) => {
    const rows = (await tx.all(
      `SELECT id, source, external_id FROM identities
         WHERE source IN (SELECT value FROM ${list} AS k) AND external_id IS NOT NULL ORDER BY id`,
      [JSON.stringify(keys)],
    )) as Row[];
    for (const row of rows) {
      const taken = await tx.get('SELECT 1 AS x FROM identities WHERE source = ? AND external_id = ?', [
        source,
        row.external_id,
      ]);
      const externalId = taken ? `${row.source}:${row.external_id}` : row.external_id;
      await tx.run('UPDATE identities SET source = ?, external_id = ?, identity_key = ? WHERE id = ?', [
        source,
        externalId,
        identityKey(source, externalId, null),
        row.id,
      ]);
      if (taken) out.linked += 1;
      else out.moved += 1;
    }
    out.events = (
      await tx.run(
        `UPDATE events SET source = ?, identity_key = (SELECT i.identity_key FROM identities i WHERE i.id = events.identity_id)
           WHERE source IN (SELECT value FROM ${list} AS k)
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.source = ? AND e.source_event_id = events.source_event_id)`,
        [source, JSON.stringify(keys), source],
      )
    ).changes;
    // Messages accepted before the switch and not loaded yet carry the key's name: they load under the shared source.
    const waiting = (await tx.all(
      // (By the waiting messages' index: the key's index on connection would walk every message kept.)
      `SELECT id, records FROM realtime_inbox WHERE loaded_at IS NULL AND kind = 'segment'
         AND ${tx.dialect.unindexed('connection')} IN (SELECT value FROM ${list} AS k)`,
      [JSON.stringify(keys)],
    )) as { id: number; records: string }[];
    for (const row of waiting) {
      const records = JSON.parse(row.records) as { source: string }[];
      if (records.every((r) => r.source === source)) continue;
      const moved = records.map((r) => (keys.includes(r.source) ? { ...r, source } : r));
      await tx.run('UPDATE realtime_inbox SET records = ? WHERE id = ?', [JSON.stringify(moved), row.id]);
    }
    for (const key of keys)
      await tx.run('INSERT INTO connection_sources (connection, source) VALUES (?, ?) ON CONFLICT DO NOTHING', [
        key,
        source,
      ]);
  });
  // The kept identities of ids two keys shared whose contacts are not one yet: link the shared identity to them, and
  // the resolver merges the two contacts.
  for (const key of keys) {
    const prefix = `${key}:`;
    const pairs = (await store.all(
      `SELECT s.external_id AS shared, s.traits, s.raw, s.linked_ids, k.external_id AS kept FROM identities k
         JOIN identities s ON s.source = k.source AND s.external_id = substr(k.external_id, ?)
         WHERE k.source = ? AND substr(k.external_id, 1, ?) = ? AND s.deleted = 0
           AND (k.contact_id IS NULL OR s.contact_id IS NULL OR k.contact_id <> s.contact_id)`,
      [prefix.length + 1, source, prefix.length, prefix],
    )) as { shared: string; traits: string; raw: string; linked_ids: string; kept: string }[];
    if (pairs.length === 0) continue;
    const records = pairs.map((p): ContactRecord => ({
      kind: 'contact',
      source,
      externalId: p.shared,
      traits: JSON.parse(p.traits) as ContactRecord['traits'],
      raw: JSON.parse(p.raw) as Record<string, unknown>,
      linkedIds: [...(JSON.parse(p.linked_ids) as string[]), p.kept],
    }));
    await loadPage(store, {
      connection: key,
      stream: 'joined-ids',
      records,
      checkpoint: null,
      ...(identity ? { identity } : {}),
    });
  }
  return out;
}
