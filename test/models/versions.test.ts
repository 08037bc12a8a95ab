import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../core/index.js';
import { migrations } from '../../core/store/migrations.js';
import { tempDir } from '../store/fixtures.js';

describe('model versions on a store that had scores before them', () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'segflow.db');
  afterAll(cleanup);

  it('stamps each existing score with the latest successful run of its model, and leaves unrun models unstamped', async () => {
    const before = await openStore(file, {
      migrations: migrations.filter((m) => m.name !== '20261202T090000_model_outputs_version'),
    });
    await before.exec(`
      INSERT INTO contacts (id, created_at, updated_at) VALUES (1, '2026-01-01', '2026-01-01'), (2, '2026-01-01', '2026-01-01');
      INSERT INTO model_runs (id, model, kind, version, status, started_at, scored_at, params) VALUES
        (10, 'churn', 'churn', 1, 'succeeded', '2026-01-01', '2026-01-01', '{}'),
        (11, 'churn', 'churn', 2, 'succeeded', '2026-02-01', '2026-02-01', '{}'),
        (12, 'churn', 'churn', 3, 'failed', '2026-03-01', '2026-03-01', '{}');
      INSERT INTO model_outputs (contact_id, model, output, value, label, computed_at) VALUES
        (1, 'churn', 'risk', 0.8, NULL, '2026-02-01'), (2, 'churn', 'risk', 0.1, NULL, '2026-02-01'),
        (1, 'imported', 'score', 5, NULL, '2026-02-01');
    `);
    await before.close();
    const after = await openStore(file);
    try {
      const rows = await after.all(
        'SELECT contact_id, model, model_version, run_id FROM model_outputs ORDER BY model, contact_id',
      );
      expect(rows).toEqual([
        { contact_id: 1, model: 'churn', model_version: 2, run_id: 11 },
        { contact_id: 2, model: 'churn', model_version: 2, run_id: 11 },
        { contact_id: 1, model: 'imported', model_version: null, run_id: null },
      ]);
    } finally {
      await after.close();
    }
  });
});
