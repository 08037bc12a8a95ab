/**
 * A small clean store for the audit tests: 100 people in HubSpot (50 female, 50 male), every field the rules use
 * filled in, fresh checkpoints, purchases in currencies with a rate, two segments selecting both genders at the same
 * rate, everything delivered. Each test adds one defect to it.
 */
import { enterSegment, loadPage, recordDelivery, type AuditOptions, type Store } from '../../core/index.js';
import type { EventRecord, SourceRecord } from '../../plugins/model/index.js';
import { contact } from '../store/fixtures.js';

export const NOW = new Date('2026-06-30T00:00:00.000Z');
/** When the clean world's pages were committed. */
export const READ_AT = new Date('2026-06-29T12:00:00.000Z');

export function person(p: number, extra: Record<string, unknown> = {}): SourceRecord {
  return contact('hubspot', `h${p}`, {
    email: `p${p}@example.com`,
    first_name: `First${p}`,
    last_name: `Last${p}`,
    phone: `+1 555 010 ${String(p).padStart(4, '0')}`,
    country: 'FR',
    gender: p % 2 === 0 ? 'female' : 'male',
    updated_at: '2026-06-01T00:00:00.000Z',
    ...extra,
  });
}

export function purchase(
  id: string,
  who: EventRecord['contact'],
  currency: string,
  occurredAt = '2026-06-10T10:00:00.000Z',
): EventRecord {
  return {
    kind: 'event',
    source: 'hubspot',
    sourceEventId: id,
    type: 'purchase',
    occurredAt,
    contact: who,
    value: 20,
    properties: { currency },
  };
}

/** Loads records as one committed page of a stream, at READ_AT unless told. */
export async function load(
  store: Store,
  records: SourceRecord[],
  stream = 'contacts',
  cursor = '2026-06-29T11:00:00.000Z',
  options: { now?: Date; identity?: { sharedEmailLimit?: number } } = {},
): Promise<void> {
  await loadPage(store, {
    connection: records[0]?.source ?? 'hubspot',
    stream,
    records,
    checkpoint: { cursor },
    now: options.now ?? READ_AT,
    ...(options.identity ? { identity: options.identity } : {}),
  });
}

/** The contact id of person p (their HubSpot record). */
export async function contactOf(store: Store, p: number): Promise<number> {
  return (
    (await store.get("SELECT contact_id AS id FROM identities WHERE source = 'hubspot' AND external_id = ?", [
      `h${p}`,
    ])) as { id: number }
  ).id;
}

export async function enter(store: Store, segment: string, people: readonly number[]): Promise<void> {
  for (const p of people) await enterSegment(store, segment, await contactOf(store, p), 1, READ_AT.toISOString());
}

export async function deliver(
  store: Store,
  destination: string,
  segment: string,
  people: readonly number[],
): Promise<void> {
  for (const p of people)
    await recordDelivery(
      store,
      { destination, segmentKey: segment, contactId: await contactOf(store, p), status: 'delivered' },
      READ_AT.toISOString(),
    );
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** fr_buyers: people 0-39 (20 female, 20 male); vip: people 0-19 (10 and 10). Both delivered to hubspot_lists. */
export async function cleanWorld(store: Store): Promise<void> {
  await load(
    store,
    range(0, 100).map((p) => person(p)),
  );
  await load(
    store,
    [purchase('o1', { externalId: 'h1' }, 'EUR'), purchase('o2', { externalId: 'h2' }, 'USD')],
    'deals',
    '2026-06-28T10:00:00.000Z',
  );
  await enter(store, 'fr_buyers', range(0, 40));
  await enter(store, 'vip', range(0, 20));
  await deliver(store, 'hubspot_lists', 'fr_buyers', range(0, 40));
  await deliver(store, 'hubspot_lists', 'vip', range(0, 20));
}

export function cleanOptions(): AuditOptions {
  return {
    now: NOW,
    protectedAttributes: ['gender', 'religion'],
    minSegmentSize: 10,
    segments: [
      { key: 'fr_buyers', name: 'French buyers' },
      { key: 'vip', name: 'VIP' },
    ],
    fieldsUsed: [{ field: 'country', usedBy: ['segment fr_buyers'] }],
    streams: [
      { connection: 'hubspot', stream: 'contacts', jobs: ['nightly'] },
      { connection: 'hubspot', stream: 'deals', jobs: ['nightly'] },
    ],
    destinations: [
      {
        name: 'hubspot_lists',
        pushes: [{ segments: ['fr_buyers', 'vip'], mode: 'mirror', identitiesFrom: 'hubspot' }],
      },
    ],
    currency: { reporting: 'USD', rates: { EUR: 1.1 } },
  };
}
