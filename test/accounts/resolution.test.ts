import { describe, expect, it } from 'vitest';
import { computeAccountFeatures, loadPage, type Queryable } from '../../core/index.js';
import type { AccountRecord, ContactRecord, StreamRecord } from '../../plugins/model/index.js';
import { engines } from '../support/engines.js';
import { seeded, shuffle } from '../store/fixtures.js';

const company = (
  source: string,
  externalId: string,
  traits: AccountRecord['traits'],
  members?: string[],
): AccountRecord => ({ kind: 'account', source, externalId, traits, ...(members ? { members } : {}) });

const person = (source: string, externalId: string, email: string, accountIds?: string[]): ContactRecord => ({
  kind: 'contact',
  source,
  externalId,
  traits: { email },
  ...(accountIds ? { accountIds } : {}),
});

/**
 * Three firms: Acme (HubSpot under acme-group.example with acme.example as an additional domain; Salesforce under
 * "ACME Corporation" with website https://www.acme.example/), Globex (same domain, different names) and Initech (only
 * in Salesforce, no HubSpot company). Members come from HubSpot's company associations and Salesforce's AccountId.
 */
function firms(): StreamRecord[] {
  return [
    company('hubspot', 'c1', { name: 'Acme', domain: 'acme-group.example', domains: ['acme.example'] }, ['h1', 'h2']),
    company('salesforce', 'A1', { name: 'ACME Corporation', website: 'https://www.acme.example/' }),
    company('hubspot', 'c2', { name: 'Globex', domain: 'globex.example' }, ['h3']),
    company('salesforce', 'A2', { name: 'Globex Corp.', website: 'globex.example' }),
    company('salesforce', 'A3', { name: 'Initech', website: 'initech.example' }),
    person('hubspot', 'h1', 'ada@acme.example'),
    person('hubspot', 'h2', 'bob@acme.example'),
    person('hubspot', 'h3', 'cy@globex.example'),
    person('salesforce', 's1', 'Ada@acme.example', ['A1']),
    person('salesforce', 's4', 'dee@acme.example', ['A1']),
    person('salesforce', 's5', 'eve@globex.example', ['A2']),
    person('salesforce', 's6', 'fay@initech.example', ['A3']),
    // a consultant on two firms' books: a member of both accounts
    person('salesforce', 's7', 'gil@consult.example', ['A2', 'A3']),
  ];
}

/** Each account as (sorted member emails), keyed by the sorted tool ids of its identities. */
async function accountsOf(store: Queryable): Promise<Record<string, string[]>> {
  const identities = (await store.all(
    `SELECT ai.account_id, ai.source || ':' || ai.external_id AS tool_id FROM account_identities ai
     JOIN accounts a ON a.id = ai.account_id WHERE a.deleted = 0 ORDER BY tool_id`,
  )) as { account_id: number; tool_id: string }[];
  const members = (await store.all(
    'SELECT am.account_id, c.email FROM account_members am JOIN contacts c ON c.id = am.contact_id ORDER BY c.email',
  )) as { account_id: number; email: string }[];
  const byAccount = new Map<number, string[]>();
  for (const r of identities)
    byAccount.set(Number(r.account_id), [...(byAccount.get(Number(r.account_id)) ?? []), r.tool_id]);
  const out: Record<string, string[]> = {};
  for (const [account, ids] of byAccount)
    out[ids.join(',')] = members.filter((m) => Number(m.account_id) === account).map((m) => m.email);
  return out;
}

const expected = {
  'hubspot:c1,salesforce:A1': ['ada@acme.example', 'bob@acme.example', 'dee@acme.example'],
  'hubspot:c2,salesforce:A2': ['cy@globex.example', 'eve@globex.example', 'gil@consult.example'],
  'salesforce:A3': ['fay@initech.example', 'gil@consult.example'],
};

