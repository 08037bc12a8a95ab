/**
 * Incremental compute: after any sequence of loads (new events, trait changes, merges) and clock moves, a compute
 * that recomputes only the dirty contacts and those with an event crossing a window edge leaves exactly the
 * features and memberships a full recompute gives; on both engines.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContactRecord, EventRecord } from '../../plugins/model/index.js';
import {
  computeFeaturesIncrementally,
  loadPage,
  planCompute,
  planPush,
  recordPushOutcomes,
  type SegmentDefinition,
  type Store,
} from '../../core/index.js';
import { computeAll, type ComputeInput, type ComputeReport } from '../../sync/compute/index.js';
import { engines } from '../support/engines.js';
import { contact, CURRENCY, DAY, event, historySteps, playStep, START, type Played } from './history.js';

const FEATURES: ComputeInput['features'] = {
  opens_14d: { agg: 'count', event: 'email_open', within: '14d' },
  last_order: { agg: 'last', event: 'purchase' },
};

const SEGMENTS: SegmentDefinition[] = [
  { key: 'recent_buyers', rule: { event: 'purchase', within: '30d' } },
  { key: 'vip', rule: { feature: 'monetary_365d', gte: 100 }, holdout: 0.3 },
  { key: 'engaged', rule: { feature: 'days_since_last_engagement', lte: 10 } },
  { key: 'top_recency', rule: { score: 'rfm_recency', gte: 4 } },
  { key: 'french', rule: { trait: 'country', eq: 'FR' } },
  { key: 'openers', rule: { feature: 'opens_14d', gte: 2 } },
  { key: 'quiet', rule: { event: 'email_open', before: '21d' } },
  { key: 'vip_not_recent', rule: { all: [{ in_segment: 'vip' }, { not: { in_segment: 'recent_buyers' } }] } },
  { key: 'french_vip', rule: { all: [{ in_segment: 'vip_not_recent' }, { in_segment: 'french' }] } },
];

async function load(store: Store, records: (ContactRecord | EventRecord)[], now: number): Promise<void> {
  await loadPage(store, {
    connection: 'crm',
    stream: 'all',
    records,
    checkpoint: null,
    now: new Date(now),
  });
}

async function compute(
  store: Store,
  now: number,
  mode?: 'full',
  segments: SegmentDefinition[] = SEGMENTS,
): Promise<ComputeReport> {
  return await computeAll(store, {
    storePath: store.path,
    now: new Date(now).toISOString(),
    currency: CURRENCY,
    features: FEATURES,
    segments,
    ...(mode ? { mode } : {}),
  });
}

/** Everything a compute writes that users see: features (but when they were computed) and memberships. */
async function outcome(store: Store): Promise<unknown> {
  const features = (
    (await store.all('SELECT * FROM contact_features ORDER BY contact_id')) as Record<string, unknown>[]
  ).map(({ computed_at: _at, custom, ...rest }) => ({ ...rest, custom: JSON.parse(String(custom)) as unknown }));
  const members = await store.all(
    'SELECT segment_key, contact_id, entered_at FROM memberships ORDER BY segment_key, contact_id',
  );
  const control = await store.all(
    'SELECT segment_key, contact_id FROM segment_holdout_members ORDER BY segment_key, contact_id',
  );
  return { features, members, control };
}

async function idOf(store: Store, who: string): Promise<number> {
  return Number(
    (
      (await store.get("SELECT contact_id FROM identities WHERE source = 'crm' AND external_id = ?", [who])) as {
        contact_id: number;
      }
    ).contact_id,
  );
}

async function members(store: Store, segment: string): Promise<number[]> {
  return (
    (await store.all('SELECT contact_id FROM memberships WHERE segment_key = ? ORDER BY contact_id', [segment])) as {
      contact_id: number;
    }[]
  ).map((r) => Number(r.contact_id));
}

const PEOPLE = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay'];
const step = historySteps(PEOPLE.length, { weight: 2, arbitrary: fc.constant({ kind: 'compute' as const }) });

