import type { Migration } from '../../store/migration.js';

/**
 * Segments made in the console: one row per segment with its current version, and every version (its name, rule,
 * tags and archived flag as saved, who saved it and when). Owned by core/segments/stored.
 */
export const storedSegmentMigrations: Migration[] = [
  {
    name: '20261206T064500_console_segments',
    up: (d) => `
      CREATE TABLE console_segments (
        key ${d.types.text} NOT NULL PRIMARY KEY,
        version ${d.types.integer} NOT NULL,
        created_at ${d.types.timestamp} NOT NULL,
        updated_at ${d.types.timestamp} NOT NULL
      );

      CREATE TABLE console_segment_versions (
        key ${d.types.text} NOT NULL,
        version ${d.types.integer} NOT NULL,
        name ${d.types.text} NOT NULL,
        description ${d.types.text},
        rule ${d.types.json} NOT NULL,
        tags ${d.types.json} NOT NULL,
        archived ${d.types.integer} NOT NULL,
        saved_by ${d.types.text} NOT NULL,
        saved_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (key, version)
      );
    `,
  },
  {
    // what a console segment selects: people (a rule over contacts) or accounts (a rule like `account_segments:`)
    name: '20261206T120000_console_segment_kind',
    up: (d) => `ALTER TABLE console_segments ADD COLUMN kind ${d.types.text} NOT NULL DEFAULT 'contacts';`,
  },
];
