import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { source as fileSource, spec as fileSpec } from '../../connectors/file/index.js';
import { createContext, type SourceDefinition } from '../../plugins/index.js';
import { readSource } from '../../sync/index.js';
import { engines } from '../support/engines.js';
import { tempDir } from '../support/temp.js';
import { quiet } from './tools.js';

for (const engine of engines) {
  describe(`the file connector's accounts file (${engine.name})`, () => {
    it('loads companies with their members, renamed columns and domains, and resumes after its checkpoint', async () => {
      const dir = tempDir('segflow-accounts-file-');
      const { store, close } = await engine.open();
      try {
        writeFileSync(
          join(dir, 'contacts.csv'),
          'id,email,updated_at\nc1,ada@acme.example,2026-01-01T00:00:00Z\nc2,bob@acme.example,2026-01-01T00:00:00Z\nc3,cy@globex.example,2026-01-01T00:00:00Z\n',
        );
        const accounts = join(dir, 'accounts.csv');
        writeFileSync(
          accounts,
          'id,Company,Website,Staff,people,updated_at\n' +
            'a1,Acme,https://www.acme.example/,120,c1;c2,2026-01-02T00:00:00Z\n' +
            'a2,Globex,globex.example,40,c3,2026-01-03T00:00:00Z\n',
        );
        const config = fileSpec.parse({
          contacts: { path: join(dir, 'contacts.csv') },
          accounts: {
            path: accounts,
            columns: { Company: 'name', Website: 'website', Staff: 'employees' },
            membersColumn: 'people',
          },
          source: 'crm',
        });
        const read = () =>
          readSource({
            store,
            connection: 'crm_export',
            source: fileSource as SourceDefinition,
            config,
            mode: 'incremental',
            ctx: createContext({ connection: 'crm_export', logger: quiet }),
          });
        expect((await read()).map((o) => [o.stream, o.status])).toEqual([
          ['contacts', 'succeeded'],
          ['accounts', 'succeeded'],
        ]);
        const rows = (await store.all(
          `SELECT a.name, a.domain, c.email FROM accounts a JOIN account_members m ON m.account_id = a.id
           JOIN contacts c ON c.id = m.contact_id ORDER BY a.name, c.email`,
        )) as { name: string; domain: string; email: string }[];
        expect(rows).toEqual([
          { name: 'Acme', domain: 'acme.example', email: 'ada@acme.example' },
          { name: 'Acme', domain: 'acme.example', email: 'bob@acme.example' },
          { name: 'Globex', domain: 'globex.example', email: 'cy@globex.example' },
        ]);
        const traits = (await store.get("SELECT traits FROM accounts WHERE name = 'Acme'")) as { traits: string };
        expect(JSON.parse(traits.traits)).toMatchObject({ employees: 120 });
        // A second read finds nothing new after the checkpoint and changes nothing.
        const again = await read();
        expect(again.find((o) => o.stream === 'accounts')?.counts).toMatchObject({ inserted: 0, updated: 0 });
      } finally {
        await close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
