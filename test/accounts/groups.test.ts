import { describe, expect, it } from 'vitest';
import { loadPage, type Queryable } from '../../core/index.js';
import type { StreamRecord } from '../../plugins/model/index.js';
import { mapMessage } from '../../server/ingest/segment-spec.js';
import { engines } from '../support/engines.js';
import { seeded, shuffle } from '../store/fixtures.js';

const RECEIVED = new Date('2026-06-30T12:00:00Z');

/** Segment-spec messages as the tracking API maps them into records. */
const tracked = (messages: Record<string, unknown>[]): StreamRecord[] =>
  messages.flatMap((m) => {
    const mapped = mapMessage(m, 'tracking', RECEIVED);
    if (!mapped.ok) throw new Error(mapped.reason);
    return mapped.records;
  });

/** Acme in HubSpot (domain acme.example, one member), and the app's group calls naming Acme and Globex. */
const crm: StreamRecord[] = [
  {
    kind: 'account',
    source: 'hubspot',
    externalId: 'c1',
    traits: { name: 'Acme', domain: 'acme.example' },
    members: ['h1'],
  },
  { kind: 'contact', source: 'hubspot', externalId: 'h1', traits: { email: 'ada@acme.example' } },
];
const calls = tracked([
  {
    type: 'identify',
    userId: 'u1',
    messageId: 'i1',
    traits: { email: 'ada@acme.example' },
    timestamp: '2026-06-01T00:00:00Z',
  },
  {
    type: 'group',
    userId: 'u1',
    messageId: 'g1',
    groupId: 'org_42',
    timestamp: '2026-06-01T00:00:00Z',
    traits: { name: 'ACME Inc', website: 'https://www.acme.example', plan: 'pro', employees: '120' },
  },
  {
    type: 'group',
    userId: 'u1',
    messageId: 'g2',
    groupId: 'org_42',
    timestamp: '2026-06-20T00:00:00Z',
    traits: { plan: 'enterprise' },
  },
  {
    type: 'group',
    userId: 'u2',
    messageId: 'g3',
    groupId: 'org_42',
    timestamp: '2026-06-10T00:00:00Z',
    traits: { plan: 'team', industry: 'Software' },
  },
  {
    type: 'group',
    anonymousId: 'v9',
    messageId: 'g4',
    groupId: 'org_7',
    timestamp: '2026-06-05T00:00:00Z',
    traits: { name: 'Globex', website: 'globex.example' },
  },
  { type: 'group', userId: 'u2', messageId: 'g5', groupId: 'org_7', timestamp: '2026-06-06T00:00:00Z', traits: {} },
]);

/** Each live account: its identities' tool ids, a few traits, and its members by their tool ids. */
async function accountsOf(store: Queryable) {
  const accounts = (await store.all('SELECT id, name, domain, traits FROM accounts WHERE deleted = 0')) as {
    id: number;
    name: string | null;
    domain: string | null;
    traits: string;
  }[];
  const out: Record<string, unknown> = {};
  for (const a of accounts) {
    const ids = (await store.all(
      "SELECT source || ':' || external_id AS id FROM account_identities WHERE account_id = ? ORDER BY id",
      [a.id],
    )) as { id: string }[];
    const members = (await store.all(
      `SELECT DISTINCT i.source || ':' || i.external_id AS id FROM account_members am JOIN identities i ON i.contact_id = am.contact_id
       WHERE am.account_id = ? ORDER BY id`,
      [a.id],
    )) as { id: string }[];
    const traits = JSON.parse(a.traits) as Record<string, unknown>;
    out[ids.map((r) => r.id).join(',')] = {
      domain: a.domain,
      plan: traits.plan ?? null,
      industry: traits.industry ?? null,
      employees: traits.employees ?? null,
      members: members.map((m) => m.id),
    };
  }
  return out;
}

const expected = {
  'hubspot:c1,tracking:org_42': {
    domain: 'acme.example',
    plan: 'enterprise',
    industry: 'Software',
    employees: 120,
    members: ['hubspot:h1', 'tracking:u1', 'tracking:u2'],
  },
  'tracking:org_7': {
    domain: 'globex.example',
    plan: null,
    industry: null,
    employees: null,
    members: ['tracking:anonymous:v9', 'tracking:u2'],
  },
};

for (const engine of engines) {
  describe(`tracking group calls become accounts (${engine.name})`, () => {
    it('links each caller to the group, matches it to the CRM account by its website, each trait from the latest call', async () => {
      const { store, close } = await engine.open();
      try {
        await loadPage(store, { connection: 'crm', stream: 'companies', records: crm, checkpoint: null });
        await loadPage(store, { connection: 'website', stream: 'realtime', records: calls, checkpoint: null });
        expect(await accountsOf(store)).toEqual(expected);
        // A replayed delivery changes nothing.
        await loadPage(store, { connection: 'website', stream: 'realtime', records: calls, checkpoint: null });
        expect(await accountsOf(store)).toEqual(expected);
      } finally {
        await close();
      }
    });

    it(
      'ends the same whatever order and pages the calls and the CRM records arrive in',
      { timeout: 60_000 },
      async () => {
        for (let seed = 1; seed <= 4; seed++) {
          const random = seeded(seed);
          const records = shuffle([...crm, ...calls], random);
          const { store, close } = await engine.open();
          try {
            for (let start = 0; start < records.length;) {
              const size = 1 + Math.floor(random() * 3);
              await loadPage(store, {
                connection: 'mixed',
                stream: 'all',
                records: records.slice(start, start + size),
                checkpoint: null,
              });
              start += size;
            }
            expect(await accountsOf(store), `seed ${seed}`).toEqual(expected);
          } finally {
            await close();
          }
        }
      },
    );
  });
}
