/**
 * A SQLite connection keeps the temp tables an evaluation works in and empties them for the next one, instead of
 * dropping and making them again: a schema change makes SQLite prepare every cached statement again, which each
 * real-time step paid. An evaluation with other segments (other mask columns) gets tables of its own shape, and every
 * evaluation's members are right whichever tables it found.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ContactRecord } from '../../plugins/model/index.js';
import { loadPage, type Store } from '../../core/index.js';
import { evaluateSegments, type SegmentDefinition } from '../../core/segments/index.js';
import { tempStore } from '../store/fixtures.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const PLANS: SegmentDefinition[] = [
  { key: 'pro', rule: { trait: 'plan', eq: 'pro' } },
  { key: 'free', rule: { trait: 'plan', eq: 'free' } },
];
// 70 segments need two mask columns where PLANS need one.
const MANY: SegmentDefinition[] = Array.from({ length: 70 }, (_, i) => ({
  key: `rank_${i}`,
  rule: { trait: 'rank', gte: i },
}));

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const schemaVersion = async (store: Store): Promise<number> =>
  Number(((await store.get('PRAGMA temp.schema_version')) as { schema_version: number }).schema_version);

const members = async (store: Store, key: string): Promise<number[]> =>
  (
    (await store.all('SELECT contact_id FROM memberships WHERE segment_key = ? ORDER BY contact_id', [key])) as {
      contact_id: number;
    }[]
  ).map((r) => r.contact_id);

describe('temp tables of segment evaluations (SQLite)', () => {
  it('are emptied and reused by the next evaluation on the connection, with the right members each time', async () => {
    const store = await tempStore();
    stores.push(store);
    const people: ContactRecord[] = Array.from({ length: 30 }, (_, i) => ({
      kind: 'contact',
      source: 'crm',
      externalId: `p${i}`,
      traits: { email: `p${i}@example.com`, plan: i % 3 === 0 ? 'free' : 'pro', rank: i },
    }));
    await loadPage(store, { connection: 'crm', stream: 'contacts', records: people, checkpoint: null, now: NOW });
    // ids[i]: the contact of person i.
    const ids = await Promise.all(
      people.map(
        async (p) =>
          (
            (await store.get('SELECT contact_id FROM identities WHERE external_id = ?', [p.externalId])) as {
              contact_id: number;
            }
          ).contact_id,
      ),
    );
    const sorted = (list: number[]) => [...list].sort((a, b) => a - b);

    await evaluateSegments(store, PLANS, { now: NOW, contacts: ids.slice(0, 10) });
    const made = await schemaVersion(store);
    await evaluateSegments(store, PLANS, { now: NOW, contacts: ids.slice(10, 20) });
    await evaluateSegments(store, PLANS, { now: NOW, contacts: ids.slice(20) });
    expect(await schemaVersion(store)).toBe(made);
    expect(await members(store, 'free')).toEqual(sorted(ids.filter((_, i) => i % 3 === 0)));
    expect(await members(store, 'pro')).toEqual(sorted(ids.filter((_, i) => i % 3 !== 0)));

    // Other segments: the mask table is made again with two columns, and the members are still right.
    await evaluateSegments(store, MANY, { now: NOW, contacts: ids });
    expect(await schemaVersion(store)).toBeGreaterThan(made);
    expect(await members(store, 'rank_25')).toEqual(sorted(ids.slice(25)));
    expect(await members(store, 'rank_69')).toEqual([]);
    await evaluateSegments(store, PLANS, { now: NOW, contacts: ids.slice(0, 3) });
    expect(await members(store, 'free')).toEqual(sorted(ids.filter((_, i) => i % 3 === 0)));
  });
});
