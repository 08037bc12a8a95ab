import { describe, expect, it } from 'vitest';
import { createWorld } from '../../plugins/sandbox/index.js';
import { engines } from '../support/engines.js';
import { readTools, startTools } from './tools.js';

const PEOPLE = 600;

for (const engine of engines) {
  describe(`accounts from the world's firms (${engine.name})`, () => {
    it(
      'makes each firm one account, whatever name or domain each tool gives it, with its members',
      { timeout: 120_000 },
      async () => {
        const world = createWorld({ seed: 'accounts', people: PEOPLE });
        const { store, close } = await engine.open();
        try {
          const tools = await startTools(world);
          try {
            await readTools(store, tools);
          } finally {
            await tools.close();
          }
          const identities = (await store.all(
            `SELECT ai.source, ai.external_id, ai.account_id FROM account_identities ai
           JOIN accounts a ON a.id = ai.account_id WHERE a.deleted = 0`,
          )) as { source: string; external_id: string; account_id: number }[];
          const accountOf = new Map(identities.map((r) => [`${r.source}:${r.external_id}`, Number(r.account_id)]));
          const members = (await store.all('SELECT account_id, contact_id FROM account_members')) as {
            account_id: number;
            contact_id: number;
          }[];
          const contactOf = new Map(
            (
              (await store.all('SELECT source, external_id, contact_id FROM identities WHERE deleted = 0')) as {
                source: string;
                external_id: string;
                contact_id: number;
              }[]
            ).map((r) => [`${r.source}:${r.external_id}`, Number(r.contact_id)]),
          );

          let bothTools = 0;
          let renamed = 0;
          let memberships = 0;
          const accountsSeen = new Set<number>();
          for (let c = 0; c < world.firms; c++) {
            const firm = world.firm(c);
            const ids = [
              ...(firm.hubspot ? [`hubspot:${firm.hubspot.id}`] : []),
              ...(firm.salesforce ? [`salesforce:${firm.salesforce.id}`] : []),
            ];
            if (ids.length === 0) continue;
            const accounts = new Set(ids.map((id) => accountOf.get(id)));
            expect(accounts.size, `firm ${c} (${ids.join(', ')})`).toBe(1);
            const account = [...accounts][0] as number;
            expect(account, `firm ${c} loaded`).toBeDefined();
            expect(accountsSeen.has(account), `firm ${c} shares an account with another firm`).toBe(false);
            accountsSeen.add(account);
            if (firm.hubspot && firm.salesforce) {
              bothTools++;
              if (firm.hubspot.name !== firm.salesforce.name || firm.hubspot.domain !== firm.domain) renamed++;
            }
            // Its members: the firm's people as each tool associates them, through their contacts.
            const expected = new Set<number>();
            for (const i of firm.hubspot?.memberIndexes ?? []) {
              const hs = world.person(i).tools.hubspot;
              const contact = hs && !hs.archived ? contactOf.get(`hubspot:${hs.id}`) : undefined;
              if (contact !== undefined) expected.add(contact);
            }
            for (const i of firm.salesforce?.memberIndexes ?? []) {
              const sf = world.person(i).tools.salesforce;
              const contact = sf?.contactId && !sf.deleted ? contactOf.get(`salesforce:${sf.contactId}`) : undefined;
              if (contact !== undefined) expected.add(contact);
            }
            const actual = new Set(
              members.filter((m) => Number(m.account_id) === account).map((m) => Number(m.contact_id)),
            );
            expect([...actual].sort(), `members of firm ${c}`).toEqual([...expected].sort());
            memberships += expected.size;
          }
          expect(accountsSeen.size).toBe(
            ((await store.get('SELECT COUNT(*) AS n FROM accounts WHERE deleted = 0')) as { n: number }).n * 1,
          );
          expect(bothTools).toBeGreaterThan(10);
          expect(renamed).toBeGreaterThan(3);
          expect(memberships).toBeGreaterThan(PEOPLE / 4);
        } finally {
          await close();
        }
      },
    );
  });
}
