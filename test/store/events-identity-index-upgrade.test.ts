/**
 * SQLite's `events` without its identity index (PostgreSQL keeps it): a store made before the upgrade keeps its
 * events, and when identity resolution splits a contact, each identity's events follow it to its contact, found
 * through `contact_events`, exactly as on a store that never had the index, on both engines.
 */
import { describe, expect, it } from 'vitest';
import { loadPage, storeDigest, type Store } from '../../core/index.js';
import type { SourceRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';
import { hasIndex, upgradeBeside } from '../support/upgrade.js';
import { contact, event } from './fixtures.js';

const NEW_MIGRATION = '20261207T090000_events_without_identity_index';
const NOW = new Date('2026-06-01T00:00:00Z');
/** A third record sharing the family's email puts it over the limit: the contact it joined is split. */
const LIMIT = { sharedEmailLimit: 2 };

const family: SourceRecord[] = [
  contact('hubspot', '1', { email: 'family@home.example' }),
  contact('salesforce', 'S1', { email: 'family@home.example' }),
  event('hubspot', 'h-open', { externalId: '1' }, 'email_open', '2026-01-06T10:00:00Z'),
  event('salesforce', 's-buy', { externalId: 'S1' }, 'purchase', '2026-01-07T10:00:00Z', 40),
  event('salesforce', 's-click', { externalId: 'S1' }, 'email_click', '2026-01-08T10:00:00Z'),
];
const third: SourceRecord[] = [contact('mailchimp', 'm1', { email: 'family@home.example' })];

async function load(store: Store, records: SourceRecord[], page: number): Promise<void> {
  await loadPage(store, { connection: 'all', stream: 'all', records, checkpoint: page, now: NOW, identity: LIMIT });
}

/** Each event's id with the tool id of the identity whose contact holds it (null if that is not its contact). */
async function eventsByOwner(store: Store): Promise<{ event: string; owner: string | null }[]> {
  return (await store.all(
    `SELECT e.source_event_id AS event,
       (SELECT i.source || ':' || i.external_id FROM identities i WHERE i.id = e.identity_id AND i.contact_id = e.contact_id) AS owner
     FROM events e ORDER BY e.source_event_id`,
  )) as { event: string; owner: string | null }[];
}

/** Events whose row in contact_events is missing or under another contact, plus rows there with no event. */
async function outOfStep(store: Store): Promise<number> {
  const row = (await store.get(
    `SELECT (SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM contact_events ce WHERE ce.event_id = e.id AND ce.contact_id = e.contact_id))
          + (SELECT COUNT(*) FROM contact_events ce WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = ce.event_id)) AS n`,
  )) as { n: number };
  return Number(row.n);
}

for (const engine of engines) {
  describe(`events without their identity index after the upgrade on ${engine.name}`, () => {
    it('keeps the events, and a split contact hands each identity its own events', async () => {
      let eventsBefore: unknown[] = [];
      const { upgraded, current, done } = await upgradeBeside(engine, NEW_MIGRATION, async (old) => {
        await load(old, family, 1);
        expect(await hasIndex(old, 'events_identity')).toBe(true);
        eventsBefore = await old.all('SELECT * FROM events ORDER BY id');
      });
      try {
        expect(await upgraded.all('SELECT * FROM events ORDER BY id')).toEqual(eventsBefore);
        expect(await hasIndex(upgraded, 'events_identity')).toBe(upgraded.dialect.eventsIndexedByContact);
        expect(await hasIndex(current, 'events_identity')).toBe(current.dialect.eventsIndexedByContact);

        await load(current, family, 1);
        for (const store of [upgraded, current]) {
          const together = (await store.all('SELECT DISTINCT contact_id FROM events')) as unknown[];
          expect(together).toHaveLength(1);
          await load(store, third, 2);
          // Three contacts now, and every event sits with the identity it was recorded for.
          expect(await store.get('SELECT COUNT(*) AS n FROM contacts')).toEqual({ n: 3 });
          expect(await eventsByOwner(store)).toEqual([
            { event: 'h-open', owner: 'hubspot:1' },
            { event: 's-buy', owner: 'salesforce:S1' },
            { event: 's-click', owner: 'salesforce:S1' },
          ]);
          expect(await outOfStep(store)).toBe(0);
        }
        expect(await storeDigest(upgraded)).toBe(await storeDigest(current));
      } finally {
        await done();
      }
    });
  });
}