for (const engine of engines) {
  describe(`accounts (${engine.name})`, () => {
    it('makes each firm one account across tools, names and domains differing, with the members each tool states', async () => {
      const { store, close } = await engine.open();
      try {
        await loadPage(store, { connection: 'all', stream: 'firms', records: firms(), checkpoint: null });
        expect(await accountsOf(store)).toEqual(expected);
        const acme = (await store.get(
          "SELECT a.name, a.domain FROM accounts a JOIN account_identities ai ON ai.account_id = a.id WHERE ai.external_id = 'c1'",
        )) as { name: string; domain: string };
        expect(acme.domain).toBe('acme-group.example');
      } finally {
        await close();
      }
    });

    it('gives the same accounts whatever order and pages the records arrive in, and records the merges', async () => {
      const random = seeded(28);
      for (let round = 0; round < 4; round++) {
        const { store, close } = await engine.open();
        try {
          const records = shuffle(firms(), random);
          for (let at = 0; at < records.length; at += 2)
            await loadPage(store, {
              connection: 'all',
              stream: 'firms',
              records: records.slice(at, at + 2),
              checkpoint: { at },
            });
          expect(await accountsOf(store)).toEqual(expected);
          const merges = (await store.all('SELECT reason, identifier FROM account_merges')) as { reason: string }[];
          for (const m of merges) expect(m.reason).toBe('shared domain');
        } finally {
          await close();
        }
      }
    });

    it('joins two accounts when a later record names both domains, and leaves a re-read unchanged', async () => {
      const { store, close } = await engine.open();
      try {
        await loadPage(store, {
          connection: 'x',
          stream: 's',
          checkpoint: null,
          records: [
            company('salesforce', 'A1', { name: 'Acme UK', website: 'acme.co.uk.example' }),
            company('hubspot', 'c1', { name: 'Acme', domain: 'acme.example' }),
          ],
        });
        expect(((await store.get('SELECT COUNT(*) AS n FROM accounts WHERE deleted = 0')) as { n: number }).n).toBe(2);
        const bridge = company('hubspot', 'c1', {
          name: 'Acme',
          domain: 'acme.example',
          domains: ['acme.co.uk.example'],
        });
        const first = await loadPage(store, { connection: 'x', stream: 's', checkpoint: null, records: [bridge] });
        expect(first.merged).toBe(1);
        expect(((await store.get('SELECT COUNT(*) AS n FROM accounts WHERE deleted = 0')) as { n: number }).n).toBe(1);
        const merge = (await store.get('SELECT reason, identifier FROM account_merges')) as Record<string, string>;
        expect(merge).toEqual({ reason: 'shared domain', identifier: 'acme.co.uk.example' });
        const again = await loadPage(store, { connection: 'x', stream: 's', checkpoint: null, records: [bridge] });
        expect(again).toMatchObject({ inserted: 0, updated: 0, merged: 0 });
      } finally {
        await close();
      }
    });

    it('replaces a contact record’s accounts when it moves, and counts members in the account features', async () => {
      const { store, close } = await engine.open();
      try {
        await loadPage(store, { connection: 'all', stream: 'firms', records: firms(), checkpoint: null });
        await loadPage(store, {
          connection: 'all',
          stream: 'people',
          checkpoint: null,
          records: [person('salesforce', 's7', 'gil@consult.example', ['A3'])],
        });
        const accounts = await accountsOf(store);
        expect(accounts['hubspot:c2,salesforce:A2']).toEqual(['cy@globex.example', 'eve@globex.example']);
        await computeAccountFeatures(store, new Date('2026-06-30T00:00:00Z'));
        const counts = (await store.all(
          `SELECT ai.external_id, f.members FROM account_features f JOIN account_identities ai ON ai.account_id = f.account_id
           WHERE ai.source = 'salesforce' ORDER BY ai.external_id`,
        )) as { external_id: string; members: number }[];
        expect(counts.map((c) => [c.external_id, Number(c.members)])).toEqual([
          ['A1', 3],
          ['A2', 2],
          ['A3', 2],
        ]);
      } finally {
        await close();
      }
    });
  });
}
