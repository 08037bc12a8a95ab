import type { ContactRecord, EventRecord, EventType } from '../../plugins/model/index.js';
import { loadPage, type Store } from '../../core/index.js';
import type { TestEngine } from '../support/engines.js';

/** The moment the fixture's features are computed at. */
export const NOW = new Date('2026-03-01T00:00:00.000Z');

let serial = 0;

export function person(id: string, traits: ContactRecord['traits'] = {}): ContactRecord {
  return {
    kind: 'contact',
    source: 'crm',
    externalId: id,
    traits: { ...traits, email: `${id}@example.com` } as ContactRecord['traits'],
  };
}

export function happened(
  who: string,
  type: EventType,
  at: string,
  value?: number,
  properties?: Record<string, unknown>,
): EventRecord {
  serial += 1;
  return {
    kind: 'event',
    source: 'crm',
    sourceEventId: `${who}-${type}-${serial}`,
    type,
    occurredAt: at,
    contact: { externalId: who },
    ...(value === undefined ? {} : { value }),
    ...(properties === undefined ? {} : { properties }),
  };
}

export async function load(store: Store, records: (ContactRecord | EventRecord)[]): Promise<void> {
  await loadPage(store, { connection: 'crm', stream: 'all', records, checkpoint: null, now: NOW });
}

/** The contact id of a fixture person. */
export async function idOf(store: Store, who: string): Promise<number> {
  const row = (await store.get("SELECT contact_id FROM identities WHERE source = 'crm' AND external_id = ?", [
    who,
  ])) as { contact_id: number };
  return row.contact_id;
}

/**
 * Five people. Ada buys in three currencies (one without a rate), reads email, files tickets, uses features; Bob and
 * Eve bought once, the same amount at the same time (ties); Cy never bought; Dee bought twice six months ago.
 */
export function fixtureRecords(): (ContactRecord | EventRecord)[] {
  return [
    person('ada', { created_at: '2025-12-01T00:00:00Z', country: 'FR', gender: 'f' }),
    person('bob', { country: 'DE', lifecycle_stage: 'customer' }),
    person('cy', { created_at: '2026-02-15T00:00:00Z', country: 'FR' }),
    person('dee', { country: 'US', plan: 'pro' }),
    person('eve', { country: "FR'; DROP TABLE contacts; --" }),
    happened('ada', 'purchase', '2026-02-20T00:00:00Z', 100, { currency: 'EUR', category: 'shoes', discount: 0 }),
    happened('ada', 'purchase', '2026-01-15T00:00:00Z', 50, { currency: 'USD', category: 'hats', discount: 5 }),
    happened('ada', 'purchase', '2025-06-01T00:00:00Z', 200, { currency: 'GBP', category: 'shoes' }),
    happened('ada', 'purchase', '2025-01-01T00:00:00Z', 10, { discount: 1 }),
    happened('ada', 'purchase', '2026-03-05T00:00:00Z', 1000, { currency: 'EUR', category: 'future' }),
    happened('ada', 'email_sent', '2026-02-25T00:00:00Z'),
    happened('ada', 'email_sent', '2026-02-10T00:00:00Z'),
    happened('ada', 'email_sent', '2026-01-20T00:00:00Z'),
    happened('ada', 'email_open', '2026-02-26T00:00:00Z', undefined, { campaign: 'Spring sale' }),
    happened('ada', 'email_open', '2026-02-26T00:00:00Z', undefined, { campaign: 'spring sale' }),
    happened('ada', 'email_open', '2026-01-21T00:00:00Z', undefined, { campaign: 'winter' }),
    happened('ada', 'email_click', '2026-02-26T00:00:00Z'),
    happened('ada', 'support_ticket', '2026-02-01T00:00:00Z'),
    happened('ada', 'support_ticket', '2025-10-01T00:00:00Z'),
    happened('ada', 'feature_used', '2026-02-27T00:00:00Z', undefined, { feature: 'export' }),
    happened('ada', 'feature_used', '2026-01-10T00:00:00Z', undefined, { feature: 'import' }),
    happened('ada', 'feature_used', '2025-12-01T00:00:00Z', undefined, { feature: 'export' }),
    happened('ada', 'signup', '2025-11-15T00:00:00Z'),
    happened('bob', 'purchase', '2026-02-28T12:00:00Z', 30, { currency: 'EUR' }),
    happened('eve', 'purchase', '2026-02-28T12:00:00Z', 30, { currency: 'EUR' }),
    happened('dee', 'purchase', '2025-09-01T00:00:00Z', 30, { currency: 'EUR', discount: 3 }),
    happened('dee', 'purchase', '2025-09-02T00:00:00Z', 30, { currency: 'EUR', discount: 3 }),
    happened('dee', 'email_sent', '2026-02-20T00:00:00Z'),
  ];
}

export const CURRENCY = { reporting: 'EUR', rates: { USD: 0.5 } };

/**
 * A migrated store on a fresh location of `engine` (on PostgreSQL a copy of the run's migrated template); its
 * `close()` also removes the location (file or database).
 */
export async function storeOn(engine: TestEngine): Promise<Store> {
  const { store, close } = await engine.open();
  // A store's methods are closures over it, so a view of it with its own close() behaves as the store.
  return Object.assign(Object.create(store) as Store, { close });
}
