import type { Migration } from '../store/migration.js';

/** What was last delivered to each destination, per segment and contact. Owned by core/delivery. */
export const deliveryMigrations: Migration[] = [
  {
    name: '20261123T150400_delivery',
    up: (d) => `
      CREATE TABLE delivered_state (
        destination ${d.types.text} NOT NULL,
        segment_key ${d.types.text} NOT NULL,
        contact_id ${d.types.reference} NOT NULL REFERENCES contacts (id),
        destination_record_id ${d.types.text},
        delivered_at ${d.types.timestamp},
        status ${d.types.text} NOT NULL,
        attempts ${d.types.integer} NOT NULL DEFAULT 0,
        last_error ${d.types.text},
        PRIMARY KEY (destination, segment_key, contact_id)
      );
      CREATE INDEX delivered_state_contact ON delivered_state (contact_id);
    `,
  },
  {
    // A skipped row (the tool does not hold the person) keeps a digest of the identities it was offered with.
    name: '20261201T120000_delivery_skipped',
    up: (d) => `ALTER TABLE delivered_state ADD COLUMN identity_digest ${d.types.text};`,
  },
  {
    // The mapped trait values last settled with the destination (a JSON object), and the tries of a pending update.
    name: '20261203T090000_delivery_mapped_traits',
    up: (d) => `
      ALTER TABLE delivered_state ADD COLUMN mapped_traits ${d.types.json};
      ALTER TABLE delivered_state ADD COLUMN update_attempts ${d.types.integer} NOT NULL DEFAULT 0;
    `,
  },
  {
    // A 401/403 is a configuration failure of the run, never a row's: rows HubSpot's destination once marked
    // rejected for it ("… (401)" / "… (403)") are pending again, with no attempt counted, for the next push.
    name: '20261206T000000_delivery_requeue_auth_rejections',
    up: () => `
      UPDATE delivered_state SET status = 'retryable', attempts = 0
       WHERE status = 'rejected' AND (last_error LIKE '% (401)' OR last_error LIKE '% (403)');
    `,
  },
  {
    // On SQLite a row of delivered state lives in its key's index (WITHOUT ROWID): the push planner reads a changed
    // member's row and a leaver's, and the delivery's outcome updates it, each time finding the key in one index and
    // then the row in the table, two pages at random once the destination has held most customers. The table is
    // copied once. PostgreSQL's tables are heaps: nothing changes there.
    name: '20261207T110000_delivered_state_clustered',
    up: () => '',
    run: async (store) => {
      await store.dialect.clusterTable?.(store, 'delivered_state');
    },
  },
];
