// A push batch's outcomes are recorded in one multi-row statement: the delivered state must be what recording them
// one at a time gives, on both engines, also for a contact repeated in the list and for hundreds of rows.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  findContactByExternalId,
  loadPage,
  readDeliveredState,
  recordDeliveries,
  recordDelivery,
  type DeliveryOutcome,
  type Store,
} from '../../core/index.js';
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
});
