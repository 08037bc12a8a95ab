import type { Migration } from '../../store/migration.js';

/**
 * Every model run: the model's name, kind and version (one per run), when it started and finished, its settings,
 * its metrics (per-k inertia and silhouette, the choice and its reasons, profiles, AUC, contacts that changed
 * cluster) and what scoring needs later (preparation and centroids, coefficients, fitted parameters). Owned by
 * core/models/run; the per-contact outputs go to `model_outputs` (created by core/features), whose `model_version` and
 * `run_id` columns, saying which run scored each contact, core/models/run adds and owns.
 */
export const modelMigrations: Migration[] = [
  {
    name: '20261125T090000_model_runs',
    up: (d) => `
      CREATE TABLE model_runs (
        id ${d.types.id},
        model ${d.types.text} NOT NULL,
        kind ${d.types.text} NOT NULL,
        version ${d.types.integer} NOT NULL,
        status ${d.types.text} NOT NULL,
        started_at ${d.types.timestamp} NOT NULL,
        finished_at ${d.types.timestamp},
        scored_at ${d.types.timestamp} NOT NULL,
        contacts ${d.types.integer} NOT NULL DEFAULT 0,
        params ${d.types.json} NOT NULL,
        metrics ${d.types.json} NOT NULL DEFAULT '{}',
        saved ${d.types.json} NOT NULL DEFAULT '{}',
        error ${d.types.text},
        UNIQUE (model, version)
      );
    `,
  },
  {
    name: '20261202T090000_model_outputs_version',
    // Outputs written before this carry the latest successful run of their model, which is the one that wrote them.
    up: (d) => `
      ALTER TABLE model_outputs ADD COLUMN model_version ${d.types.integer};
      ALTER TABLE model_outputs ADD COLUMN run_id ${d.types.integer};
      UPDATE model_outputs SET
        model_version = (SELECT MAX(r.version) FROM model_runs r WHERE r.model = model_outputs.model AND r.status = 'succeeded'),
        run_id = (SELECT r.id FROM model_runs r WHERE r.model = model_outputs.model AND r.status = 'succeeded' ORDER BY r.version DESC LIMIT 1);
    `,
  },
];
