import type { Migration } from '../store/migration.js';

/** Identities that must never be loaded back (erased contacts). Owned by core/suppression. */
export const suppressionMigrations: Migration[] = [
  {
    name: '20261123T150500_suppressions',
    up: (d) => `
      CREATE TABLE suppressions (
        id ${d.types.id},
        email ${d.types.text},
        source ${d.types.text},
        external_id ${d.types.text},
        reason ${d.types.text} NOT NULL,
        created_at ${d.types.timestamp} NOT NULL,
        CHECK (email IS NOT NULL OR (source IS NOT NULL AND external_id IS NOT NULL))
      );
      CREATE UNIQUE INDEX suppressions_email ON suppressions (email) WHERE email IS NOT NULL;
      CREATE UNIQUE INDEX suppressions_external ON suppressions (source, external_id) WHERE external_id IS NOT NULL;
    `,
  },
];
