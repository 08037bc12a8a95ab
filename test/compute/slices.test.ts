/**
 * A compute split across workers (a prepare part, a features part per slice of contacts, a segments part) leaves the
 * store exactly as one compute in one process does — features with their `computed_at`, RFM breakpoints, memberships,
 * dirty marks and the compute's "as of" — whatever the number of slices, when a slice dies before its commit (and is
 * run again), and when a sliced compute never reaches its segments part (the next compute catches up); on both
 * engines.
 */
import { AsyncResource } from 'node:async_hooks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContactRecord, EventRecord } from '../../plugins/model/index.js';
import { loadPage, type SegmentDefinition, type Store } from '../../core/index.js';
import {
  computeAll,
  computeFeatureSlice,
  computeSegmentsPart,
  prepareCompute,
  type ComputeInput,
  type ComputeReport,
  type SlicedPlan,
} from '../../sync/compute/index.js';
import { engines } from '../support/engines.js';
import { contact, CURRENCY, event, historySteps, HOUR, playStep, START, type Played } from './history.js';

const PEOPLE = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal'];
const SEGMENTS: SegmentDefinition[] = [
  { key: 'recent_buyers', rule: { event: 'purchase', within: '30d' } },
  { key: 'vip', rule: { feature: 'monetary_365d', gte: 100 }, holdout: 0.3 },
  { key: 'engaged', rule: { feature: 'days_since_last_engagement', lte: 10 } },
  { key: 'top_recency', rule: { score: 'rfm_recency', gte: 4 } },
  { key: 'openers', rule: { feature: 'opens_14d', gte: 2 } },
  { key: 'vip_not_recent', rule: { all: [{ in_segment: 'vip' }, { not: { in_segment: 'recent_buyers' } }] } },
];

async function load(stores: Store[], records: (ContactRecord | EventRecord)[], now: number): Promise<void> {
  for (const store of stores)
    await loadPage(store, { connection: 'crm', stream: 'all', records, checkpoint: null, now: new Date(now) });
}

const input = (store: Store, now: number, mode?: 'full'): ComputeInput => ({
  storePath: store.path,
  now: new Date(now).toISOString(),
  currency: CURRENCY,
  features: { opens_14d: { agg: 'count', event: 'email_open', within: '14d' } },
  segments: SEGMENTS,
  ...(mode ? { mode } : {}),
});

/** How a sliced compute goes: its slices, whether its first slice dies once before committing, whether it ends. */
interface Sliced {
  slices: number;
  dies: boolean;
  abandoned: boolean;
}

/** The parts of a compute as workers run them, the plan passed as the JSON a task result keeps. */
async function sliced(store: Store, now: number, how: Sliced, mode?: 'full'): Promise<ComputeReport | undefined> {
  const given = input(store, now, mode);
  const plan = JSON.parse(JSON.stringify(await prepareCompute(store, given, how.slices))) as SlicedPlan;
  const runs = [];
  for (let slice = 0; slice < how.slices; slice++) {
    if (how.dies && slice === 0) {
      const killed = computeFeatureSlice(store, given, plan, slice, () => {
        throw new Error('killed before its commit');
      });
      await expect(killed).rejects.toThrow('killed before its commit');
    }
    runs.push(await computeFeatureSlice(store, given, plan, slice));
  }
  return how.abandoned ? undefined : await computeSegmentsPart(store, given, plan, runs);
}

/** What a compute leaves: features with when they were computed, breakpoints, memberships, marks, its state. */
async function outcome(store: Store, withTimes: boolean): Promise<unknown> {
  const features = (
    (await store.all('SELECT * FROM contact_features ORDER BY contact_id')) as Record<string, unknown>[]
  ).map(({ computed_at, custom, ...rest }) => ({
    ...rest,
    custom: JSON.parse(String(custom)) as unknown,
    ...(withTimes ? { computed_at } : {}),
  }));
  return {
    features,
    breakpoints: await store.all('SELECT dimension, score, bound, customers FROM feature_breakpoints ORDER BY 1, 2'),
    members: await store.all('SELECT segment_key, contact_id, entered_at FROM memberships ORDER BY 1, 2'),
    control: await store.all('SELECT segment_key, contact_id FROM segment_holdout_members ORDER BY 1, 2'),
    ...(withTimes
      ? {
          dirty: await store.all('SELECT contact_id, marks FROM compute_dirty ORDER BY contact_id'),
          state: await store.all('SELECT scope, as_of, features_fingerprint, segments_fingerprint FROM compute_state'),
        }
      : {}),
    pending: await store.all('SELECT contact_id FROM compute_pending'),
  };
}

const how: fc.Arbitrary<Sliced> = fc.record({
  slices: fc.integer({ min: 1, max: 4 }),
  dies: fc.boolean(),
  abandoned: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
});
const step = historySteps(PEOPLE.length, {
  weight: 3,
  arbitrary: fc.record({ kind: fc.constant('compute' as const), how, full: fc.boolean() }),
});

