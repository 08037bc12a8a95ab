// The run history of every job or of one, on both engines: PostgreSQL cannot type a bare `? IS NULL` parameter, so a
// list without a job failed there ("could not determine data type of parameter $1").
import { describe, expect, it } from 'vitest';
import { listRunPage, listRuns, openStore, startRun } from '../../core/index.js';
import { engines } from '../support/engines.js';

for (const engine of engines) {
  describe(`the run history (${engine.name})`, () => {
    it('lists every job’s runs, one job’s, and pages of them, newest first', async () => {
      const place = await engine.fresh();
      const store = await openStore(place.location);
      try {
        const ids = [];
        for (const job of ['nightly', 'hourly', 'nightly']) ids.push(await startRun(store, job));
        expect((await listRuns(store)).map((r) => r.id)).toEqual([...ids].reverse());
        expect((await listRuns(store, { job: 'nightly' })).map((r) => r.id)).toEqual([ids[2], ids[0]]);
        expect((await listRuns(store, { before: ids[2]! })).map((r) => r.id)).toEqual([ids[1], ids[0]]);
        const page = await listRunPage(store, { limit: 2, offset: 1 });
        expect(page.total).toBe(3);
        expect(page.runs.map((r) => r.id)).toEqual([ids[1], ids[0]]);
        expect((await listRunPage(store, { job: 'hourly', limit: 5, offset: 0 })).total).toBe(1);
      } finally {
        await store.close();
        await place.remove();
      }
    });
  });
}
