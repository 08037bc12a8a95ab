import type { Dialect } from '../store/dialect.js';
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
  {
    // Each segment's size and control group, kept by triggers on the two member tables, so every writer (evaluation,
    // merges, erasure, a copy) keeps them right. An evaluation over a few contacts (each real-time step) reported sizes
    // by counting every member of each segment it evaluated: a cost per step that grew with the segments.
    name: '20261207T010100_segment_sizes',
    up: (d) => `
      CREATE TABLE segment_sizes (
        segment_key ${d.types.text} PRIMARY KEY,
        members ${d.types.integer} NOT NULL DEFAULT 0,
        control ${d.types.integer} NOT NULL DEFAULT 0
      );
      ${sizeTriggers(d, 'memberships', 'members')}
      ${sizeTriggers(d, 'segment_holdout_members', 'control')}
      ${RECOUNT_SEGMENT_SIZES}
    `,
    afterCopy: (store) => store.exec(RECOUNT_SEGMENT_SIZES),
  },
];

/** Counts every segment's members and control group again, from the member tables. */
const RECOUNT_SEGMENT_SIZES = `
  DELETE FROM segment_sizes;
  INSERT INTO segment_sizes (segment_key, members, control)
    SELECT segment_key, SUM(members), SUM(control) FROM (
      SELECT segment_key, COUNT(*) AS members, 0 AS control FROM memberships GROUP BY segment_key
      UNION ALL SELECT segment_key, 0, COUNT(*) FROM segment_holdout_members GROUP BY segment_key
    ) AS counted GROUP BY segment_key;
`;

/**
 * The triggers that keep `segment_sizes.<column>` equal to the rows of `table` per segment: a row in adds one, a row
 * out takes one off, a row moved to another segment both (an update that keeps the segment adds and takes off the
 * same, once per statement on PostgreSQL, whose set-based trigger cannot be limited to a column).
 */
function sizeTriggers(d: Dialect, table: string, column: string): string {
  const add = (rows: string) =>
    `INSERT INTO segment_sizes (segment_key, ${column}) ${rows}
       ON CONFLICT (segment_key) DO UPDATE SET ${column} = segment_sizes.${column} + excluded.${column};`;
  const addOne = add('VALUES (NEW.segment_key, 1)');
  const addAll = add('SELECT segment_key, COUNT(*) FROM new_rows GROUP BY segment_key');
  const takeOne = `UPDATE segment_sizes SET ${column} = ${column} - 1 WHERE segment_key = OLD.segment_key;`;
  const takeAll = `UPDATE segment_sizes SET ${column} = segment_sizes.${column} - o.n
       FROM (SELECT segment_key, COUNT(*) AS n FROM old_rows GROUP BY segment_key) AS o
       WHERE segment_sizes.segment_key = o.segment_key;`;
  return [
    d.trigger({ name: `${table}_size_insert`, table, event: 'INSERT', body: addOne, setBody: addAll }),
    d.trigger({ name: `${table}_size_delete`, table, event: 'DELETE', body: takeOne, setBody: takeAll }),
    d.trigger({
      name: `${table}_size_update`,
      table,
      event: 'UPDATE',
      columns: ['segment_key'],
      body: `${takeOne}\n${addOne}`,
      setBody: `${takeAll}\n${addAll}`,
    }),
  ].join('\n');
}
