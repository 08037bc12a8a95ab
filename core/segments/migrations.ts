import type { Migration } from '../store/migration.js';

/**
 * Holdout (control group) members, never pushed, with their history (entries and exits, as membership_history is for
 * treated members, so a holdout report compares everyone who ever entered on either side), and the record of each segment evaluation with its report and drift
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
  {
    name: '20261125T090100_segment_holdout_history',
    up: (d) => `
      CREATE TABLE segment_holdout_history (
        id ${d.types.id},
        segment_key ${d.types.text} NOT NULL,
        contact_id ${d.types.reference} NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        segment_version ${d.types.integer} NOT NULL,
        entered_at ${d.types.timestamp} NOT NULL,
        exited_at ${d.types.timestamp}
      );
      CREATE INDEX segment_holdout_history_segment ON segment_holdout_history (segment_key, contact_id);
      INSERT INTO segment_holdout_history (segment_key, contact_id, segment_version, entered_at)
        SELECT segment_key, contact_id, segment_version, entered_at FROM segment_holdout_members;
    `,
  },
];
