/**
 * The identity key (the distribution key of identities and their events, docs/SCALING.md): loads write the same value
 * the migration's backfill computes in SQL, on both engines, and every event carries its identity's key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadPage } from '../../core/index.js';
import { engines, type OpenedStore } from '../support/engines.js';
import { CONNECTION, STREAM, checkpointAfter, generatedPage } from './generated-source.js';

const opened: OpenedStore[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

for (const engine of engines) {
  describe(`the identity key on ${engine.name}`, () => {
    it('is written by loads as the backfill computes it, and copied onto every event', async () => {
      const o = await engine.open();
      opened.push(o);
      for (let page = 0; page < 4; page++)
        await loadPage(o.store, {
          connection: CONNECTION,
          stream: STREAM,
          records: generatedPage(page),
          checkpoint: checkpointAfter(page),
          now: new Date('2026-06-01T00:00:00Z'),
        });
      const identities = (await o.store.all(
        `SELECT identity_key, source || ':' || COALESCE(external_id, '@' || email) AS computed, external_id FROM identities`,
      )) as { identity_key: string | null; computed: string; external_id: string | null }[];
      expect(identities.some((i) => i.external_id === null)).toBe(true);
      expect(identities.filter((i) => i.identity_key !== i.computed)).toEqual([]);
      const events = (await o.store.get(
        `SELECT COUNT(*) AS n, SUM(CASE WHEN e.identity_key = i.identity_key THEN 1 ELSE 0 END) AS keyed
           FROM events e JOIN identities i ON i.id = e.identity_id`,
      )) as { n: number; keyed: number };
      expect(events.n).toBeGreaterThan(0);
      expect(events.keyed).toBe(events.n);
    });
  });
}
