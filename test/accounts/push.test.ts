import { describe, expect, it } from 'vitest';
import { destination as hubspot } from '../../connectors/hubspot/index.js';
import { destination as salesforce } from '../../connectors/salesforce/index.js';
import { computeAccountFeatures, evaluateAccountSegments, type AccountSegmentDefinition } from '../../core/index.js';
import { createContext, type DestinationDefinition, type SegmentRef } from '../../plugins/index.js';
import { createWorld } from '../../plugins/sandbox/index.js';
import { pushAccountSegments } from '../../sync/push/index.js';
import { engines } from '../support/engines.js';
import { configsOf, quiet, readTools, startTools } from './tools.js';

const SEGMENTS: AccountSegmentDefinition[] = [
  { key: 'large_firms', name: 'Large firms', rule: { trait: 'employees', gte: 1000 } },
  {
    key: 'software_teams',
    name: 'Software teams',
    rule: {
      all: [
        { trait: 'industry', contains: 'soft' },
        { members: { trait: 'email', exists: true }, count: { gte: 2 } },
      ],
    },
  },
];
const REFS: SegmentRef[] = SEGMENTS.map((s) => ({ key: s.key, name: s.name as string }));

for (const engine of engines) {
  describe(`account segments pushed to both CRMs (${engine.name})`, () => {
    it(
      'reach HubSpot company lists and the Salesforce Account field, a second run sends nothing, a firm that leaves is removed',
      { timeout: 180_000 },
      async () => {
        const world = createWorld({ seed: 'account-push', people: 600 });
        const { store, close } = await engine.open();
        const tools = await startTools(world);
        try {
          const configs = configsOf(tools);
          const targets: { connection: string; destination: DestinationDefinition; config: unknown; source: string }[] =
            [
              { connection: 'crm_lists', destination: hubspot, config: configs.hubspot, source: 'hubspot' },
              { connection: 'sf_accounts', destination: salesforce, config: configs.salesforce, source: 'salesforce' },
            ];
          const compute = async () => {
            await readTools(store, tools);
            await computeAccountFeatures(store, new Date(world.now));
            await evaluateAccountSegments(store, SEGMENTS, [], { now: new Date(world.now) });
          };
          const push = async () => {
            const out: Record<string, { added: number; removed: number; skipped: number; error?: string }> = {};
            for (const t of targets) {
              for (const o of await pushAccountSegments({
                store,
                destination: t.destination,
                config: t.config,
                ctx: createContext({ connection: t.connection, logger: quiet }),
                connection: t.connection,
                segments: REFS,
                identitiesFrom: t.source,
              }))
                out[`${t.connection}/${o.segment}`] = {
                  added: o.added,
                  removed: o.removed,
                  skipped: o.skipped,
                  ...(o.error ? { error: o.error } : {}),
                };
            }
            return out;
          };
          /** What each tool holds per segment, as tool ids, against the store's members' tool ids. */
          const compare = async () => {
            for (const t of targets)
              for (const segment of REFS) {
                const held = (
                  (await t.destination.readAccountMembership?.(
                    segment,
                    t.config as never,
                    createContext({ connection: t.connection, logger: quiet }),
                  )) ?? []
                )
                  .map((m) => String(m.externalId).slice(0, 15))
                  .sort();
                const want = (
                  (await store.all(
                    `SELECT ai.external_id FROM account_memberships m JOIN account_identities ai ON ai.account_id = m.account_id
                     WHERE m.segment_key = ? AND ai.source = ? AND ai.deleted = 0 ORDER BY ai.external_id`,
                    [segment.key, t.source],
                  )) as { external_id: string }[]
                )
                  .map((r) => r.external_id.slice(0, 15))
                  .sort();
                expect(held, `${t.connection}/${segment.key}`).toEqual(want);
              }
          };

          await compute();
          // Large firms, checked against the world's truth: every firm of 1,000 employees or more, in either tool.
          const large = (
            (await store.all(
              `SELECT ai.source || ':' || ai.external_id AS id FROM account_memberships m
               JOIN account_identities ai ON ai.account_id = m.account_id WHERE m.segment_key = 'large_firms'`,
            )) as { id: string }[]
          )
            .map((r) => r.id)
            .sort();
          const truth: string[] = [];
          for (let c = 0; c < world.firms; c++) {
            const firm = world.firm(c);
            if (firm.employees < 1000) continue;
            if (firm.hubspot) truth.push(`hubspot:${firm.hubspot.id}`);
            if (firm.salesforce) truth.push(`salesforce:${firm.salesforce.id}`);
          }
          expect(large).toEqual(truth.sort());
          expect(large.length).toBeGreaterThan(10);

          const first = await push();
          for (const [key, o] of Object.entries(first)) {
            expect(o.error, key).toBeUndefined();
            expect(o.added, key).toBeGreaterThan(0);
          }
          await compare();

          const second = await push();
          for (const [key, o] of Object.entries(second)) expect(o, key).toEqual({ added: 0, removed: 0, skipped: 0 });

          // A Salesforce user trims a large firm's headcount: the account leaves and both tools drop it.
          const leaving = Array.from({ length: world.firms }, (_, c) => world.firm(c)).find(
            (f) => f.employees >= 1000 && f.salesforce && f.hubspot,
          );
          expect(leaving).toBeDefined();
          tools.sf.org.touch(
            'Account',
            leaving?.salesforce?.id as string,
            { NumberOfEmployees: 40 },
            world.now + 60_000,
          );
          await compute();
          const third = await push();
          expect(third['crm_lists/large_firms']).toMatchObject({ added: 0, removed: 1 });
          expect(third['sf_accounts/large_firms']).toMatchObject({ added: 0, removed: 1 });
          await compare();
        } finally {
          await tools.close();
          await close();
        }
      },
    );
  });
}
