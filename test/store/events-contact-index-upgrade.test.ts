/**
 * SQLite's `events` without its contact index and its foreign keys (which made the table be copied; PostgreSQL keeps
 * the index): a store made by the earlier migrations upgrades in place, keeps every row, id, index and trigger, and
 * then loads, merges, shows profiles and erases as a store that never had them, with the same digest, on both engines.
 */
import { describe, expect, it } from 'vitest';
import { eraseContact } from '../../core/erasure/index.js';
import { loadPage, storeDigest, type Store } from '../../core/index.js';
import { contactProfile } from '../../core/views/index.js';
import type { SourceRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';
import { upgradeBeside } from '../support/upgrade.js';
import { contact, event } from './fixtures.js';

const NEW_MIGRATION = '20261207T040000_events_without_contact_index';
const NOW = new Date('2026-06-01T00:00:00Z');

/** Page n: two people, their events, then a record linking the first to the second's tool id (a merge). */
function page(n: number): SourceRecord[] {
  return [
    contact('crm', `a${n}`, { email: `ann${n}@example.com`, name: 'Ann' }),
    contact('shop', `b${n}`, { email: `ann.other${n}@example.com`, city: 'Lyon' }),
    event('shop', `e${n}`, { externalId: `b${n}` }, 'purchase', '2026-01-06T10:00:00Z', 30),
    event('mail', `m${n}`, { email: `ann${n}@example.com` }, 'email_open', '2026-01-07T10:00:00Z'),
    contact('shop', `c${n}`, { email: `ann${n}@example.com` }, { linkedIds: [`b${n}`] }),
    event('mail', `o${n}`, { email: `ann.other${n}@example.com` }, 'email_click', '2026-01-08T10:00:00Z'),
  ];
}

async function load(store: Store, n: number): Promise<void> {
  await loadPage(store, { connection: 'all', stream: 'all', records: page(n), checkpoint: n, now: NOW });
}

async function contactOf(store: Store, externalId: string): Promise<number> {
  return (
    (await store.get('SELECT contact_id AS id FROM identities WHERE external_id = ?', [externalId])) as { id: number }
  ).id;
}

/** The events' indexes and declared foreign keys, and whether contact_events holds exactly the events. */
async function shape(store: Store): Promise<{ indexes: string[]; foreignKeys: number; copies: boolean }> {
  const indexes =
    store.dialect.name === 'postgres'
      ? ((await store.all("SELECT indexname AS name FROM pg_indexes WHERE tablename = 'events'")) as { name: string }[])
      : ((await store.all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")) as {
          name: string;
        }[]);
  const foreignKeys =
    store.dialect.name === 'postgres'
      ? (await store.all("SELECT 1 FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'f'")).length
      : (await store.all("SELECT 1 FROM pragma_foreign_key_list('events')")).length;
  const missing = (await store.get(
    `SELECT (SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM contact_events ce WHERE ce.event_id = e.id AND ce.contact_id = e.contact_id))
          + (SELECT COUNT(*) FROM contact_events ce WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = ce.event_id)) AS n`,
  )) as { n: number };
  return {
    indexes: indexes.map((i) => i.name).filter((n) => !n.startsWith('sqlite_autoindex') && !n.endsWith('_pkey')),
    foreignKeys,
    copies: Number(missing.n) === 0,
  };
}

for (const engine of engines) {
  describe(`events without their contact index after the upgrade on ${engine.name}`, () => {
    it('a store made before the upgrade keeps its events and behaves as one made after it', async () => {
      let eventsBefore: unknown[] = [];
      const { upgraded, current, done } = await upgradeBeside(engine, NEW_MIGRATION, async (old) => {
        await load(old, 1);
        expect((await shape(old)).indexes).toContain('events_contact');
        eventsBefore = await old.all('SELECT * FROM events ORDER BY id');
      });
      try {
        expect(await upgraded.all('SELECT * FROM events ORDER BY id')).toEqual(eventsBefore);
        const upgradedShape = await shape(upgraded);
        expect(upgradedShape.indexes.includes('events_contact')).toBe(upgraded.dialect.eventsIndexedByContact);
        expect(upgradedShape.indexes.includes('events_identity')).toBe(upgraded.dialect.eventsIndexedByContact);
        expect(upgradedShape.foreignKeys).toBe(0);

        // Loading again fires the rebuilt table's triggers (contact_events, compute marks) and merges page 2's people.
        await load(upgraded, 2);
        await load(current, 1);
        await load(current, 2);
        expect(await shape(upgraded)).toEqual(await shape(current));
        expect((await shape(upgraded)).copies).toBe(true);
        expect(await storeDigest(upgraded)).toBe(await storeDigest(current));
        const marked = (await upgraded.get('SELECT COUNT(*) AS n FROM compute_dirty')) as { n: number };
        expect(Number(marked.n)).toBeGreaterThan(0);

        // A merged contact's profile lists the events of both people, newest first; erasing it removes them all.
        for (const store of [upgraded, current]) {
          const id = await contactOf(store, 'a2');
          expect(await contactOf(store, 'b2')).toBe(id);
          const profile = await contactProfile(store, id, { events: 10 });
          expect(profile?.recentEvents.map((e) => e.type)).toEqual(['email_click', 'email_open', 'purchase']);
          const erased = await eraseContact(store, id, { reason: 'test', now: NOW });
          expect(erased?.removed.events).toBe(3);
          expect(await store.all('SELECT id FROM events WHERE contact_id = ?', [id])).toEqual([]);
          expect(await store.all('SELECT event_id FROM contact_events WHERE contact_id = ?', [id])).toEqual([]);
        }
        expect(await storeDigest(upgraded)).toBe(await storeDigest(current));
      } finally {
        await done();
      }
    });
  });
}
