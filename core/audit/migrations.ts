import type { Migration } from '../store/migration.js';

/** Audit reports as they were built, so the console reads the last one at once. Owned by core/audit. */
export const auditMigrations: Migration[] = [
  {
    name: '20261206T060200_audit_reports',
    up: (d) => `
      CREATE TABLE audit_reports (
        id ${d.types.id},
        options_key ${d.types.text} NOT NULL,
        generated_at ${d.types.timestamp} NOT NULL,
        built_at ${d.types.timestamp} NOT NULL,
        took_ms ${d.types.integer} NOT NULL,
        report ${d.types.json} NOT NULL
      );
      CREATE INDEX audit_reports_options ON audit_reports (options_key, id);
    `,
  },
];
