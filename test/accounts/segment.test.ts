import { describe, expect, it } from 'vitest';
import { destination as segment, sandboxConfig, startSandbox } from '../../connectors/segment/index.js';
import {
  computeAccountFeatures,
  evaluateAccountSegments,
  loadPage,
  type AccountSegmentDefinition,
  type Queryable,
} from '../../core/index.js';
import { createContext, type SegmentRef } from '../../plugins/index.js';
import type { StreamRecord } from '../../plugins/model/index.js';
import { mapMessage } from '../../server/ingest/segment-spec.js';
import { pushAccountSegments } from '../../sync/push/index.js';
import { engines } from '../support/engines.js';
import { quiet } from './tools.js';

const NOW = new Date('2026-06-30T12:00:00Z');
const SOFTWARE: AccountSegmentDefinition = {
  key: 'software_firms',
  name: 'Software firms',
  rule: { trait: 'industry', eq: 'Software' },
};
const REFS: SegmentRef[] = [{ key: SOFTWARE.key, name: SOFTWARE.name as string }];

/**
 * Three firms in HubSpot: Acme and Initech make software, Globex does not. Acme's people also use the app, whose
 * group calls name Acme `org_42` and its user `u1`; Initech is known to Segment by nothing yet.
 */
const crm: StreamRecord[] = [
  {
    kind: 'account',
    source: 'hubspot',
    externalId: 'c1',
    traits: { name: 'Acme', domain: 'acme.example', industry: 'Software' },
    members: ['h1', 'h2'],
  },
  {
    kind: 'account',
    source: 'hubspot',
    externalId: 'c2',
    traits: { name: 'Globex', domain: 'globex.example', industry: 'Energy' },
    members: ['h3'],
  },
  {
    kind: 'account',
    source: 'hubspot',
    externalId: 'c3',
    traits: { name: 'Initech', domain: 'initech.example', industry: 'Software' },
    members: ['h4'],
  },
  { kind: 'contact', source: 'hubspot', externalId: 'h1', traits: { email: 'ada@acme.example' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h2', traits: { email: 'bob@acme.example' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h3', traits: { email: 'cy@globex.example' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h4', traits: { email: 'dee@initech.example' } },
];
const app = [
  { type: 'identify', userId: 'u1', messageId: 'i1', traits: { email: 'bob@acme.example' } },
  {
    type: 'group',
    userId: 'u1',
    messageId: 'g1',
    groupId: 'org_42',
    traits: { name: 'Acme', website: 'acme.example' },
  },
].flatMap((m) => {
  const mapped = mapMessage(m, 'tracking', NOW);
  if (!mapped.ok) throw new Error(mapped.reason);
  return mapped.records;
});

const idOf = async (store: Queryable, sql: string) => String(((await store.get(sql)) as { id: number }).id);

for (const engine of engines) {
  describe(`account segments as Segment group calls (${engine.name})`, () => {
    it(
      'sends one group call per account that changed, as one of its members, and nothing on a second run',
      { timeout: 60_000 },
      async () => {
        const { store, close } = await engine.open();
        const sandbox = await startSandbox({ seed: 'accounts-group' });
        try {
          const config = segment.spec.parse(sandboxConfig(sandbox));
          await loadPage(store, { connection: 'crm', stream: 'all', records: crm, checkpoint: null, now: NOW });
          await loadPage(store, {
            connection: 'tracking',
            stream: 'realtime',
            records: app,
            checkpoint: null,
            now: NOW,
          });
          const compute = async () => {
            await computeAccountFeatures(store, NOW);
            await evaluateAccountSegments(store, [SOFTWARE], [], { now: NOW });
          };
          const push = async () => {
            const [outcome] = await pushAccountSegments({
              store,
              destination: segment,
              config,
              ctx: createContext({ connection: 'segment', logger: quiet }),
              connection: 'segment',
              segments: REFS,
              identitiesFrom: 'tracking',
            });
            return outcome;
          };
          await compute();
          const initech = await idOf(store, "SELECT id FROM accounts WHERE name = 'Initech'");
          const dee = await idOf(store, "SELECT id FROM contacts WHERE email = 'dee@initech.example'");

          expect(await push()).toMatchObject({ added: 2, removed: 0, rejected: 0, skipped: 0, notInTool: 0 });
          const groups = sandbox.workspace.messages.filter((m) => m.type === 'group');
          expect(sandbox.workspace.messages).toHaveLength(2);
          // Acme goes by the group id its app uses, sent as u1; Initech by segflow's account id, as its only member.
          expect(sandbox.workspace.groupIds()).toEqual(['org_42', initech].sort());
          expect(sandbox.workspace.group('org_42')).toEqual({
            groupId: 'org_42',
            traits: { name: 'Acme', website: 'acme.example', software_firms: true },
            userIds: ['u1'],
          });
          expect(sandbox.workspace.group(initech)).toEqual({
            groupId: initech,
            traits: { name: 'Initech', website: 'initech.example', software_firms: true },
            userIds: [dee],
          });

          expect(await push()).toMatchObject({ added: 0, removed: 0, rejected: 0, skipped: 0 });
          expect(sandbox.workspace.messages.filter((m) => m.type === 'group')).toHaveLength(groups.length);

          // Acme's industry changes in HubSpot: it leaves, and its exit reaches the same group as the same user.
          await loadPage(store, {
            connection: 'crm',
            stream: 'all',
            records: [
              {
                kind: 'account',
                source: 'hubspot',
                externalId: 'c1',
                traits: { name: 'Acme', domain: 'acme.example', industry: 'Retail' },
              },
            ],
            checkpoint: null,
            now: NOW,
          });
          await compute();
          expect(await push()).toMatchObject({ added: 0, removed: 1, rejected: 0 });
          expect(sandbox.workspace.group('org_42')?.traits.software_firms).toBe(false);
          expect(sandbox.workspace.group('org_42')?.userIds).toEqual(['u1']);
          expect(sandbox.workspace.group(initech)?.traits.software_firms).toBe(true);
          expect(await push()).toMatchObject({ added: 0, removed: 0 });
          expect(sandbox.workspace.messages).toHaveLength(3);

          // A delivery replayed after a lost record (the same entry) repeats its messageId: Segment drops it.
          await store.run("DELETE FROM account_delivered WHERE destination = 'segment'");
          expect(await push()).toMatchObject({ added: 1 });
          expect(sandbox.workspace.duplicates).toBe(1);
          expect(sandbox.workspace.messages).toHaveLength(3);
        } finally {
          await sandbox.close();
          await close();
        }
      },
    );
  });
}