for (const engine of engines) {
  describe(`incremental compute (${engine.name})`, () => {
    async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
      const { store, close } = await engine.open();
      try {
        await fn(store);
      } finally {
        await close();
      }
    }

    it('after any sequence of loads, merges, trait changes and clock moves, equals a full recompute', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 14 }), async (steps) => {
          await withStore(async (store) => {
            const at: Played = { now: START, links: 0 };
            await load(
              store,
              PEOPLE.map((p) => contact(p)),
              at.now,
            );
            await compute(store, at.now);
            for (const s of steps) {
              if (s.kind === 'compute') await compute(store, at.now);
              else await playStep(s, PEOPLE, at, (records, now) => load(store, records, now));
            }
            const incremental = await compute(store, at.now);
            expect(incremental.scope.mode).toBe('incremental');
            const seen = await outcome(store);
            const full = await compute(store, at.now, 'full');
            expect(full.scope.mode).toBe('full');
            expect(await outcome(store)).toEqual(seen);
          });
        }),
        // PostgreSQL takes a fresh database per run and about a second per compute: fewer runs there.
        { numRuns: engine.name === 'sqlite' ? 25 : 8, seed: 2612 },
      );
    }, 300_000);

    it('an event crossing the 30-day edge takes its contact out of a last-30-days segment without any new event', async () => {
      await withStore(async (store) => {
        await load(store, [contact('ada'), contact('bob'), event('ada', 'purchase', START - 20 * DAY, 10)], START);
        expect((await compute(store, START)).scope.mode).toBe('full');
        const ada = await idOf(store, 'ada');
        expect(await members(store, 'recent_buyers')).toEqual([ada]);
        const later = START + 10 * DAY + 3_600_000;
        const report = await compute(store, later);
        expect(report.scope).toMatchObject({ mode: 'incremental', dirty: 0, crossed: 1, features: 1 });
        expect(await members(store, 'recent_buyers')).toEqual([]);
        expect(report.segments.find((s) => s.key === 'recent_buyers')).toMatchObject({ exited: 1, size: 0 });
        const seen = await outcome(store);
        await compute(store, later, 'full');
        expect(await outcome(store)).toEqual(seen);
      });
    });

    it('recomputes only the contacts touched by new events', async () => {
      await withStore(async (store) => {
        await load(
          store,
          PEOPLE.map((p) => contact(p)),
          START,
        );
        await compute(store, START);
        await load(store, [event('cy', 'purchase', START + 3_600_000, 120)], START + 2 * 3_600_000);
        const report = await compute(store, START + 2 * 3_600_000);
        expect(report.scope).toMatchObject({ mode: 'incremental', dirty: 1, crossed: 0, features: 1 });
        const cy = await idOf(store, 'cy');
        expect(await members(store, 'recent_buyers')).toEqual([cy]);
        expect(await members(store, 'vip_not_recent')).toEqual([]);
      });
    });

    it('a merge recomputes the surviving contact and removes the merged one', async () => {
      await withStore(async (store) => {
        await load(
          store,
          [
            contact('ada', { country: 'FR' }),
            contact('bob'),
            event('ada', 'purchase', START - 40 * DAY, 90),
            event('bob', 'purchase', START - 50 * DAY, 90),
          ],
          START,
        );
        await compute(store, START);
        expect(await members(store, 'vip')).toEqual([]);
        await load(store, [contact('link', { email: 'ada@example.com' }, ['bob'])], START + DAY);
        const report = await compute(store, START + DAY);
        expect(report.scope.mode).toBe('incremental');
        expect(((await store.get('SELECT COUNT(*) AS n FROM contacts')) as { n: number }).n).toBe(1);
        const survivor = await idOf(store, 'ada');
        expect(await store.all('SELECT contact_id, frequency_all FROM contact_features')).toEqual([
          { contact_id: survivor, frequency_all: 2 },
        ]);
        const seen = await outcome(store);
        await compute(store, START + DAY, 'full');
        expect(await outcome(store)).toEqual(seen);
      });
    });

    it('a run killed after its features leaves the dirty contacts for the next run', async () => {
      await withStore(async (store) => {
        await load(store, [contact('ada'), contact('bob')], START);
        await compute(store, START);
        await load(store, [event('bob', 'purchase', START, 30)], START + 3_600_000);
        // The features phase of a run commits; the run dies before its segments commit.
        const now = new Date(START + 3_600_000);
        const plan = await planCompute(store, { now, fingerprints: { features: 'x', segments: 'y' } });
        await computeFeaturesIncrementally(store, plan.contacts, { now, currency: CURRENCY, features: FEATURES });
        expect(await store.all('SELECT contact_id FROM compute_dirty')).toEqual([
          { contact_id: await idOf(store, 'bob') },
        ]);
        const report = await compute(store, now.getTime());
        expect(report.scope).toMatchObject({ mode: 'incremental', dirty: 1 });
        expect(await members(store, 'recent_buyers')).toEqual([await idOf(store, 'bob')]);
        expect(await store.all('SELECT contact_id FROM compute_dirty')).toEqual([]);
      });
    });

    it('a changed segment definition, or mode full, recomputes everyone', async () => {
      await withStore(async (store) => {
        await load(store, [contact('ada'), contact('bob')], START);
        await compute(store, START);
        expect((await compute(store, START + 3_600_000, 'full')).scope).toMatchObject({ mode: 'full', features: 2 });
        const changed = await computeAll(store, {
          storePath: store.path,
          now: new Date(START + 2 * 3_600_000).toISOString(),
          currency: CURRENCY,
          features: FEATURES,
          segments: [...SEGMENTS, { key: 'german', rule: { trait: 'country', eq: 'DE' } }],
        });
        expect(changed.scope).toMatchObject({
          mode: 'incremental',
          reason: 'segments: the segment definitions changed',
        });
        expect(changed.scope.segments).toBeUndefined();
      });
    });

    it('a rule comparing a trait with a time relative to now is evaluated for every contact', async () => {
      const segments = [...SEGMENTS, { key: 'new_signups', rule: { trait: 'created_at', within: '30d' } }];
      await withStore(async (store) => {
        await load(
          store,
          [contact('ada', { created_at: new Date(START - 20 * DAY).toISOString() }), contact('bob')],
          START,
        );
        await compute(store, START, undefined, segments);
        const ada = await idOf(store, 'ada');
        expect(await members(store, 'new_signups')).toEqual([ada]);
        const later = START + 11 * DAY;
        const report = await compute(store, later, undefined, segments);
        expect(report.scope).toMatchObject({
          mode: 'incremental',
          dirty: 0,
          everyone: { new_signups: 'segment new_signups: trait created_at compared with a time relative to now' },
        });
        expect(await members(store, 'new_signups')).toEqual([]);
        const seen = await outcome(store);
        await compute(store, later, 'full', segments);
        expect(await outcome(store)).toEqual(seen);
      });
    });

    it('the push planner sees the same changes: a second run with nothing new sends nothing', async () => {
      await withStore(async (store) => {
        await load(store, [contact('ada'), contact('bob'), event('ada', 'purchase', START - 25 * DAY, 10)], START);
        const deliver = async (): Promise<{ op: string; contactId: number }[]> => {
          const [plan] = await planPush(store, {
            destination: 'crm',
            segments: ['recent_buyers'],
            mode: 'mirror',
            maxRetries: 3,
          });
          const changes = plan?.changes ?? [];
          await recordPushOutcomes(store, {
            destination: 'crm',
            segmentKey: 'recent_buyers',
            outcomes: changes.map((c) => ({
              contactId: c.contactId,
              op: c.op,
              status: 'accepted' as const,
              destinationRecordId: `r${c.contactId}`,
            })),
          });
          return changes.map((c) => ({ op: c.op, contactId: c.contactId }));
        };
        const ada = await idOf(store, 'ada');
        await compute(store, START);
        expect(await deliver()).toEqual([{ op: 'add', contactId: ada }]);
        await compute(store, START + 3_600_000);
        expect(await deliver()).toEqual([]);
        await compute(store, START + 6 * DAY);
        expect(await deliver()).toEqual([{ op: 'remove', contactId: ada }]);
        await compute(store, START + 7 * DAY);
        expect(await deliver()).toEqual([]);
      });
    });
  });
}
