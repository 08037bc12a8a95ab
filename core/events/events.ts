import { EVENT_TYPES, type EventRecord } from '../../plugins/model/index.js';
import { powerOfTwoChunks } from '../identity/rows.js';
import type { SqlValue } from '../store/dialect.js';
import type { Queryable } from '../store/store.js';

const TYPES = new Set<string>(EVENT_TYPES);

/** Why an event cannot be loaded, or undefined when it can. */
export function eventProblem(e: EventRecord): string | undefined {
  if (typeof e.source !== 'string' || e.source === '') return 'event has no source';
  if (typeof e.sourceEventId !== 'string' || e.sourceEventId === '') return 'event has no source event id';
  if (!TYPES.has(e.type)) return `unknown event type "${String(e.type)}"`;
  if (!Number.isFinite(Date.parse(e.occurredAt))) return `occurredAt "${String(e.occurredAt)}" is not a timestamp`;
  if (e.value !== undefined && e.value !== null && !Number.isFinite(e.value)) return 'value is not a finite number';
  return undefined;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isoTimestamp(value: string): string {
  return ISO_UTC.test(value) ? value : new Date(Date.parse(value)).toISOString();
}

function eventParams(
  e: EventRecord,
  contactId: number,
  identityId: number,
  identityKey: string | null,
  now: string,
): SqlValue[] {
  return [
    e.source,
    e.sourceEventId,
    contactId,
    identityId,
    identityKey,
    e.type,
    isoTimestamp(e.occurredAt),
    e.value ?? null,
    e.properties === undefined ? '{}' : JSON.stringify(e.properties),
    now,
  ];
}

const INSERT_EVENTS =
  'INSERT INTO events (source, source_event_id, contact_id, identity_id, identity_key, type, occurred_at, value, properties, loaded_at)';
const EVENT_COLUMN_TYPES = [
  'text',
  'text',
  'integer',
  'integer',
  'text',
  'text',
  'text',
  'real',
  'text',
  'text',
] as const;
// No conflict target: the dedup key is (source, source_event_id), and on a partitioned store it also holds the
// identity key (docs/SCALING.md); events have no other unique key a load could hit.
const ON_CONFLICT = 'ON CONFLICT DO NOTHING';

/** An event to insert, with the contact and identity it was resolved to. */
export interface PlacedEvent {
  record: EventRecord;
  contactId: number;
  identityId: number;
  /** The identity's key (core/identity/key.ts): where a partitioned store keeps the event. */
  identityKey: string | null;
}

/**
 * Inserts a page's events with a few multi-row statements (not one per event); an event already stored, or repeated
 * earlier in the list, is left alone (the first one in the list is the one kept). Returns how many were new.
 *
 * @example
 * const inserted = await insertEvents(tx, [{ record, contactId: 7, identityId: 9, identityKey: 'crm:9' }], new Date().toISOString());
 */
export async function insertEvents(store: Queryable, events: readonly PlacedEvent[], now: string): Promise<number> {
  let inserted = 0;
  for (const chunk of powerOfTwoChunks(events, EVENT_COLUMN_TYPES.length)) {
    const rows = store.dialect.insertRows(
      EVENT_COLUMN_TYPES,
      chunk.map((e) => eventParams(e.record, e.contactId, e.identityId, e.identityKey, now)),
    );
    const r = await store.run(`${INSERT_EVENTS} ${rows.sql} ${ON_CONFLICT}`, rows.params);
    inserted += r.changes;
  }
  return inserted;
}

/**
 * Inserts one event for a resolved contact; a second load of the same (source, source event id) changes nothing.
 * Returns whether it was new. `occurredAt` is stored as ISO-8601 UTC so that time windows compare as text.
 */
export async function insertEvent(
  store: Queryable,
  e: EventRecord,
  contactId: number,
  identityId: number,
  now: string,
  identityKey: string | null = null,
): Promise<boolean> {
  const r = await store.run(
    `${INSERT_EVENTS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${ON_CONFLICT}`,
    eventParams(e, contactId, identityId, identityKey, now),
  );
  return r.changes > 0;
}
