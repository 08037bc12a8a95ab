import { describe, expect, it } from 'vitest';
import { eraseContact } from '../../core/erasure/index.js';
import { loadPage, type Queryable } from '../../core/index.js';
import type { StreamRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';

/** Acme in HubSpot (its member list names h1, h2) and Salesforce (s1, s4 name it as their Account). */
const acme = (): StreamRecord[] => [
  {
    kind: 'account',
    source: 'hubspot',
    externalId: 'c1',
    traits: { name: 'Acme', domain: 'acme.example' },
    members: ['h1', 'h2'],
  },
  { kind: 'account', source: 'salesforce', externalId: 'A1', traits: { name: 'ACME Corp', website: 'acme.example' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h1', traits: { email: 'ada@acme.example' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h2', traits: { email: 'bob@acme.example' } },
  {
    kind: 'contact',
    source: 'salesforce',
    externalId: 's1',
    traits: { email: 'ada@acme.example' },
    accountIds: ['A1'],
  },
  {
    kind: 'contact',
    source: 'salesforce',
    externalId: 's4',
    traits: { email: 'dee@acme.example' },
    accountIds: ['A1'],
  },
];

const links = async (store: Queryable) =>
  (
    (await store.all('SELECT source, contact_external_id FROM account_links ORDER BY source, contact_external_id')) as {
      source: string;
      contact_external_id: string;
    }[]
  ).map((r) => `${r.source}:${r.contact_external_id}`);

const memberEmails = async (store: Queryable) =>
  (
    (await store.all(
      'SELECT c.email FROM account_members am JOIN contacts c ON c.id = am.contact_id ORDER BY c.email',
    )) as {
      email: string;
    }[]
  ).map((r) => r.email);

for (const engine of engines) {
  describe(`erasure and accounts (${engine.name})`, () => {
    it('removes the erased person from every account link, and a re-read company list does not bring them back', async () => {
      const { store, close } = await engine.open();
      try {
        await loadPage(store, { connection: 'crm', stream: 'firms', records: acme(), checkpoint: null });
        expect(await links(store)).toEqual(['hubspot:h1', 'hubspot:h2', 'salesforce:s1', 'salesforce:s4']);
        const ada = (await store.get("SELECT id FROM contacts WHERE email = 'ada@acme.example'")) as { id: number };

        const erased = await eraseContact(store, Number(ada.id), { reason: 'erasure request' });
        expect(erased?.removed.account_links).toBe(2);
        expect(await links(store)).toEqual(['hubspot:h2', 'salesforce:s4']);
        expect(await memberEmails(store)).toEqual(['bob@acme.example', 'dee@acme.example']);

        // HubSpot still lists h1 on the company: the next read keeps the erased record out of the links.
        await loadPage(store, { connection: 'crm', stream: 'firms', records: acme(), checkpoint: null });
        expect(await links(store)).toEqual(['hubspot:h2', 'salesforce:s4']);
        expect(await memberEmails(store)).toEqual(['bob@acme.example', 'dee@acme.example']);
      } finally {
        await close();
      }
    });
  });
}
