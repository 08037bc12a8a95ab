import type { Dialect } from '../store/dialect.js';
import type { Migration } from '../store/migration.js';
import { DEFAULT_INBOX_LAYOUT, ID_SLOTS, INBOX_PARTS, INBOX_SHARDS, rebuildInboxIds } from './partitions.js';

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
  {
    // Several processes accept and step on one store: the inbox is cut by time (parts, dropped whole) and by person
    // (shards, leased by step workers). See partitions.ts.
    name: '20261206T090000_realtime_inbox_partitions',
    up: (d) => (d.supportsPartitioning ? partitionedInboxPostgres(d) : partitionedInboxSqlite(d)),
  },
  {
    // PostgreSQL: the messageId check read one index per time partition (32) for every message; a small table of
    // message ids in a ring of ID_SLOTS retention-long slots answers it from two. SQLite's inbox has a unique key
    // over (connection, message_id) and keeps it.
    name: '20261206T160000_realtime_inbox_ids',
    up: (d) => (d.supportsPartitioning ? inboxIdsPostgres(d) : ''),
    afterCopy: (store) => rebuildInboxIds(store),
  },
];

/**
 * PostgreSQL: realtime_inbox_ids, LIST-partitioned by `slot` (the receipt time's retention-long window, modulo
 * ID_SLOTS), each slot truncated whole; the ids already in the inbox go to the slot of the migration's day (the
 * default retention), so they stay duplicates for at least another retention. The inbox's own message index goes.
 * Made inside a DO block, so that it is not a table of the store to a reader of the migrations: `segflow store copy`
 * does not copy this engine-only index but rebuilds it from the copied inbox (`afterCopy`), and the store digest leaves
 * it out, as it does the inbox.
 */
function inboxIdsPostgres(d: Dialect): string {
  return `
    DO $$ BEGIN
      EXECUTE 'CREATE TABLE ' || quote_ident('realtime_inbox_ids') || ' (
          slot ${d.types.integer} NOT NULL,
          connection ${d.types.text} NOT NULL,
          message_id ${d.types.text} NOT NULL,
          PRIMARY KEY (slot, connection, message_id)
        ) PARTITION BY LIST (slot)';
      FOR s IN 0..${ID_SLOTS - 1} LOOP
        EXECUTE 'CREATE TABLE ' || quote_ident('realtime_inbox_ids_s' || s)
          || ' PARTITION OF realtime_inbox_ids FOR VALUES IN (' || s || ')';
      END LOOP;
    END $$;
    INSERT INTO realtime_inbox_ids (slot, connection, message_id)
      SELECT (FLOOR(EXTRACT(EPOCH FROM now()) * 1000 / ${DEFAULT_INBOX_LAYOUT.retentionMs})::bigint % ${ID_SLOTS})::integer,
             connection, message_id
        FROM realtime_inbox
      ON CONFLICT DO NOTHING;
    DROP INDEX realtime_inbox_message;
  `;
}

const leases = (d: Dialect): string => `
  CREATE TABLE realtime_inbox_leases (
    shard ${d.types.integer} PRIMARY KEY,
    holder ${d.types.text},
    host ${d.types.text},
    pid ${d.types.integer},
    process_started ${d.types.text},
    fence ${d.types.integer} NOT NULL,
    heartbeat_at ${d.types.timestamp},
    expires_at ${d.types.timestamp}
  );
  CREATE TABLE realtime_step_workers (
    holder ${d.types.text} PRIMARY KEY,
    host ${d.types.text},
    pid ${d.types.integer},
    process_started ${d.types.text},
    expires_at ${d.types.timestamp} NOT NULL
  );
`;

/**
 * SQLite: one table with `part` and `shard` columns (a part is dropped by one delete of its rows; SQLite has no
 * vacuum to stall). Rows already there are in part 0; their shard is their id's remainder (any spread will do).
 */
function partitionedInboxSqlite(d: Dialect): string {
  return `
    ALTER TABLE realtime_inbox ADD COLUMN part ${d.types.integer} NOT NULL DEFAULT 0;
    ALTER TABLE realtime_inbox ADD COLUMN shard ${d.types.integer} NOT NULL DEFAULT 0;
    UPDATE realtime_inbox SET shard = id % ${INBOX_SHARDS};
    DROP INDEX realtime_inbox_waiting;
    CREATE INDEX realtime_inbox_waiting ON realtime_inbox (shard, id) WHERE loaded_at IS NULL;
    CREATE INDEX realtime_inbox_part ON realtime_inbox (part, received_at);
    ${leases(d)}
  `;
}

/**
 * PostgreSQL: the inbox becomes a table partitioned by LIST (part), its INBOX_PARTS partitions created here (nothing
 * is created while accepting), each truncated whole once its messages are loaded and past the retention. A unique key
 * must hold the partition key, so (part, connection, message_id) is unique and the insert checks the other parts.
 */
function partitionedInboxPostgres(d: Dialect): string {
  // Made in a loop so that the partitions are not tables of their own to a reader of the migrations (`segflow store
  // copy` copies realtime_inbox through its parent).
  const parts = `DO $$ BEGIN
      FOR p IN 0..${INBOX_PARTS - 1} LOOP
        EXECUTE 'CREATE TABLE ' || quote_ident('realtime_inbox_p' || lpad(p::text, 2, '0'))
          || ' PARTITION OF realtime_inbox FOR VALUES IN (' || p || ')';
      END LOOP;
    END $$;`;
  return `
    ALTER TABLE realtime_inbox RENAME TO realtime_inbox_unpartitioned;
    DROP INDEX realtime_inbox_waiting;
    CREATE TABLE realtime_inbox (
      id BIGINT GENERATED BY DEFAULT AS IDENTITY,
      part ${d.types.integer} NOT NULL,
      shard ${d.types.integer} NOT NULL,
      connection ${d.types.text} NOT NULL,
      message_id ${d.types.text} NOT NULL,
      kind ${d.types.text} NOT NULL,
      records ${d.types.json} NOT NULL,
      received_at ${d.types.timestamp} NOT NULL,
      loaded_at ${d.types.timestamp},
      UNIQUE (part, connection, message_id)
    ) PARTITION BY LIST (part);
    ${parts}
    CREATE INDEX realtime_inbox_message ON realtime_inbox (connection, message_id);
    CREATE INDEX realtime_inbox_waiting ON realtime_inbox (shard, id) WHERE loaded_at IS NULL;
    CREATE INDEX realtime_inbox_id ON realtime_inbox (id);
    CREATE INDEX realtime_inbox_part ON realtime_inbox (part, received_at);
    INSERT INTO realtime_inbox (id, part, shard, connection, message_id, kind, records, received_at, loaded_at)
      SELECT id, 0, id % ${INBOX_SHARDS}, connection, message_id, kind, records, received_at, loaded_at
        FROM realtime_inbox_unpartitioned;
    SELECT setval(pg_get_serial_sequence('realtime_inbox', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM realtime_inbox), false);
    DROP TABLE realtime_inbox_unpartitioned;
    ${leases(d)}
  `;
}
