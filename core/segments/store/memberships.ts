import type { Queryable } from '../../store/store.js';

/** A stored version of a segment's definition. */
export interface SegmentDefinitionRow {
  key: string;
  version: number;
  definition: unknown;
  createdAt: string;
}

/** A contact's current membership of a segment. */
export interface Membership {
  segmentKey: string;
  contactId: number;
  enteredAt: string;
}

/**
 * Saves a new version of a segment definition when it differs from the latest, and returns the current version.
 *
 * @example
 * const version = saveSegmentDefinition(store, 'vip', { rule: { trait: 'lifecycle_stage', eq: 'customer' } });
 */
export async function saveSegmentDefinition(
  store: Queryable,
  key: string,
  definition: unknown,
  now = new Date().toISOString(),
): Promise<number> {
  return await store.transaction(async (tx) => {
    const latest = await latestSegmentDefinition(tx, key);
    const json = JSON.stringify(definition);
    if (latest && JSON.stringify(latest.definition) === json) return latest.version;
    const version = (latest?.version ?? 0) + 1;
    await tx.run('INSERT INTO segment_definitions (key, version, definition, created_at) VALUES (?, ?, ?, ?)', [
      key,
      version,
      json,
      now,
    ]);
    return version;
  });
}

/** The latest version of a segment's definition. */
export async function latestSegmentDefinition(
  store: Queryable,
  key: string,
): Promise<SegmentDefinitionRow | undefined> {
  const row = (await store.get(
    'SELECT key, version, definition, created_at FROM segment_definitions WHERE key = ? ORDER BY version DESC LIMIT 1',
    [key],
  )) as { key: string; version: number; definition: string; created_at: string } | undefined;
  return row
    ? {
        key: row.key,
        version: row.version,
        definition: JSON.parse(row.definition) as unknown,
        createdAt: row.created_at,
      }
    : undefined;
}

/** Current members of a segment, by contact id. */
export async function readMemberships(store: Queryable, segmentKey: string): Promise<Membership[]> {
  const rows = (await store.all(
    'SELECT segment_key, contact_id, entered_at FROM memberships WHERE segment_key = ? ORDER BY contact_id',
    [segmentKey],
  )) as { segment_key: string; contact_id: number; entered_at: string }[];
  return rows.map((r) => ({ segmentKey: r.segment_key, contactId: r.contact_id, enteredAt: r.entered_at }));
}

/** Puts a contact in a segment (a no-op when already in), opening a history row. */
export async function enterSegment(
  store: Queryable,
  segmentKey: string,
  contactId: number,
  version: number,
  now = new Date().toISOString(),
): Promise<void> {
  await store.transaction(async (tx) => {
    const r = await tx.run(
      'INSERT INTO memberships (segment_key, contact_id, entered_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      [segmentKey, contactId, now],
    );
    if (r.changes === 0) return;
    await tx.run(
      'INSERT INTO membership_history (segment_key, contact_id, segment_version, entered_at) VALUES (?, ?, ?, ?)',
      [segmentKey, contactId, version, now],
    );
  });
}

/** Takes a contact out of a segment (a no-op when not in), closing its history row. */
export async function exitSegment(
  store: Queryable,
  segmentKey: string,
  contactId: number,
  now = new Date().toISOString(),
): Promise<void> {
  await store.transaction(async (tx) => {
    const r = await tx.run('DELETE FROM memberships WHERE segment_key = ? AND contact_id = ?', [segmentKey, contactId]);
    if (r.changes === 0) return;
    await tx.run(
      'UPDATE membership_history SET exited_at = ? WHERE segment_key = ? AND contact_id = ? AND exited_at IS NULL',
      [now, segmentKey, contactId],
    );
  });
}
