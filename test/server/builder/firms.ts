/**
 * Three firms and their people, small enough to count by hand, for the builder's tests of account conditions and
 * account segments: who bought books how often in the last 90 days, and which firm each works at.
 *
 * - Acme (Software, 3 members): h1 bought books once, h2 three times, h3 only games.
 * - Globex (Retail, 2 members): h4 bought books twice, h5 once but 200 days ago.
 * - Initech (Software, 1 member): h6 bought books once.
 * - h7 works nowhere and bought books once.
 */
import { computeAccountFeatures, computeFeatures, loadPage, type Store } from '../../../core/index.js';
import type { StreamRecord } from '../../../plugins/model/index.js';

export const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;

let serial = 0;
function purchase(who: string, daysAgo: number, category: string, value = 20): StreamRecord {
  serial += 1;
  return {
    kind: 'event',
    source: 'crm',
    sourceEventId: `${who}-purchase-${serial}`,
    type: 'purchase',
    occurredAt: new Date(NOW.getTime() - daysAgo * DAY).toISOString(),
    contact: { externalId: who },
    value,
    properties: { category, currency: 'EUR' },
  } as StreamRecord;
}

const person = (id: string, email: string): StreamRecord =>
  ({ kind: 'contact', source: 'crm', externalId: id, traits: { email } }) as StreamRecord;

const firm = (id: string, name: string, domain: string, industry: string, members: string[]): StreamRecord =>
  ({ kind: 'account', source: 'crm', externalId: id, traits: { name, domain, industry }, members }) as StreamRecord;

/** The records: people first, then their purchases, then the firms naming their members. */
export function firmRecords(): StreamRecord[] {
  return [
    person('h1', 'h1@acme.test'),
    person('h2', 'h2@acme.test'),
    person('h3', 'h3@acme.test'),
    person('h4', 'h4@globex.test'),
    person('h5', 'h5@globex.test'),
    person('h6', 'h6@initech.test'),
    person('h7', 'h7@alone.test'),
    purchase('h1', 10, 'books'),
    purchase('h2', 5, 'books'),
    purchase('h2', 20, 'books'),
    purchase('h2', 40, 'books'),
    purchase('h3', 15, 'games'),
    purchase('h4', 3, 'books'),
    purchase('h4', 60, 'books'),
    purchase('h5', 200, 'books'),
    purchase('h6', 30, 'books'),
    purchase('h7', 8, 'books'),
    firm('a1', 'Acme', 'acme.test', 'Software', ['h1', 'h2', 'h3']),
    firm('a2', 'Globex', 'globex.test', 'Retail', ['h4', 'h5']),
    firm('a3', 'Initech', 'initech.test', 'Software', ['h6']),
  ];
}

/**
 * "Bought books at least once and at most twice in 90 days, at a firm of two or more members": h1 and h4, by hand.
 * The rule the builder's form makes of it.
 */
export const BOOKS_AT_FIRMS = {
  all: [
    { event: 'purchase', count: { gte: 1, lte: 2 }, within: '90d', where: { category: 'books' } },
    { account: { feature: 'members', gte: 2 } },
  ],
};
export const BOOKS_AT_FIRMS_EMAILS = ['h1@acme.test', 'h4@globex.test'];

/** "Software firms where someone bought in the last 90 days": Acme and Initech, by hand. */
export const SOFTWARE_BUYERS = {
  all: [{ trait: 'industry', eq: 'Software' }, { members: { event: 'purchase', within: '90d' } }],
};
export const SOFTWARE_BUYERS_NAMES = ['Acme', 'Initech'];

/** Loads the firms into `store` and computes contact and account features as of {@link NOW}. */
export async function loadFirms(store: Store): Promise<void> {
  await loadPage(store, { connection: 'crm', stream: 'all', records: firmRecords(), checkpoint: null, now: NOW });
  await computeFeatures(store, { now: NOW, currency: { reporting: 'EUR', rates: {} } });
  await computeAccountFeatures(store, NOW);
}
