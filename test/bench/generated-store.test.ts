import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../bench/segments.js';
import type { Store } from '../../core/index.js';
import { engines } from '../support/engines.js';

/** Every index and trigger of the store, as the engine's catalogue lists them. */
async function shape(store: Store): Promise<string[]> {
  const sql =
    store.dialect.name === 'postgres'
      ? `SELECT 'index ' || indexname AS name FROM pg_indexes WHERE schemaname = current_schema()
         UNION ALL SELECT DISTINCT 'trigger ' || trigger_name FROM information_schema.triggers WHERE trigger_schema = current_schema()`
      : "SELECT type || ' ' || name AS name FROM sqlite_master WHERE type IN ('index', 'trigger')";
  return ((await store.all(sql)) as { name: string }[]).map((r) => r.name).sort();
}

// The segments and real-time benches measure a store their generator fills with raw inserts, rebuilding what those
// inserts skip. A bench store with an index the engine's migrations dropped pays for it on every event it loads.
describe.each(engines)('the bench store generator on $name', (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('leaves the indexes and triggers the migrations made, and the events findable per contact', async () => {
    const generated = await engine.open();
    cleanups.push(generated.close);
    const migrated = await engine.open();
    cleanups.push(migrated.close);
    await generate(generated.store, 50, 400);
    expect(await shape(generated.store)).toEqual(await shape(migrated.store));
    const [counts] = (await generated.store.all(
      'SELECT (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM contact_events) AS per_contact',
    )) as { events: number; per_contact: number }[];
    expect([Number(counts!.events), Number(counts!.per_contact)]).toEqual([400, 400]);
  });
});
