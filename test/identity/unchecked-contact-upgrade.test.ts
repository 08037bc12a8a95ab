/**
 * The identities' contact key left unchecked on PostgreSQL by a later migration: a store made by the earlier migrations
 * upgrades in place and then resolves, merges and erases as a store that never had the check, with the same digest,
 * on both engines (SQLite keeps its check).
 */
import { describe, expect, it } from 'vitest';
import { eraseContact } from '../../core/erasure/index.js';
import { loadPage, storeDigest, type Store } from '../../core/index.js';
import type { SourceRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';
import { upgradeBeside } from '../support/upgrade.js';
import { contact, event } from '../store/fixtures.js';

const NEW_MIGRATION = '20261206T220000_identities_unchecked_contact';
const NOW = new Date('2026-06-01T00:00:00Z');

/** Page n: two people, then a record linking the first to the second's tool id (a merge), and their events. */
function page(n: number): SourceRecord[] {
  return [
    contact('crm', `a${n}`, { email: `ann${n}@example.com`, name: 'Ann' }),
    contact('shop', `b${n}`, { email: `ann.other${n}@example.com`, city: 'Lyon' }),
    event('shop', `e${n}`, { externalId: `b${n}` }),
    contact('shop', `c${n}`, { email: `ann${n}@example.com` }, { linkedIds: [`b${n}`] }),
    event('mail', `m${n}`, { email: `ann${n}@example.com` }),
  ];
}

async function load(store: Store, n: number): Promise<void> {
  await loadPage(store, { connection: 'all', stream: 'all', records: page(n), checkpoint: n, now: NOW });
}

/** Each identity with its contact's email: who ended up with whom. */
async function people(store: Store): Promise<unknown[]> {
  return store.all(
    `SELECT i.source, i.external_id, i.email, c.email AS contact_email
       FROM identities i JOIN contacts c ON c.id = i.contact_id ORDER BY i.source, i.external_id, i.email`,
  );
}

async function contactKeyChecked(store: Store): Promise<boolean> {
  if (store.dialect.name === 'postgres')
    return (
      (
        await store.all(
          "SELECT 1 FROM pg_constraint WHERE conrelid = 'identities'::regclass AND contype = 'f' AND conname = 'identities_contact_id_fkey'",
        )
      ).length > 0
    );
  return (
    (await store.all("SELECT 1 FROM pragma_foreign_key_list('identities') WHERE \"from\" = 'contact_id'")).length > 0
  );
}

for (const engine of engines) {
  describe(`identities' contact key after the upgrade on ${engine.name}`, () => {
    it('a store made before the upgrade resolves, merges and erases as one made after it', async () => {
      const { upgraded, current, done } = await upgradeBeside(engine, NEW_MIGRATION, async (old) => {
        await load(old, 1);
        expect(await contactKeyChecked(old)).toBe(true);
      });
      try {
        expect(await contactKeyChecked(upgraded)).toBe(engine.name !== 'postgres');
        await load(upgraded, 2);
        await load(current, 1);
        await load(current, 2);
        // The link merged each page's two people into one contact, whose identities all moved to it.
        const rows = (await people(upgraded)) as { external_id: string | null; contact_email: string }[];
        expect(rows).toEqual(await people(current));
        expect(new Set(rows.filter((r) => r.external_id?.endsWith('1')).map((r) => r.contact_email)).size).toBe(1);
        expect(await storeDigest(upgraded)).toBe(await storeDigest(current));

        // Erasing a contact removes its identities with it, checked or not.
        for (const store of [upgraded, current]) {
          const { id } = (await store.get("SELECT contact_id AS id FROM identities WHERE external_id = 'a2'")) as {
            id: number;
          };
          await eraseContact(store, id, { reason: 'test', now: NOW });
          expect(await store.all('SELECT id FROM identities WHERE contact_id = ?', [id])).toEqual([]);
        }
        expect(await storeDigest(upgraded)).toBe(await storeDigest(current));
      } finally {
        await done();
      }
    });
  });
}