for (const engine of engines) {
  describe(`a compute split into slices (${engine.name})`, () => {
    it('leaves the store as one compute in one process, whatever the slices, a slice killed or a run abandoned', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 12 }), async (steps) => {
          const one = await engine.open();
          const split = await engine.open();
          const stores = [one.store, split.store];
          try {
            const at: Played = { now: START, links: 0 };
            // Times compare only while every sliced compute ended: one that did not recomputed (and stamped) rows the
            // one-process store recomputes later.
            let times = true;
            await load(
              stores,
              PEOPLE.map((p) => contact(p)),
              at.now,
            );
            await computeAll(one.store, input(one.store, at.now));
            await sliced(split.store, at.now, { slices: 2, dies: false, abandoned: false });
            for (const s of steps) {
              if (s.kind !== 'compute') {
                await playStep(s, PEOPLE, at, (records, now) => load(stores, records, now));
                continue;
              }
              const mode = s.full ? ('full' as const) : undefined;
              const report = await sliced(split.store, at.now, s.how, mode);
              if (report === undefined) {
                times = false;
                continue;
              }
              const reference = await computeAll(one.store, input(one.store, at.now, mode));
              expect(report.scope.mode).toBe(reference.scope.mode);
              expect(report.segments.map((r) => [r.key, r.size, r.entered, r.exited])).toEqual(
                reference.segments.map((r) => [r.key, r.size, r.entered, r.exited]),
              );
              expect(await outcome(split.store, times)).toEqual(await outcome(one.store, times));
            }
            const now = at.now + HOUR;
            await sliced(split.store, now, { slices: 3, dies: true, abandoned: false });
            await computeAll(one.store, input(one.store, now));
            expect(await outcome(split.store, times)).toEqual(await outcome(one.store, times));
            expect(await split.store.all('SELECT contact_id FROM compute_pending')).toEqual([]);
          } finally {
            await one.close();
            await split.close();
          }
        }),
        // PostgreSQL takes two fresh databases per run: fewer runs there.
        { numRuns: engine.name === 'sqlite' ? 25 : 6, seed: 2611 },
      );
    }, 300_000);

    // PostgreSQL runs slices without the writer lock and contact_features has no foreign key there.
    if (engine.name === 'postgres')
      it('a slice holds its contacts until it commits, so a merge or erasure cannot delete one under it', async () => {
        const { store, close } = await engine.open();
        try {
          await load([store], [contact('ada'), contact('bob')], START);
          await computeAll(store, input(store, START));
          const given = input(store, START + HOUR, 'full');
          const plan = await prepareCompute(store, given, 1);
          const ada = (await store.get("SELECT contact_id FROM identities WHERE external_id = 'ada'")) as {
            contact_id: number;
          };
          const outside = AsyncResource.bind((f: () => Promise<unknown>) => f());
          let deletion: unknown;
          await computeFeatureSlice(store, given, plan, 0, async () => {
            deletion = await outside(() =>
              store
                .transaction((tx) => tx.get('SELECT id FROM contacts WHERE id = ? FOR UPDATE NOWAIT', [ada.contact_id]))
                .catch((error: unknown) => (error as { code?: string }).code),
            );
          });
          // 55P03: lock_not_available — the row a deletion must lock is held by the slice.
          expect(deletion).toBe('55P03');
        } finally {
          await close();
        }
      });

    it('a slice that dies keeps its dirty marks; its next attempt takes and clears them', async () => {
      const { store, close } = await engine.open();
      try {
        await load([store], [contact('ada'), contact('bob')], START);
        await computeAll(store, input(store, START));
        await load([store], [event('bob', 'purchase', START, 30)], START + HOUR);
        const given = input(store, START + 2 * HOUR);
        const plan = await prepareCompute(store, given, 2);
        const bob = (await store.all('SELECT contact_id FROM compute_dirty')) as { contact_id: number }[];
        expect(bob).toHaveLength(1);
        const slice = plan.bounds[0] !== undefined && bob[0]!.contact_id > plan.bounds[0] ? 1 : 0;
        await expect(
          computeFeatureSlice(store, given, plan, slice, () => {
            throw new Error('killed');
          }),
        ).rejects.toThrow('killed');
        expect(await store.all('SELECT contact_id FROM compute_dirty')).toEqual(bob);
        expect(await store.all('SELECT contact_id FROM compute_pending')).toEqual([]);
        expect(await computeFeatureSlice(store, given, plan, slice)).toMatchObject({ dirty: 1 });
        expect(await store.all('SELECT contact_id FROM compute_dirty')).toEqual([]);
        expect(await store.all('SELECT contact_id FROM compute_pending')).toEqual(bob);
        const report = await computeSegmentsPart(store, given, plan, [{ contacts: 1, dirty: 1, crossed: 0 }]);
        expect(report.segments.find((s) => s.key === 'recent_buyers')).toMatchObject({ entered: 1, size: 1 });
        expect(await store.all('SELECT contact_id FROM compute_pending')).toEqual([]);
      } finally {
        await close();
      }
    });
  });
}
