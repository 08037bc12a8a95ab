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
];
