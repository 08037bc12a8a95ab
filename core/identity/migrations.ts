import type { Migration } from '../store/migration.js';
import { IDENTITY_KEY_SQL } from './key.js';

/** Contacts, the identities they were seen with, and the record of merges. Owned by core/identity. */
export const identityMigrations: Migration[] = [
  {
    name: '20261123T150000_identity_contacts',
    up: (d) => `
      CREATE TABLE contacts (
        id ${d.types.id},
        email ${d.types.text},
        email_consent ${d.types.text} NOT NULL DEFAULT 'unknown',
        traits ${d.types.json} NOT NULL DEFAULT '{}',
        deleted ${d.types.integer} NOT NULL DEFAULT 0,
        created_at ${d.types.timestamp} NOT NULL,
        updated_at ${d.types.timestamp} NOT NULL
      );
      CREATE INDEX contacts_email ON contacts (email);

      CREATE TABLE identities (
        id ${d.types.id},
        contact_id ${d.types.reference} REFERENCES contacts (id),
        source ${d.types.text} NOT NULL,
        external_id ${d.types.text},
        email ${d.types.text},
        linked_ids ${d.types.json} NOT NULL DEFAULT '[]',
        traits ${d.types.json} NOT NULL DEFAULT '{}',
        raw ${d.types.json} NOT NULL DEFAULT '{}',
        record_updated_ms ${d.types.real},
        seen ${d.types.integer} NOT NULL DEFAULT 0,
        deleted ${d.types.integer} NOT NULL DEFAULT 0,
        created_at ${d.types.timestamp} NOT NULL,
        updated_at ${d.types.timestamp} NOT NULL,
        UNIQUE (source, external_id)
      );
      CREATE UNIQUE INDEX identities_source_email ON identities (source, email) WHERE external_id IS NULL;
      CREATE INDEX identities_email ON identities (email);
      CREATE INDEX identities_contact ON identities (contact_id);

      CREATE TABLE contact_merges (
        id ${d.types.id},
        survivor_id ${d.types.reference} NOT NULL REFERENCES contacts (id),
        merged_id ${d.types.reference} NOT NULL,
        reason ${d.types.text} NOT NULL,
        identifier ${d.types.text},
        merged_at ${d.types.timestamp} NOT NULL
      );
      CREATE INDEX contact_merges_survivor ON contact_merges (survivor_id);
      CREATE INDEX contact_merges_merged ON contact_merges (merged_id);
    `,
  },
  {
    // The distribution key of identities and their events (docs/SCALING.md): a function of the identity's own unique
    // key, so it survives merges. Loads fill it; rows written before this migration get it here.
    name: '20261206T100000_identity_key',
    up: (d) => `
      ALTER TABLE identities ADD COLUMN identity_key ${d.types.text};
      UPDATE identities SET identity_key = ${IDENTITY_KEY_SQL};
    `,
  },
  {
    // Identity rows are written only by identity resolution (and copy), which sets their contact to one it has just
    // read or created in the same transaction; every transaction that writes them or deletes contacts (loads, merges,
    // erasure) holds the writer lock, and merges and erasure move or delete a contact's identities before the contact.
    // On PostgreSQL the key's check only costs: a per-row trigger that locks the referenced contact for each identity
    // inserted or moved, about half of an identity insert during a load. SQLite keeps it (a cheap B-tree probe; dropping
    // it would rebuild the table). A partitioned or distributed store cannot keep it anyway (docs/SCALING.md).
    name: '20261206T220000_identities_unchecked_contact',
    up: (d) => d.dropForeignKey('identities', 'contact_id'),
  },
  {
    // The push planner reads each changed contact's live tool ids (contact, deleted, source, external id): with them in
    // the contact index the read is answered from the index, where it fetched each identity's whole row (traits and
    // raw record included) from a random page. The real-time flusher runs it for every contact it sends.
    name: '20261207T060000_identities_contact_covering',
    up: () => `
      DROP INDEX identities_contact;
      CREATE INDEX identities_contact ON identities (contact_id, deleted, source, external_id);
    `,
  },
];
