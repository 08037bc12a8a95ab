// A destination that refuses the credentials (401/403) fails the run with a configuration error and leaves every row
// pending; once the token is fixed, the next run delivers every row exactly once. Through runJob (read a file, compute,
// push mirror) against each tool's sandbox with its real SDK.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import * as hubspot from '../../connectors/hubspot/index.js';
import * as mailchimp from '../../connectors/mailchimp/index.js';
import * as salesforce from '../../connectors/salesforce/index.js';
import * as segment from '../../connectors/segment/index.js';
import {
  findContactByExternalId,
  loadPage,
  openStore,
  readDeliveredState,
  recordPushOutcomes,
} from '../../core/index.js';
import { migrations } from '../../core/store/migrations.js';
import { createRegistry } from '../../plugins/index.js';
import { engines, storeYaml, type TestEngine } from '../support/engines.js';

const PEOPLE = 24;
const registry = createRegistry([...BUILTIN_CONNECTORS]);
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'segflow-refused-'));
  const rows = Array.from(
    { length: PEOPLE },
    (_, i) => `p${i},person.${i}@refused.example.com,Person,Number${i},2026-01-0${1 + (i % 9)}T00:00:00Z,subscribed`,
  );
  writeFileSync(
    join(dir, 'people.csv'),
    ['id,email,first_name,last_name,updated_at,email_consent', ...rows].join('\n'),
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function job(connector: string, destination: Record<string, unknown>, store: string) {
  const file = join(dir, 'segflow.yaml');
  const people = JSON.stringify({ contacts: { path: join(dir, 'people.csv') } });
  writeFileSync(
    file,
    `store: ${storeYaml(store)}
sources:
  people: { connector: file, config: ${people} }
destinations:
  tool: { connector: ${connector}, config: ${JSON.stringify(destination)}, rate_limit: { requests: 100000, interval: 10s } }
segments:
  - key: everyone
    name: Everyone
    rule: { trait: email, contains: '@' }
jobs:
  nightly:
    steps:
      - read: { sources: [people], mode: incremental }
      - compute: { segments: [everyone] }
      - push: { destination: tool, segments: [everyone], mode: mirror }
`,
  );
  const config = await loadConfig(file, { registry, env: {} });
  return async () => await runJob(config, 'nightly', { registry, computeIn: 'here', retryDelayMs: 1 });
}

function pushed(result: JobResult) {
  const step = result.steps.find((s) => s.kind === 'push');
  return step?.kind === 'push' ? step.outcome : undefined;
}

async function delivered(location: string): Promise<{ status: string }[]> {
  const store = await openStore(location);
  try {
    return await readDeliveredState(store, 'tool', 'everyone');
  } finally {
    await store.close();
  }
}

interface Tool {
  name: string;
  start(): Promise<{
    bad: Record<string, unknown>;
    good: Record<string, unknown>;
    members(): number | Promise<number>;
    close(): Promise<void>;
  }>;
}

const tools: Tool[] = [
  {
    name: 'hubspot',
    async start() {
      const sandbox = await hubspot.startSandbox({
        seed: 'refused',
        people: 60,
        limits: { requestsPerInterval: 100_000 },
      });
      const good = { ...hubspot.sandboxConfig(sandbox), createMissingContacts: true };
      return {
        good,
        bad: { ...good, accessToken: 'pat-na1-revoked' },
        members: () => [...sandbox.portal.lists.values()].find((l) => l.name === 'Everyone')?.members.size ?? 0,
        close: () => sandbox.close(),
      };
    },
  },
  {
    name: 'salesforce',
    async start() {
      const sandbox = await salesforce.startSandbox({ seed: 'refused', people: 60 });
      const good = { ...salesforce.sandboxConfig(sandbox, 'token'), createLeads: true };
      return {
        good,
        bad: { ...good, accessToken: '00D000000000001!expired' },
        members: () => {
          const campaign = [...sandbox.org.table('Campaign').values()].find((c) => c.Name === 'Everyone');
          return [...sandbox.org.table('CampaignMember').values()].filter((m) => m.CampaignId === campaign?.Id).length;
        },
        close: () => sandbox.close(),
      };
    },
  },
  {
    name: 'mailchimp',
    async start() {
      const sandbox = await mailchimp.startSandbox({ seed: 'refused', people: 60 });
      const audienceId = sandbox.world.audiences[0]!.id;
      const good = { ...mailchimp.sandboxConfig(sandbox), audienceId, addMissingAs: 'transactional' };
      return {
        good,
        bad: { ...good, apiKey: '0123456789abcdef0123456789abcdef-us21' },
        members: () => sandbox.account.segmentByName(audienceId, 'Everyone')?.members.size ?? 0,
        close: () => sandbox.close(),
      };
    },
  },
  {
    name: 'segment',
    async start() {
      // Segment's tracking API answers a wrong write key 200 and drops the messages (check reports the key unverified
      // without a Public API token); the sandbox refuses it here to stand for an endpoint that answers 401.
      const sandbox = await segment.startSandbox({ seed: 'refused', refuseWrongWriteKey: true });
      const good = segment.sandboxConfig(sandbox);
      return {
        good,
        bad: { ...good, writeKey: 'a-revoked-write-key' },
        members: () =>
          new Set(sandbox.workspace.messages.filter((m) => m.type === 'track').map((m) => m.userId ?? m.anonymousId))
            .size,
        close: () => sandbox.close(),
      };
    },
  },
];

// Every tool on SQLite; on PostgreSQL one tool stands for the rest (the store work is the same, the run time is not).
const cases: [Tool, TestEngine][] = engines.flatMap((engine) =>
  tools.filter((t) => engine.name === 'sqlite' || t.name === 'hubspot').map((t): [Tool, TestEngine] => [t, engine]),
);

describe('a destination that refuses the credentials', () => {
  for (const [tool, engine] of cases) {
    it(
      `${tool.name} on ${engine.name}: fails the run with a configuration error, keeps every row pending, and delivers each once after the fix`,
      { timeout: 60_000 },
      async () => {
        const sandbox = await tool.start();
        const place = await engine.fresh();
        try {
          const refused = await (await job(tool.name, sandbox.bad, place.location))();
          expect(refused.status).toBe('failed');
          expect(refused.error).toMatch(/push to tool: configuration error/);
          expect(pushed(refused)).toMatchObject({ status: 'failed', configError: expect.any(String) });
          expect(pushed(refused)?.segments[0]).toMatchObject({ added: 0, rejected: 0, pending: PEOPLE });
          expect((await delivered(place.location)).filter((r) => r.status === 'rejected')).toEqual([]);
          expect(await sandbox.members()).toBe(0);

          const fixed = await (await job(tool.name, sandbox.good, place.location))();
          expect(fixed.status).toBe('succeeded');
          expect(pushed(fixed)?.segments[0]).toMatchObject({ added: PEOPLE, rejected: 0, pending: 0 });
          expect(await sandbox.members()).toBe(PEOPLE);

          const again = await (await job(tool.name, sandbox.good, place.location))();
          expect(pushed(again)?.segments[0]).toMatchObject({ added: 0, removed: 0, batches: 0 });
        } finally {
          await sandbox.close();
          await place.remove();
        }
      },
    );
  }
});

describe('a store whose rows were rejected for a refused token', () => {
  it('has them pending again after the migration, while rows rejected for their own fault stay rejected', async () => {
    const path = join(dir, 'old.db');
    const before = await openStore(path, {
      migrations: migrations.filter((m) => !m.name.endsWith('_requeue_auth_rejections')),
    });
    const emails = ['a@example.com', 'b@example.com', 'not-an-email'];
    await loadPage(before, {
      connection: 'crm',
      stream: 'contacts',
      records: emails.map((email, i) => ({ kind: 'contact', source: 'crm', externalId: `c${i}`, traits: { email } })),
      checkpoint: null,
    });
    const [a, b, bad] = await Promise.all(
      emails.map(async (_, i) => (await findContactByExternalId(before, 'crm', `c${i}`))!.id),
    );
    await recordPushOutcomes(before, {
      destination: 'lists',
      segmentKey: 'vip',
      outcomes: [
        { contactId: a!, op: 'add', status: 'rejected', reason: 'Authentication credentials not found.', code: '401' },
        { contactId: b!, op: 'add', status: 'rejected', reason: 'This app lacks the crm.lists scope', code: '403' },
        {
          contactId: bad!,
          op: 'add',
          status: 'rejected',
          reason: 'Email address not-an-email is invalid',
          code: '400',
        },
      ],
    });
    await before.close();

    const after = await openStore(path);
    try {
      const rows = await readDeliveredState(after, 'lists', 'vip');
      expect(rows.map((r) => [r.contactId, r.status, r.attempts])).toEqual([
        [a, 'retryable', 0],
        [b, 'retryable', 0],
        [bad, 'rejected', 1],
      ]);
    } finally {
      await after.close();
    }
  });
});
