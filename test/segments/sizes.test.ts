/**
 * Segment sizes are kept by triggers on the member tables (`segment_sizes`), so an evaluation over a few contacts (a
 * real-time step) reports each segment's whole size without counting its members. Whoever writes members (a full or
 * scoped evaluation with a control group, a merge, an erasure, a store copy), the kept sizes must stay the counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ContactRecord } from '../../plugins/model/index.js';
import { copyStore, loadPage, type Queryable, type Store } from '../../core/index.js';
import { eraseContact } from '../../core/erasure/index.js';
import { evaluateSegments, type SegmentDefinition } from '../../core/segments/index.js';
import { engines } from '../support/engines.js';
import { storeOn } from '../features/fixture.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const SEGMENTS: SegmentDefinition[] = [
  { key: 'pro', rule: { trait: 'plan', eq: 'pro' }, holdout: 0.3 },
  { key: 'free', rule: { trait: 'plan', eq: 'free' } },
];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const person = (source: string, id: string, traits: ContactRecord['traits'], linkedIds?: string[]): ContactRecord => ({
  kind: 'contact',
  source,
  externalId: id,
  traits,
  ...(linkedIds ? { linkedIds } : {}),
});

/** Per segment: members and control group as kept, and as counted from the member tables. */
async function sizes(store: Queryable): Promise<{ kept: unknown[]; counted: unknown[] }> {
  const kept = (await store.all(
    'SELECT segment_key, members, control FROM segment_sizes WHERE members <> 0 OR control <> 0 ORDER BY segment_key',
  )) as { segment_key: string; members: number; control: number }[];
  const counted = (await store.all(
    `SELECT segment_key, SUM(members) AS members, SUM(control) AS control FROM (
       SELECT segment_key, COUNT(*) AS members, 0 AS control FROM memberships GROUP BY segment_key
       UNION ALL SELECT segment_key, 0, COUNT(*) FROM segment_holdout_members GROUP BY segment_key
     ) AS c GROUP BY segment_key ORDER BY segment_key`,
  )) as { segment_key: string; members: number; control: number }[];
  const plain = (rows: { segment_key: string; members: number; control: number }[]) =>
    rows.map((r) => ({ segment_key: r.segment_key, members: Number(r.members), control: Number(r.control) }));
  return { kept: plain(kept), counted: plain(counted) };
}

for (const engine of engines) {
  describe(`segment sizes (${engine.name})`, () => {
    it('stay the member counts through full and scoped evaluations, merges, erasure and a store copy', async () => {
      const store = await storeOn(engine);
      stores.push(store);
      const people = Array.from({ length: 60 }, (_, i) =>
        person('crm', `p${i}`, { email: `p${i}@example.com`, plan: i % 3 === 0 ? 'free' : 'pro' }),
      );
      await loadPage(store, { connection: 'crm', stream: 'contacts', records: people, checkpoint: null, now: NOW });
      await evaluateSegments(store, SEGMENTS, { now: NOW });
      const full = await sizes(store);
      expect(full.kept).toEqual(full.counted);
      // 20 people on the free plan; 40 on pro, split between its members and its control group.
      const [free, pro] = full.counted as { segment_key: string; members: number; control: number }[];
      expect(free).toEqual({ segment_key: 'free', members: 20, control: 0 });
      expect(pro?.members).toBeGreaterThan(0);
      expect(pro?.control).toBeGreaterThan(0);
      expect((pro?.members ?? 0) + (pro?.control ?? 0)).toBe(40);

      // Ten people switch plans; only they are evaluated again, and the report gives the whole segments' sizes.
      const switched = people
        .slice(0, 10)
        .map((p, i) => person('crm', p.externalId, { email: `p${i}@example.com`, plan: i % 2 ? 'free' : 'pro' }));
      await loadPage(store, { connection: 'crm', stream: 'contacts', records: switched, checkpoint: null, now: NOW });
      const ids = (
        (await store.all(
          "SELECT contact_id FROM identities WHERE source = 'crm' AND external_id IN ('p0','p1','p2','p3','p4','p5','p6','p7','p8','p9')",
        )) as {
          contact_id: number;
        }[]
      ).map((r) => Number(r.contact_id));
      const report = await evaluateSegments(store, SEGMENTS, { now: NOW, contacts: ids });
      const scoped = await sizes(store);
      expect(scoped.kept).toEqual(scoped.counted);
      for (const s of scoped.counted as { segment_key: string; members: number; control: number }[])
        expect(report.segments.find((r) => r.key === s.segment_key)).toMatchObject({
          size: s.members,
          control: s.control,
        });

      // A record links two people on the pro plan: their contacts merge and their two memberships fold into one.
      await loadPage(store, {
        connection: 'crm',
        stream: 'contacts',
        records: [person('crm', 'p22', { email: 'p22@example.com', plan: 'pro' }, ['p23'])],
        checkpoint: null,
        now: NOW,
      });
      const merges = (await store.get('SELECT COUNT(*) AS n FROM contact_merges')) as { n: number };
      expect(Number(merges.n)).toBe(1);
      const merged = await sizes(store);
      expect(merged.kept).toEqual(merged.counted);
      const proOf = (rows: unknown[]) => rows.find((r) => (r as { segment_key: string }).segment_key === 'pro');
      expect(proOf(merged.counted)).toMatchObject({
        members: (proOf(scoped.counted) as { members: number }).members - 1,
      });

      const member = (await store.get('SELECT contact_id FROM memberships ORDER BY contact_id LIMIT 1')) as {
        contact_id: number;
      };
      await eraseContact(store, Number(member.contact_id), { reason: 'test', now: NOW });
      const erased = await sizes(store);
      expect(erased.kept).toEqual(erased.counted);
      expect(erased.counted).not.toEqual(merged.counted);

      const copy = await storeOn(engine);
      stores.push(copy);
      await copyStore(store, copy, { force: true });
      expect((await sizes(copy)).kept).toEqual(erased.counted);
    });
  });
}
