/**
 * The contact_events insert trigger rewritten by a later migration (PostgreSQL parses a purchase's properties once):
 * a store made by the earlier migrations upgrades in place, and holds the same contact_events rows and the same digest
 * as a store that had the new trigger from the start, on both engines.
 */
import { describe, expect, it } from 'vitest';
import { loadPage, storeDigest, type Store } from '../../core/index.js';
import type { EventRecord, SourceRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';
import { upgradeBeside } from '../support/upgrade.js';
import { contact } from './fixtures.js';

const NEW_MIGRATION = '20261206T153000_contact_events_properties_parsed_once';
const NOW = new Date('2026-06-01T00:00:00Z');

function purchase(id: string, who: string, properties: Record<string, unknown>, value = 10): EventRecord {
  return {
    kind: 'event',
    source: 'shop',
    sourceEventId: id,
    type: 'purchase',
    occurredAt: `2026-05-0${(id.length % 9) + 1}T10:00:00.000Z`,
    contact: { email: `${who}@example.com` },
    value,
    properties,
  };
}

/** Purchases whose properties contact_events reads in every way it can, feature uses, and events it reads no field of. */
function page(n: number): SourceRecord[] {
  return [
    contact('crm', `c${n}`, { email: `ann${n}@example.com` }),
    purchase(`p${n}-1`, `ann${n}`, { currency: 'EUR', discount: 0.25, category: 'shoes' }),
    purchase(`p${n}-2`, `ann${n}`, { currency: 'USD', discount: true, category: 'hats', note: { deep: [1, 2] } }),
    purchase(`p${n}-3`, `bob${n}`, { discount: 'ten percent', category: null }),
    purchase(`p${n}-4`, `bob${n}`, {}),
    {
      kind: 'event',
      source: 'app',
      sourceEventId: `f${n}`,
      type: 'feature_used',
      occurredAt: '2026-05-02T08:00:00.000Z',
      contact: { email: `ann${n}@example.com` },
      properties: { feature: 'export', currency: 'GBP' },
    },
    {
      kind: 'event',
      source: 'mail',
      sourceEventId: `o${n}`,
      type: 'email_open',
      occurredAt: '2026-05-03T08:00:00.000Z',
      contact: { email: `bob${n}@example.com` },
      properties: { category: 'newsletter', discount: 3 },
    },
  ];
}

async function load(store: Store, n: number): Promise<void> {
  await loadPage(store, { connection: 'shop', stream: 'all', records: page(n), checkpoint: n, now: NOW });
}

async function contactEvents(store: Store): Promise<unknown[]> {
  return store.all(
    `SELECT c.contact_id, c.occurred_at, e.source_event_id, c.type, c.value, c.currency, c.discount, c.label
       FROM contact_events c JOIN events e ON e.id = c.event_id ORDER BY e.source_event_id`,
  );
}

for (const engine of engines) {
  describe(`contact_events after the trigger upgrade on ${engine.name}`, () => {
    it('a store made before the upgrade holds the same rows and digest as one made after it', async () => {
      const { upgraded, current, done } = await upgradeBeside(engine, NEW_MIGRATION, (old) => load(old, 1));
      try {
        await load(upgraded, 2);
        await load(current, 1);
        await load(current, 2);

        const rows = (await contactEvents(upgraded)) as {
          source_event_id: string;
          currency: string | null;
          discount: number | null;
          label: string | null;
        }[];
        expect(rows).toEqual(await contactEvents(current));
        expect(await storeDigest(upgraded)).toBe(await storeDigest(current));
        // The fields as features read them, loaded after the upgrade as before it.
        for (const n of [1, 2]) {
          const of = (id: string) => rows.find((r) => r.source_event_id === id);
          expect(of(`p${n}-1`)).toMatchObject({ currency: 'EUR', discount: 0.25, label: 'shoes' });
          expect(of(`p${n}-2`)).toMatchObject({ currency: 'USD', discount: 1, label: 'hats' });
          // A discount that is text reads as the engine reads it (PostgreSQL: NULL; SQLite: the text), as before.
          expect(of(`p${n}-3`)).toMatchObject({ currency: null, label: null });
          expect(of(`p${n}-4`)).toMatchObject({ currency: null, discount: null, label: null });
          expect(of(`f${n}`)).toMatchObject({ currency: null, discount: null, label: 'export' });
          expect(of(`o${n}`)).toMatchObject({ currency: null, discount: null, label: null });
        }
      } finally {
        await done();
      }
    });
  });
}
