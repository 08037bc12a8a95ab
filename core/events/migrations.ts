import type { Migration } from '../store/migration.js';

/** Engagement events, deduplicated by (source, source_event_id). Owned by core/events. */
export const eventMigrations: Migration[] = [
  {
    name: '20261123T150100_events',
    up: (d) => `
      CREATE TABLE events (
        id ${d.types.id},
        source ${d.types.text} NOT NULL,
        source_event_id ${d.types.text} NOT NULL,
        contact_id ${d.types.reference} NOT NULL REFERENCES contacts (id),
        identity_id ${d.types.reference} NOT NULL REFERENCES identities (id),
        type ${d.types.text} NOT NULL,
        occurred_at ${d.types.timestamp} NOT NULL,
        value ${d.types.real},
        properties ${d.types.json} NOT NULL DEFAULT '{}',
        loaded_at ${d.types.timestamp} NOT NULL,
        UNIQUE (source, source_event_id)
      );
      CREATE INDEX events_contact ON events (contact_id, occurred_at);
      CREATE INDEX events_identity ON events (identity_id);
    `,
  },
  {
    // Every event is inserted by the load path for the contact and identity it has just resolved or created, in the
    // same transaction, and write transactions queue one at a time on both engines (PostgreSQL's writer lock), so an
    // erasure or merge never runs between the resolution and the insert. The keys' checks only cost: on PostgreSQL a
    // per-row trigger that locks the referenced contact and identity rows, about 40% of an event insert. SQLite keeps
    // them (cheap B-tree probes, and dropping one would rebuild the table). A distributed store could not keep the
    // contact key anyway: events and contacts are distributed by different keys (docs/SCALING.md).
    name: '20261206T090100_events_unchecked_references',
    up: (d) => `
      ${d.dropForeignKey('events', 'contact_id')}
      ${d.dropForeignKey('events', 'identity_id')}
    `,
  },
  {
    // Each event carries the key of the identity it was recorded for (docs/SCALING.md), so a partitioned or
    // distributed store keeps it beside that identity and a merge moves neither.
    name: '20261206T100100_events_identity_key',
    up: (d) => `
      ALTER TABLE events ADD COLUMN identity_key ${d.types.text};
      UPDATE events SET identity_key = (SELECT i.identity_key FROM identities i WHERE i.id = events.identity_id);
    `,
  },
  {
    // On SQLite a contact's events are found through `contact_events` (the same rows in contact order, kept by
    // triggers), so `events_contact` only cost every insert a page: about a fifth of the pages a real-time event
    // writes. Without it SQLite's contact key would scan every event for each contact deleted, so SQLite drops its keys
    // as PostgreSQL did (the table is copied once). PostgreSQL keeps the index, whose entries cost it little.
    name: '20261207T040000_events_without_contact_index',
    up: (d) => (d.eventsIndexedByContact ? '' : 'DROP INDEX IF EXISTS events_contact;'),
    run: async (store) => {
      await store.dialect.dropForeignKeys?.(store, 'events');
    },
  },
  {
    // Likewise `events_identity`: identity resolution finds the events of an identity that changes contact among its
    // old contact's in `contact_events`, so on SQLite the index only cost every insert another page of the log.
    name: '20261207T090000_events_without_identity_index',
    up: (d) => (d.eventsIndexedByContact ? '' : 'DROP INDEX IF EXISTS events_identity;'),
  },
];
