/**
 * The identities' contact index widened to cover the push planner's read (contact, deleted, source, external id): a
 * store made by the earlier migrations upgrades in place, keeps its identities, and plans the same pushes, addressed by
 * the same tool ids, as a store made after it, on both engines.
 */
import { describe, expect, it } from 'vitest';
import { enterSegment, loadPage, planPush, type Store } from '../../core/index.js';
import type { SourceRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';
import { upgradeBeside } from '../support/upgrade.js';
import { contact } from '../store/fixtures.js';

const NEW_MIGRATION = '20261207T060000_identities_contact_covering';
const NOW = new Date('2026-06-01T00:00:00Z');

/** Ann is known to the CRM twice (a contact and a lead, linked); Bob once; Cy's CRM record was deleted. */
const PAGE: SourceRecord[] = [
  contact('crm', 'lead-9', { email: 'ann@example.com' }),
  contact('crm', 'contact-2', { email: 'ann@example.com' }, { linkedIds: ['lead-9'] }),
  contact('crm', 'contact-5', { email: 'bob@example.com' }),
  contact('shop', 'u-5', { email: 'bob@example.com' }),
  contact('crm', 'contact-7', { email: 'cy@example.com' }),
  contact('shop', 'u-7', { email: 'cy@example.com' }),
  contact('crm', 'contact-7', { email: 'cy@example.com' }, { deleted: true }),
];

/** The definition of the identities' contact index, as the engine prints it. */
async function contactIndex(store: Store): Promise<string> {
  const row = (await store.get(
    store.dialect.name === 'postgres'
      ? "SELECT indexdef AS sql FROM pg_indexes WHERE indexname = 'identities_contact'"
      : "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'identities_contact'",
  )) as { sql: string } | undefined;
  return row?.sql ?? '';
}

/** Everyone in `vip`, then the adds a push to the CRM would send, by email with the CRM ids that address them. */
async function plannedAdds(store: Store): Promise<{ email: string | null; ids: string[] }[]> {
  const contacts = (await store.all('SELECT id FROM contacts ORDER BY id')) as { id: number }[];
  for (const c of contacts) await enterSegment(store, 'vip', Number(c.id), 1);
  const [vip] = await planPush(store, {
    destination: 'crm_lists',
    segments: ['vip'],
    identitiesFrom: 'crm',
    mode: 'mirror',
    maxRetries: 1,
    contacts: contacts.map((c) => Number(c.id)),
  });
  return (vip?.changes ?? [])
    .map((c) => ({ email: c.contact.email, ids: c.contact.externalIds }))
    .sort((a, b) => String(a.email).localeCompare(String(b.email)));
}

for (const engine of engines) {
  describe(`identities' contact index after the upgrade on ${engine.name}`, () => {
    it('a store made before the upgrade keeps its identities and plans pushes as one made after it', async () => {
      let identitiesBefore: unknown[] = [];
      const { upgraded, current, done } = await upgradeBeside(engine, NEW_MIGRATION, async (old) => {
        await loadPage(old, { connection: 'all', stream: 'all', records: PAGE, checkpoint: 1, now: NOW });
        expect(await contactIndex(old)).toMatch(/\(contact_id\)$/);
        identitiesBefore = await old.all('SELECT * FROM identities ORDER BY id');
      });
      try {
        expect(await upgraded.all('SELECT * FROM identities ORDER BY id')).toEqual(identitiesBefore);
        for (const store of [upgraded, current])
          expect(await contactIndex(store)).toMatch(/\(contact_id, deleted, source, external_id\)$/);

        await loadPage(current, { connection: 'all', stream: 'all', records: PAGE, checkpoint: 1, now: NOW });
        const adds = await plannedAdds(upgraded);
        // Ann by both her CRM ids, in one order on every engine; Bob by his; Cy by email alone (her CRM id is deleted).
        expect(adds).toEqual([
          { email: 'ann@example.com', ids: ['contact-2', 'lead-9'] },
          { email: 'bob@example.com', ids: ['contact-5'] },
          { email: 'cy@example.com', ids: [] },
        ]);
        expect(await plannedAdds(current)).toEqual(adds);
      } finally {
        await done();
      }
    });
  });
}
