/**
 * Random contact histories for the compute properties (incremental.test.ts, slices.test.ts): a few people of one
 * source, and steps that load events across a year (and a little ahead), change traits, merge two people, move the
 * clock, or compute (as the test does it). {@link playStep} loads a step as a source would.
 */
import fc from 'fast-check';
import type { ContactRecord, EventRecord, EventType } from '../../plugins/model/index.js';

export const START = Date.parse('2026-03-01T00:00:00.000Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const TYPES: EventType[] = ['purchase', 'email_open', 'page_view', 'signup', 'email_sent'];
/** Purchases over 50 are in USD, the others in EUR: what {@link event} writes, converted at this rate. */
export const CURRENCY = { reporting: 'EUR', rates: { USD: 0.5 } };

export function contact(id: string, traits: Record<string, unknown> = {}, linkedIds?: string[]): ContactRecord {
  return {
    kind: 'contact',
    source: 'crm',
    externalId: id,
    traits: { email: `${id}@example.com`, ...traits } as ContactRecord['traits'],
    ...(linkedIds ? { linkedIds } : {}),
  };
}

let serial = 0;

export function event(who: string, type: EventType, at: number, value?: number): EventRecord {
  serial += 1;
  return {
    kind: 'event',
    source: 'crm',
    sourceEventId: `${who}-${type}-${serial}`,
    type,
    occurredAt: new Date(at).toISOString(),
    contact: { externalId: who },
    ...(value === undefined ? {} : { value }),
    ...(type === 'purchase' ? { properties: { currency: value !== undefined && value > 50 ? 'USD' : 'EUR' } } : {}),
  };
}

/** One step of a history but computing; `who`, `a` and `b` index the people. */
export type HistoryStep =
  | { kind: 'event'; who: number; type: number; hoursAgo: number; value: number }
  | { kind: 'trait'; who: number; country: 'FR' | 'DE'; createdDaysAgo: number | null }
  | { kind: 'merge'; a: number; b: number }
  | { kind: 'clock'; hours: number };

/** Steps over `people` people, and the test's compute steps (`compute`, of weight `weight` against the others' 9). */
export function historySteps<C>(
  people: number,
  compute: { weight: number; arbitrary: fc.Arbitrary<C> },
): fc.Arbitrary<HistoryStep | C> {
  const who = fc.nat(people - 1);
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('event' as const),
        who,
        type: fc.nat(TYPES.length - 1),
        // From 400 days ago to two days ahead: old events, events near every window edge, and future-dated ones.
        hoursAgo: fc.integer({ min: -48, max: 400 * 24 }),
        value: fc.integer({ min: 1, max: 200 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('trait' as const),
        who,
        country: fc.constantFrom('FR' as const, 'DE' as const),
        createdDaysAgo: fc.option(fc.integer({ min: 0, max: 90 }), { nil: null }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('merge' as const), a: who, b: who }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('clock' as const), hours: fc.integer({ min: 1, max: 40 * 24 }) }),
    },
    compute,
  );
}

/** Where a history being played is: its clock, and how many merges it made (each links with a record of its own). */
export interface Played {
  now: number;
  links: number;
}

/**
 * Plays a step: loads what it brings through `load` (records, and the load's time) or moves the clock.
 *
 * @example
 * for (const s of steps) if (s.kind === 'compute') await compute(store, at.now); else await playStep(s, PEOPLE, at, load);
 */
export async function playStep(
  step: HistoryStep,
  people: readonly string[],
  at: Played,
  load: (records: (ContactRecord | EventRecord)[], now: number) => Promise<void>,
): Promise<void> {
  if (step.kind === 'event') {
    await load([event(people[step.who]!, TYPES[step.type]!, at.now - step.hoursAgo * HOUR, step.value)], at.now);
  } else if (step.kind === 'trait') {
    const traits = {
      country: step.country,
      ...(step.createdDaysAgo === null
        ? {}
        : { created_at: new Date(at.now - step.createdDaysAgo * DAY).toISOString() }),
    };
    await load([contact(people[step.who]!, traits)], at.now + 1);
  } else if (step.kind === 'merge') {
    // A record with one person's email that links another's id: the two contacts become one.
    at.links += 1;
    await load([contact(`link${at.links}`, { email: `${people[step.a]!}@example.com` }, [people[step.b]!])], at.now);
  } else {
    at.now += step.hours * HOUR;
  }
}
