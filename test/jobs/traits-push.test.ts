/**
 * Mapped traits through a job (runJob: read, compute, push with `traits:`): adds carry features and contact traits
 * computed from what was read, a new order changes one member's features and sends exactly one update, an unchanged
 * run sends nothing, a dry run counts the update; and HubSpot's segmentProperty is written from the mapped trait,
 * on the add and on a later update.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { loadConfig, type Config } from '../../config/index.js';
import { sandboxConfig, startSandbox } from '../../connectors/hubspot/index.js';
import { createMemoryDestination, type MemoryDestination } from '../../connectors/memory/index.js';
import { openStore, readRun, storeDigest } from '../../core/index.js';
import { createRegistry, type Registry } from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let memory: MemoryDestination;
let registry: Registry;

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
type Order = { email: string; total: number; at: string };

function writeShop(orders: Order[]): void {
  writeFileSync(
    join(dir, 'contacts.csv'),
    'id,email,plan,updated_at\nc1,ada@example.com,pro,2024-01-01T00:00:00Z\nc2,bob@example.com,free,2024-01-02T00:00:00Z\nc3,cy@example.com,pro,2024-01-03T00:00:00Z\n',
  );
  writeFileSync(
    join(dir, 'events.jsonl'),
    `${orders.map((o, i) => JSON.stringify({ id: `e${i}`, type: 'order', email: o.email, total: o.total, occurred_at: o.at })).join('\n')}\n`,
  );
}

const orders: Order[] = [
  { email: 'ada@example.com', total: 120, at: daysAgo(10) },
  { email: 'bob@example.com', total: 30, at: daysAgo(100) },
  { email: 'ada@example.com', total: 80, at: daysAgo(20) },
];

async function config(): Promise<Config> {
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  shop:
    connector: file
    config:
      source: shop
      contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} }
      events: { path: ${JSON.stringify(join(dir, 'events.jsonl'))}, emailColumn: email, valueColumn: total, types: { order: purchase } }
destinations:
  lists: { connector: memory, config: {} }
segments:
  - key: buyers
    name: Bought in the last year
    rule: { event: purchase, within: 365d }
jobs:
  nightly:
    steps:
      - read: { sources: [shop], mode: full }
      - compute: { segments: [buyers] }
      - push: { destination: lists, segments: [buyers], mode: mirror, traits: { spend: feature:monetary_all, orders: frequency_all, plan: trait:plan } }
`,
  );
  return loadConfig(file, { registry, env: {} });
}

const pushOf = (result: JobResult) => result.steps.find((s) => s.kind === 'push');
const traitsOf = (email: string) =>
  [...(memory.segments.get('buyers')?.values() ?? [])].find((m) => m.email === email)?.traits;

beforeEach(() => {
  dir = tempDir('segflow-traits-job-');
  memory = createMemoryDestination();
  registry = createRegistry([...BUILTIN_CONNECTORS, memory.destination]);
  writeShop(orders);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a job pushing mapped traits', () => {
  it(
    'adds carry the features and traits read and computed; a new order sends one update; unchanged sends nothing',
    { timeout: 60_000 },
    async () => {
      const c = await config();
      const first = await runJob(c, 'nightly', { registry, computeIn: 'here' });
      expect(first.status).toBe('succeeded');
      expect(traitsOf('ada@example.com')).toEqual({ spend: 200, orders: 2, plan: 'pro' });
      expect(traitsOf('bob@example.com')).toEqual({ spend: 30, orders: 1, plan: 'free' });

      const unchanged = await runJob(c, 'nightly', { registry, computeIn: 'here' });
      expect(unchanged.status).toBe('succeeded');
      expect(unchanged.counts).toMatchObject({ added: 0, removed: 0, traits_updated: 0 });
      const batches = memory.batches.length;

      writeShop([...orders, { email: 'bob@example.com', total: 45, at: daysAgo(2) }]);
      const changed = await runJob(c, 'nightly', { registry, computeIn: 'here' });
      expect(changed.status).toBe('succeeded');
      const sent = memory.batches.slice(batches).flatMap((b) => b.changes);
      expect(sent.map((s) => [s.op, s.contact.email, s.traits])).toEqual([
        ['update', 'bob@example.com', { spend: 75, orders: 2, plan: 'free' }],
      ]);
      expect(traitsOf('bob@example.com')).toEqual({ spend: 75, orders: 2, plan: 'free' });
      const store = await openStore(c.store.path);
      try {
        expect((await readRun(store, changed.runId!))?.counts).toMatchObject({ added: 0, traits_updated: 1 });
      } finally {
        await store.close();
      }
      expect((await runJob(c, 'nightly', { registry, computeIn: 'here' })).counts).toMatchObject({
        added: 0,
        traits_updated: 0,
      });
    },
  );

  it(
    'a dry run after compute counts the update a real run would send, and changes nothing',
    { timeout: 60_000 },
    async () => {
      const c = await config();
      await runJob(c, 'nightly', { registry, computeIn: 'here' });
      writeShop([...orders, { email: 'ada@example.com', total: 10, at: daysAgo(1) }]);
      // read and compute only, by a job without the push
      const readCompute = { ...c, jobs: { refresh: { ...c.jobs.nightly!, steps: c.jobs.nightly!.steps.slice(0, 2) } } };
      expect((await runJob(readCompute, 'refresh', { registry, computeIn: 'here' })).status).toBe('succeeded');
      const store = await openStore(c.store.path);
      const digest = await storeDigest(store);
      await store.close();
      const batches = memory.batches.length;

      const dry = await runJob(c, 'nightly', { registry, dryRun: true });
      const push = pushOf(dry);
      expect(push?.kind === 'push' && push.outcome.segments[0]).toMatchObject({ added: 0, updated: 1, removed: 0 });
      expect(push?.kind === 'push' && push.outcome.segments[0]?.sample.map((s) => [s.op, s.email, s.traits])).toEqual([
        ['update', 'ada@example.com', { spend: 210, orders: 3, plan: 'pro' }],
      ]);
      expect(memory.batches).toHaveLength(batches);
      const after = await openStore(c.store.path);
      try {
        expect(await storeDigest(after)).toBe(digest);
      } finally {
        await after.close();
      }
    },
  );

  it('refuses a trait mapped from a model that is not defined, naming it', async () => {
    const c = await config();
    const step = c.jobs.nightly!.steps[2]!;
    if (!('push' in step)) throw new Error('expected the push step');
    step.push.traits = { churn_risk: 'churn.risk' };
    const result = await runJob(c, 'nightly', { registry, computeIn: 'here' });
    const push = pushOf(result);
    expect(push?.kind === 'push' && push.outcome.segments[0]?.error).toMatch(/no model "churn"/);
    expect(memory.batches).toHaveLength(0);
  });
});

describe('HubSpot segmentProperty through a job', () => {
  it(
    'writes the mapped trait as the contact property on the add, and again when it changes',
    { timeout: 60_000 },
    async () => {
      const sandbox = await startSandbox({
        seed: 'traits-job',
        people: 40,
        limits: { requestsPerInterval: 100_000, searchPerSecond: 100_000 },
      });
      try {
        const hubspot = { ...sandboxConfig(sandbox), searchPerSecond: 10_000, reconcileEveryHours: 0 };
        const file = join(dir, 'segflow.yaml');
        writeFileSync(
          file,
          `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  hubspot: { connector: hubspot, config: ${JSON.stringify(hubspot)}, rate_limit: { requests: 100000, interval: 10s } }
destinations:
  lists: { connector: hubspot, config: ${JSON.stringify({ ...hubspot, segmentProperty: 'segflow_city' })}, identities_from: hubspot, rate_limit: { requests: 100000, interval: 10s } }
segments:
  - key: reachable
    name: Reachable
    rule: { trait: email, contains: '@' }
jobs:
  nightly:
    steps:
      - read: { sources: [hubspot], mode: incremental }
      - compute: { segments: [reachable] }
      - push: { destination: lists, segments: [reachable], mode: mirror, traits: { segflow_city: trait:city } }
`,
        );
        const hubspotRegistry = createRegistry([...BUILTIN_CONNECTORS]);
        const c = await loadConfig(file, { registry: hubspotRegistry, env: {} });
        const first = await runJob(c, 'nightly', { registry: hubspotRegistry, computeIn: 'here' });
        expect(first.status).toBe('succeeded');
        const list = [...sandbox.portal.lists.values()].find((l) => l.name === 'Reachable');
        const members = [...(list?.members.keys() ?? [])];
        expect(members.length).toBeGreaterThan(5);
        const withCity = members
          .map((id) => sandbox.portal.contacts.get(id)!)
          .filter((contact) => contact.properties.city);
        expect(withCity.length).toBeGreaterThan(0);
        for (const contact of withCity) expect(contact.properties.segflow_city).toBe(contact.properties.city);

        const moved = withCity[0]!;
        const answer = await fetch(`${sandbox.url}/crm/v3/objects/contacts/batch/update`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sandbox.credentials.accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ id: moved.id, properties: { city: 'Carcassonne' } }] }),
        });
        expect(answer.ok).toBe(true);
        const second = await runJob(c, 'nightly', { registry: hubspotRegistry, computeIn: 'here' });
        expect(second.status).toBe('succeeded');
        expect(pushOf(second)?.kind === 'push' && pushOf(second)?.outcome.segments[0]).toMatchObject({
          added: 0,
          updated: 1,
          removed: 0,
        });
        expect(sandbox.portal.contacts.get(moved.id)?.properties.segflow_city).toBe('Carcassonne');
      } finally {
        await sandbox.close();
      }
    },
  );
});
