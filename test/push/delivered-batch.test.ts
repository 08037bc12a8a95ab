// A push batch's outcomes are recorded in one multi-row statement (its deliveries in one, its trait updates in one):
// the delivered state must be what recording them one at a time gives, on both engines, also for a contact repeated
// in the list, a contact both updated and removed in one batch, and hundreds of rows.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  findContactByExternalId,
  loadPage,
  readDeliveredState,
  recordDeliveries,
  recordDelivery,
  recordTraitUpdate,
  recordTraitUpdates,
  type DeliveryOutcome,
  type Queryable,
  type Store,
  type TraitUpdateOutcome,
} from '../../core/index.js';
import { recordPushOutcomes, type PushRowOutcome } from '../../core/planner/index.js';
import { engines } from '../support/engines.js';

const PEOPLE = 620;

describe.each(engines)('on $name', (engine) => {
  let store: Store;
  let close: () => Promise<void>;
  const ids: number[] = [];

  beforeEach(async () => {
    ({ store, close } = await engine.open());
    await loadPage(store, {
      connection: 'crm',
      stream: 'contacts',
      records: Array.from({ length: PEOPLE }, (_, i) => ({
        kind: 'contact' as const,
        source: 'crm',
        externalId: `c${i}`,
        traits: { email: `p${i}@example.com`, updated_at: '2026-01-01T00:00:00Z' },
      })),
      checkpoint: null,
    });
    ids.length = 0;
    for (let i = 0; i < PEOPLE; i++) ids.push((await findContactByExternalId(store, 'crm', `c${i}`))!.id);
  });
  afterEach(async () => {
    await close();
  });

  /** A run of outcomes: every status, a contact repeated, hundreds of rows. */
  const outcomes = (): DeliveryOutcome[] => {
    const row = (i: number, rest: Omit<DeliveryOutcome, 'contactId'>): DeliveryOutcome => ({
      contactId: ids[i]!,
      ...rest,
    });
    return [
      ...ids.map((_, i) =>
        row(i, {
          status: 'delivered',
          destinationRecordId: `h${i}`,
          ...(i % 3 === 0 ? { mappedTraits: `{"tier":${i}}` } : {}),
        }),
      ),
      row(1, { status: 'retryable', error: 'HubSpot answered 502' }),
      row(1, { status: 'retryable', error: 'HubSpot answered 502' }),
      row(2, { status: 'removed' }),
      row(3, { status: 'skipped', error: 'not in HubSpot', identityDigest: 'abc' }),
      row(4, { status: 'rejected', error: 'invalid email' }),
      row(1, { status: 'delivered', destinationRecordId: 'h1b' }),
      row(5, { status: 'retryable', error: 'timeout' }),
    ];
  };

  it('records a batch as recording its rows one by one does', async () => {
    const at = '2026-02-01T00:00:00.000Z';
    for (const row of outcomes()) await recordDelivery(store, { destination: 'one', segmentKey: 'vip', ...row }, at);
    await store.transaction((tx) => recordDeliveries(tx, 'many', 'vip', outcomes(), at));
    const one = await readDeliveredState(store, 'one', 'vip');
    const many = await readDeliveredState(store, 'many', 'vip');
    expect(one).toHaveLength(PEOPLE);
    expect(many.map(({ destination: _, ...rest }) => rest)).toEqual(one.map(({ destination: _, ...rest }) => rest));
    const byId = new Map(many.map((r) => [r.contactId, r]));
    // Retryable twice, then delivered: its tries counted in order, the new record id kept.
    expect(byId.get(ids[1]!)).toMatchObject({ status: 'delivered', attempts: 3, destinationRecordId: 'h1b' });
    expect(byId.get(ids[2]!)).toMatchObject({ status: 'removed', mappedTraits: null, destinationRecordId: 'h2' });
    expect(byId.get(ids[3]!)).toMatchObject({ status: 'skipped', identityDigest: 'abc', mappedTraits: { tier: 3 } });
    expect(byId.get(ids[5]!)).toMatchObject({ status: 'retryable', attempts: 1, lastError: 'timeout' });
  });
  /** `store` with a count of the write statements run through it. */
  const counting = (store: Queryable): { store: Queryable; writes: () => number } => {
    let writes = 0;
    const proxy = new Proxy(store, {
      get(target, key) {
        if (key === 'run')
          return (...args: Parameters<Queryable['run']>) => {
            writes++;
            return target.run(...args);
          };
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { store: proxy, writes: () => writes };
  };

  /** Every member delivered with mapped traits, to `destination`. */
  const deliverAll = (destination: string, at: string) =>
    store.transaction((tx) =>
      recordDeliveries(
        tx,
        destination,
        'vip',
        ids.map((contactId, i) => ({ contactId, status: 'delivered', mappedTraits: `{"tier":${i}}` })),
        at,
      ),
    );

  it('records a batch of trait updates as recording them one by one does, in one statement', async () => {
    const at = '2026-02-01T00:00:00.000Z';
    const later = '2026-02-02T00:00:00.000Z';
    await deliverAll('one', at);
    await deliverAll('many', at);
    const statuses = ['accepted', 'rejected', 'retryable'] as const;
    const updates: TraitUpdateOutcome[] = [
      ...ids.map((contactId, i) => ({
        contactId,
        status: statuses[i % 3]!,
        mappedTraits: `{"tier":${i + 1000}}`,
        ...(i % 3 === 0 ? {} : { error: `update ${statuses[i % 3]!}` }),
      })),
      // Retried twice more, then accepted: its tries counted in order, the values settled at the end.
      { contactId: ids[2]!, status: 'retryable', mappedTraits: '{"tier":7}', error: 'timeout' },
      { contactId: ids[2]!, status: 'accepted', mappedTraits: '{"tier":7}' },
    ];
    for (const row of updates) await recordTraitUpdate(store, { destination: 'one', segmentKey: 'vip', ...row }, later);
    let writes = 0;
    await store.transaction(async (tx) => {
      const counted = counting(tx);
      await recordTraitUpdates(counted.store, 'many', 'vip', updates, later);
      writes = counted.writes();
    });
    const one = await readDeliveredState(store, 'one', 'vip');
    const many = await readDeliveredState(store, 'many', 'vip');
    expect(many.map(({ destination: _, ...rest }) => rest)).toEqual(one.map(({ destination: _, ...rest }) => rest));
    const byId = new Map(many.map((r) => [r.contactId, r]));
    expect(byId.get(ids[0]!)).toMatchObject({ mappedTraits: { tier: 1000 }, deliveredAt: later, updateAttempts: 0 });
    expect(byId.get(ids[1]!)).toMatchObject({
      mappedTraits: { tier: 1001 },
      deliveredAt: at,
      lastError: 'update rejected',
    });
    expect(byId.get(ids[2]!)).toMatchObject({ mappedTraits: { tier: 7 }, deliveredAt: later, updateAttempts: 0 });
    expect(byId.get(ids[5]!)).toMatchObject({ mappedTraits: { tier: 5 }, updateAttempts: 1, status: 'delivered' });
    // 620 members in one statement; each repeat of the retried contact starts another.
    expect(writes).toBe(3);
  });

  it("keeps one contact's order when a batch both updates and removes it", async () => {
    const at = '2026-02-01T00:00:00.000Z';
    await deliverAll('one', at);
    await deliverAll('many', at);
    const outcomes: PushRowOutcome[] = [
      ...ids.slice(0, 40).map((contactId, i): PushRowOutcome => ({
        contactId,
        op: i % 2 === 0 ? 'update' : 'remove',
        status: i % 5 === 0 ? 'retryable' : 'accepted',
        ...(i % 2 === 0 ? { mappedTraits: `{"tier":${i + 1}}` } : {}),
      })),
      // An update, then a remove, then an add again of one contact; and the other way round for another.
      { contactId: ids[0]!, op: 'remove', status: 'accepted' },
      { contactId: ids[0]!, op: 'add', status: 'accepted', mappedTraits: '{"tier":99}', destinationRecordId: 'r0' },
      { contactId: ids[1]!, op: 'update', status: 'retryable', mappedTraits: '{"tier":98}' },
    ];
    for (const o of outcomes)
      await recordPushOutcomes(store, { destination: 'one', segmentKey: 'vip', outcomes: [o] }, at);
    await recordPushOutcomes(store, { destination: 'many', segmentKey: 'vip', outcomes }, at);
    const one = await readDeliveredState(store, 'one', 'vip');
    const many = await readDeliveredState(store, 'many', 'vip');
    expect(many.map(({ destination: _, ...rest }) => rest)).toEqual(one.map(({ destination: _, ...rest }) => rest));
    const byId = new Map(many.map((r) => [r.contactId, r]));
    expect(byId.get(ids[0]!)).toMatchObject({ status: 'delivered', mappedTraits: { tier: 99 }, updateAttempts: 0 });
    expect(byId.get(ids[1]!)).toMatchObject({ status: 'removed', mappedTraits: null, updateAttempts: 1 });
  });
});
