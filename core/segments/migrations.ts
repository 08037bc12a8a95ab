import type { Migration } from '../store/migration.js';

/**
 * Holdout (control group) members, never pushed, and the record of each segment evaluation with its report and drift
 * alert. Owned by core/segments (the definition and membership tables live in core/segments/store).
 */
export const segmentEngineMigrations: Migration[] = [
  {
    name: '20261124T090100_segment_runs',
    up: (d) => `
      CREATE TABLE segment_holdout_members (
        segment_key ${d.types.text} NOT NULL,
        contact_id ${d.types.reference} NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        segment_version ${d.types.integer} NOT NULL,
        entered_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (segment_key, contact_id)
      );

      CREATE TABLE segment_runs (
        id ${d.types.id},
        evaluated_at ${d.types.timestamp} NOT NULL,
        incremental ${d.types.integer} NOT NULL,
        drift_alert ${d.types.integer} NOT NULL,
        report ${d.types.json} NOT NULL
      );
    `,
  },
];
