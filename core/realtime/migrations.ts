import type { Migration } from '../store/migration.js';

/**
 * Real-time ingestion: the inbox of accepted messages (kept, so a message id is deduplicated for good), the contacts
 * touched since the last recompute, and the contacts whose membership changes wait for each destination's flush.
 * Owned by core/realtime. No foreign keys to contacts: a contact merged or erased meanwhile is simply skipped.
 */
export const realtimeMigrations: Migration[] = [
  {
    name: '20261126T120000_realtime',
    up: (d) => `
      CREATE TABLE realtime_inbox (
        id ${d.types.id},
        connection ${d.types.text} NOT NULL,
        message_id ${d.types.text} NOT NULL,
        kind ${d.types.text} NOT NULL,
        records ${d.types.json} NOT NULL,
        received_at ${d.types.timestamp} NOT NULL,
        loaded_at ${d.types.timestamp},
        UNIQUE (connection, message_id)
      );
      CREATE INDEX realtime_inbox_waiting ON realtime_inbox (loaded_at, id);

      CREATE TABLE realtime_touched (
        contact_id ${d.types.integer} PRIMARY KEY,
        received_at ${d.types.timestamp} NOT NULL
      );

      CREATE TABLE realtime_pending (
        destination ${d.types.text} NOT NULL,
        contact_id ${d.types.integer} NOT NULL,
        received_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (destination, contact_id)
      );
    `,
  },
  {
    // Steps and flushes run side by side: a contact queued again while its flush is out must stay queued.
    name: '20261205T090000_realtime_pending_requeued',
    up: (d) => `ALTER TABLE realtime_pending ADD COLUMN requeued ${d.types.integer} NOT NULL DEFAULT 0;`,
  },
];
