import type { Migration } from '../store/migration.js';

/** Stream checkpoints, sync runs, their per-row errors, and job locks. Owned by core/runs. */
export const runMigrations: Migration[] = [
  {
    name: '20261123T150200_runs',
    up: (d) => `
      CREATE TABLE stream_checkpoints (
        connection ${d.types.text} NOT NULL,
        stream ${d.types.text} NOT NULL,
        state ${d.types.json} NOT NULL,
        updated_at ${d.types.timestamp} NOT NULL,
        PRIMARY KEY (connection, stream)
      );

      CREATE TABLE sync_runs (
        id ${d.types.id},
        job ${d.types.text} NOT NULL,
        status ${d.types.text} NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'cancelled')),
        started_at ${d.types.timestamp} NOT NULL,
        finished_at ${d.types.timestamp},
        counts ${d.types.json} NOT NULL DEFAULT '{}',
        error ${d.types.text}
      );
      CREATE INDEX sync_runs_job ON sync_runs (job, started_at);

      CREATE TABLE run_errors (
        id ${d.types.id},
        run_id ${d.types.reference} REFERENCES sync_runs (id) ON DELETE CASCADE,
        connection ${d.types.text},
        stream ${d.types.text},
        record_key ${d.types.text},
        reason ${d.types.text} NOT NULL,
        created_at ${d.types.timestamp} NOT NULL
      );
      CREATE INDEX run_errors_run ON run_errors (run_id);

      CREATE TABLE job_locks (
        job ${d.types.text} PRIMARY KEY,
        holder ${d.types.text} NOT NULL,
        acquired_at ${d.types.timestamp} NOT NULL,
        heartbeat_at ${d.types.timestamp} NOT NULL,
        expires_at ${d.types.timestamp} NOT NULL
      );
    `,
  },
  {
    name: '20261125T100000_run_cancel_report',
    up: (d) => `
      ALTER TABLE sync_runs ADD COLUMN cancel_requested_at ${d.types.timestamp};
      ALTER TABLE sync_runs ADD COLUMN report ${d.types.json};
    `,
  },
  {
    // Which record sources (the \`source\` a connector stamps on its records, e.g. hubspot) each source connection of the
    // config has loaded: a destination's identities_from names a connection, its records' ids carry the source.
    name: '20261126T180000_connection_sources',
    up: (d) => `
      CREATE TABLE connection_sources (
        connection ${d.types.text} NOT NULL,
        source ${d.types.text} NOT NULL,
        PRIMARY KEY (connection, source)
      );
      INSERT INTO connection_sources (connection, source)
        SELECT DISTINCT c.connection, i.source FROM stream_checkpoints c JOIN identities i ON i.source = c.connection;
    `,
  },
  {
    // Job locks become leases: the holder's process (host, pid, start time) lets a dead holder on this host be taken
    // over at once. An abandoned run keeps status 'failed' with abandoned_at set (shown as 'abandoned'): SQLite cannot
    // widen sync_runs' CHECK without rebuilding the table, and dropping it would cascade-delete run_errors.
    name: '20261206T030000_job_leases',
    up: (d) => `
      ALTER TABLE job_locks ADD COLUMN host ${d.types.text};
      ALTER TABLE job_locks ADD COLUMN pid ${d.types.integer};
      ALTER TABLE job_locks ADD COLUMN process_started ${d.types.text};
      ALTER TABLE sync_runs ADD COLUMN abandoned_at ${d.types.timestamp};
    `,
  },
  {
    // Job runs split into tasks that workers claim (issue #26): a task is leased like a job (holder, process, heartbeat,
    // expiry) and carries a fencing token raised by every claim. rate_budgets holds the token buckets every worker
    // calling one tool draws from.
    name: '20261206T060000_job_tasks',
    up: (d) => `
      CREATE TABLE job_tasks (
        id ${d.types.id},
        run_id ${d.types.reference} NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
        job ${d.types.text} NOT NULL,
        step ${d.types.integer} NOT NULL,
        kind ${d.types.text} NOT NULL CHECK (kind IN ('read', 'compute', 'push')),
        spec ${d.types.json} NOT NULL,
        status ${d.types.text} NOT NULL
          CHECK (status IN ('pending', 'running', 'succeeded', 'partial', 'failed', 'cancelled')),
        holder ${d.types.text},
        host ${d.types.text},
        pid ${d.types.integer},
        process_started ${d.types.text},
        fence ${d.types.integer} NOT NULL DEFAULT 0,
        attempts ${d.types.integer} NOT NULL DEFAULT 0,
        created_at ${d.types.timestamp} NOT NULL,
        claimed_at ${d.types.timestamp},
        heartbeat_at ${d.types.timestamp},
        expires_at ${d.types.timestamp},
        finished_at ${d.types.timestamp},
        result ${d.types.json},
        error ${d.types.text}
      );
      CREATE INDEX job_tasks_run ON job_tasks (run_id, step);
      CREATE INDEX job_tasks_open ON job_tasks (status, run_id, step) WHERE status IN ('pending', 'running');

      CREATE TABLE rate_budgets (
        budget ${d.types.text} PRIMARY KEY,
        tokens ${d.types.real} NOT NULL,
        updated_ms ${d.types.integer} NOT NULL
      );
    `,
  },
  {
    // A compute on workers (issue #26) is a prepare task, feature tasks per slice of contacts, then one segments task:
    // `stage` orders the tasks of one step (a task waits for the lower stages of its step as for the earlier steps).
    // compute_pending holds the dirty contacts whose features a slice recomputed and whose memberships are not
    // evaluated yet: the slice moves its dirty marks there in its own commit, and the segments task empties it in
    // the commit of the memberships.
    name: '20261206T200000_compute_slices',
    up: (d) => `
      ALTER TABLE job_tasks ADD COLUMN stage ${d.types.integer} NOT NULL DEFAULT 0;
      CREATE TABLE compute_pending (
        contact_id ${d.types.reference} PRIMARY KEY
      );
    `,
  },
  {
    // Shared rate budgets become an exact rolling window (a ring of `requests` slots per budget, each holding when its
    // last request was answered) instead of a token bucket that kept 5% slack for the delays it could not see.
    name: '20261206T200100_rate_budget_slots',
    up: (d) => `
      DROP TABLE rate_budgets;
      CREATE TABLE rate_budget_slots (
        budget ${d.types.text} NOT NULL,
        slot ${d.types.integer} NOT NULL,
        at_ms ${d.types.integer} NOT NULL,
        PRIMARY KEY (budget, slot)
      );
    `,
  },
];
