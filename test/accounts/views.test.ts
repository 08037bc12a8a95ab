import { describe, expect, it } from 'vitest';
import {
  accountProfile,
  auditAccounts,
  computeAccountFeatures,
  evaluateAccountSegments,
  findAccounts,
  loadPage,
} from '../../core/index.js';
import type { StreamRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';

const NOW = new Date('2026-06-30T12:00:00Z');
const records: StreamRecord[] = [
  {
    kind: 'account',
    source: 'hubspot',
    externalId: 'c1',
    traits: { name: 'Acme', domain: 'acme.example', employees: 1200 },
    members: ['h1', 'h2'],
  },
  {
    kind: 'account',
    source: 'salesforce',
    externalId: '001A',
    traits: { name: 'ACME Corp', website: 'www.acme.example' },
  },
  { kind: 'account', source: 'hubspot', externalId: 'c2', traits: { name: '100% Widgets', domain: 'widgets.example' } },
  {
    kind: 'contact',
    source: 'hubspot',
    externalId: 'h1',
    traits: { email: 'ada@acme.example', first_name: 'Ada', last_name: 'L' },
  },
  { kind: 'contact', source: 'hubspot', externalId: 'h2', traits: { email: 'bob@acme.example' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h3', traits: { email: 'cy@elsewhere.example' } },
  {
    kind: 'event',
    source: 'hubspot',
    sourceEventId: 'p1',
    type: 'purchase',
    value: 40,
    occurredAt: '2026-06-20T00:00:00Z',
    contact: { externalId: 'h1' },
  },
];

for (const engine of engines) {
  describe(`account views and coverage (${engine.name})`, () => {
    it('give an account page its records, members, features and segments, find it by name or domain, and audit coverage', async () => {
      const { store, close } = await engine.open();
      try {
        await loadPage(store, { connection: 'crm', stream: 'all', records, checkpoint: null, now: NOW });
        await computeAccountFeatures(store, NOW);
        await evaluateAccountSegments(store, [{ key: 'large', rule: { trait: 'employees', gte: 1000 } }], [], {
          now: NOW,
        });

        const found = await findAccounts(store, 'ACME');
        expect(found).toEqual([{ id: expect.any(Number), name: 'Acme', domain: 'acme.example', members: 2 }]);
        expect((await findAccounts(store, 'widgets.ex')).map((a) => a.name)).toEqual(['100% Widgets']);
        // `%` is a character to find, not a wildcard
        expect((await findAccounts(store, '0% W')).map((a) => a.name)).toEqual(['100% Widgets']);
        expect(await findAccounts(store, '%')).toHaveLength(1);

        const acme = await accountProfile(store, found[0]!.id);
        expect(acme).toMatchObject({
          name: 'Acme',
          domain: 'acme.example',
          identities: [
            { source: 'hubspot', externalId: 'c1', deleted: false },
            { source: 'salesforce', externalId: '001A', deleted: false },
          ],
          members: [
            { email: 'ada@acme.example', name: 'Ada L' },
            { email: 'bob@acme.example', name: null },
          ],
          memberCount: 2,
          segments: [{ key: 'large', enteredAt: NOW.toISOString() }],
          features: { members: 2, revenue_30d: 40 },
        });
        expect(await accountProfile(store, 9999)).toBeUndefined();

        const { accounts, findings } = await auditAccounts(store);
        expect(accounts).toEqual({
          accounts: 2,
          contacts: 3,
          contactsWithAccount: 2,
          contactShare: 2 / 3,
          withoutMembers: 1,
          withoutMembersSample: ['100% Widgets'],
        });
        expect(findings.map((f) => [f.code, f.count])).toEqual([['accounts_without_members', 1]]);
      } finally {
        await close();
      }
    });
  });
}
