/**
 * A segment of accounts made in the console is pushed like `account_segments:` of the config: saved through the
 * library API with a tag, a job whose push step names the tag (`console_segments: [tag:b2b]`) computes it and fills
 * its HubSpot company list with exactly its accounts; a second run sends nothing; archived, it is pushed no more.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { loadConfig } from '../../../config/index.js';
import { destination as hubspot } from '../../../connectors/hubspot/index.js';
import { createContext } from '../../../plugins/index.js';
import { createWorld } from '../../../plugins/sandbox/index.js';
import { createServer } from '../../../server/index.js';
import { runJob } from '../../../sync/index.js';
import { configsOf, quiet, readTools, startTools } from '../../accounts/tools.js';
import { engines } from '../../support/engines.js';
import { tempDir } from '../../support/temp.js';

const ADMIN = 'account-push-admin-token-2c8e4a6b0d1f';
const RULE = {
  all: [
    { feature: 'members', gte: 2 },
    { trait: 'industry', exists: true },
  ],
};

for (const engine of engines) {
  describe(`a console segment of accounts pushed by a job (${engine.name})`, () => {
    it(
      'fills its HubSpot company list, sends nothing the second time, and stops once archived',
      { timeout: 180_000 },
      async () => {
        const world = createWorld({ seed: 'console-account-push', people: 300 });
        const { store, location, close } = await engine.open();
        const tools = await startTools(world);
        const dir = tempDir('segflow-account-push-');
        try {
          await readTools(store, tools);
          const hs = configsOf(tools).hubspot as { accessToken: string; basePath: string };
          writeFileSync(
            join(dir, 'segflow.yaml'),
            `store: { ${location.startsWith('postgres') ? 'url' : 'path'}: ${JSON.stringify(location)} }
sources:
  hubspot: { connector: hubspot, config: { accessToken: ${hs.accessToken}, basePath: ${JSON.stringify(hs.basePath)} } }
destinations:
  crm_lists:
    connector: hubspot
    config: { accessToken: ${hs.accessToken}, basePath: ${JSON.stringify(hs.basePath)} }
    identities_from: hubspot
jobs:
  accounts:
    steps:
      - compute: {}
      - push: { destination: crm_lists, console_segments: ["tag:b2b"] }
`,
          );
          const registry = builtinRegistry();
          const config = await loadConfig(join(dir, 'segflow.yaml'), { registry, env: {} });
          const now = new Date(world.now);
          const app = createServer({
            config,
            store,
            registry,
            logger: quiet,
            env: { SEGFLOW_ADMIN_TOKEN: ADMIN },
            now: () => now,
            startJob: () => Promise.resolve({ status: 'succeeded' }),
          });
          const post = async (path: string, body: unknown) => {
            const res = await app.request(path, {
              method: 'POST',
              headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
              body: JSON.stringify(body),
            });
            return { status: res.status, json: (await res.json()) as Record<string, unknown> };
          };
          const created = await post('/library/segments', {
            key: 'team_firms',
            kind: 'accounts',
            name: 'Firms with a team',
            tags: ['b2b'],
            rule: RULE,
          });
          expect(created.status, JSON.stringify(created.json)).toBe(201);

          const run = async () => {
            const result = await runJob(config, 'accounts', { registry, now, computeIn: 'here' });
            expect(result.status).toBe('succeeded');
            const push = result.steps.find((s) => s.kind === 'push') as
              { outcome: { segments: { segment: string; added: number; removed: number }[] } } | undefined;
            return push?.outcome.segments ?? [];
          };
          const held = async () =>
            (
              (await hubspot.readAccountMembership?.(
                { key: 'team_firms', name: 'Firms with a team' },
                configsOf(tools).hubspot as never,
                createContext({ connection: 'crm_lists', logger: quiet }),
              )) ?? []
            )
              .map((m) => String(m.externalId))
              .sort();
          const members = async () =>
            (
              (await store.all(
                `SELECT ai.external_id FROM account_memberships m JOIN account_identities ai ON ai.account_id = m.account_id
               WHERE m.segment_key = 'team_firms' AND ai.source = 'hubspot' AND ai.deleted = 0`,
              )) as { external_id: string }[]
            )
              .map((r) => r.external_id)
              .sort();

          const first = await run();
          expect(first).toEqual([expect.objectContaining({ segment: 'team_firms', removed: 0 })]);
          const want = await members();
          expect(want.length).toBeGreaterThan(0);
          expect(first[0]!.added).toBe(want.length);
          expect(await held()).toEqual(want);

          // its page lists its accounts (not contacts), searchable, and the CSV holds the same
          const ids = (
            (await store.all(
              "SELECT account_id FROM account_memberships WHERE segment_key = 'team_firms' ORDER BY account_id",
            )) as { account_id: number }[]
          ).map((r) => Number(r.account_id));
          const get = (path: string) => app.request(path, { headers: { Authorization: `Bearer ${ADMIN}` } });
          const page = (await (await get('/segments/team_firms/members?per_page=500')).json()) as {
            kind: string;
            total: number;
            members: { accountId: number; name: string | null; members: number }[];
          };
          expect(page.kind).toBe('accounts');
          expect(page.total).toBe(ids.length);
          expect(page.members.map((a) => a.accountId)).toEqual(ids);
          expect(page.members.every((a) => a.members >= 2)).toBe(true);
          const named = page.members.find((a) => a.name)!;
          const found = (await (
            await get(`/segments/team_firms/members?q=${encodeURIComponent(named.name!.toUpperCase())}`)
          ).json()) as { members: { accountId: number }[] };
          expect(found.members.map((a) => a.accountId)).toContain(named.accountId);
          const csv = (await (await get('/segments/team_firms/members.csv')).text()).trim().split('\r\n');
          expect(csv[0]).toBe('account_id,name,domain,members,entered_at');
          expect(csv.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(ids);

          expect(await run()).toEqual([expect.objectContaining({ segment: 'team_firms', added: 0, removed: 0 })]);

          const archived = await post('/library/segments/team_firms/archive', { version: 1 });
          expect(archived.json).toMatchObject({ archived: true });
          expect(await run()).toEqual([]);
          // the list keeps what was last sent: emptying it in the tool is a separate, explicit action
          expect(await held()).toEqual(want);
        } finally {
          await tools.close();
          await close();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });
}
