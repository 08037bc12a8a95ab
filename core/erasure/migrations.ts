import type { Migration } from '../store/migration.js';

/**
 * The record of each erasure: when, by which role, with what outcome per destination. It keeps digests of the erased
 * emails, not the emails, so "was this address erased?" can be answered. Its contact column is not named contact_id:
 * erasing a contact deletes every row of every table keyed by contact_id. Owned by core/erasure.
 */
export const erasureMigrations: Migration[] = [
  {
    name: '20261206T060100_erasure_records',
    up: (d) => `
      CREATE TABLE erasure_records (
        id ${d.types.id},
        erased_contact_id ${d.types.integer} NOT NULL,
        erased_at ${d.types.timestamp} NOT NULL,
        erased_by ${d.types.text} NOT NULL,
        email_digests ${d.types.json} NOT NULL,
        destinations ${d.types.json} NOT NULL,
        removed ${d.types.json} NOT NULL
      );
      CREATE INDEX erasure_records_contact ON erasure_records (erased_contact_id);
    `,
  },
];
