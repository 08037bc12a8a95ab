// A contact deleted in Salesforce leaves its segments everywhere, through a real job (runJob: read Salesforce,
// compute, push mirror) against the Salesforce sandbox: its CampaignMember is gone, the field-mode destination and a
// second destination drop it, and nothing is rejected.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import { createMemoryDestination, type MemoryDestination } from '../../connectors/memory/index.js';
import {
  destination as salesforceDestination,
  salesforceSpec,
  sandboxConfig,
  startSandbox,
  type SalesforceSandbox,
} from '../../connectors/salesforce/index.js';
import { createContext, createRegistry, type Registry } from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let dir: string;
let sandbox: SalesforceSandbox;
let memory: MemoryDestination;
let registry: Registry;

beforeEach(async () => {
  dir = tempDir('segflow-sf-job-');
  sandbox = await startSandbox({ seed: 'job-delete', people: 150 });
  memory = createMemoryDestination();
  registry = createRegistry([...BUILTIN_CONNECTORS, memory.destination]);
});
afterEach(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

async function jobConfig() {
  const sf = JSON.stringify(sandboxConfig(sandbox));
  const fields = JSON.stringify({ ...sandboxConfig(sandbox), membership: { mode: 'field', field: 'Segments__c' } });
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  salesforce: { connector: salesforce, config: ${sf} }
destinations:
  campaigns: { connector: salesforce, config: ${sf}, identities_from: salesforce }
  fields: { connector: salesforce, config: ${fields}, identities_from: salesforce }
  lists: { connector: memory, config: {} }
segments:
  - key: reachable
    name: Reachable
    rule: { trait: email, contains: '@' }
jobs:
  nightly:
    steps:
      - read: { sources: [salesforce], mode: incremental }
      - compute: { segments: [reachable] }
      - push: { destination: campaigns, segments: [reachable], mode: mirror }
      - push: { destination: fields, segments: [reachable], mode: mirror }
      - push: { destination: lists, segments: [reachable], mode: mirror }
`,
  );
  return loadConfig(file, { registry, env: {} });
}

function pushed(result: JobResult, connection: string) {
  for (const step of result.steps)
    if (step.kind === 'push' && step.outcome.connection === connection) return step.outcome.segments[0];
  return undefined;
}

/** Live CampaignMembers of the segment's campaign, by person id. */
function campaignMembers(): Set<string> {
  const campaign = [...sandbox.org.table('Campaign').values()].find((c) => c.Name === 'Reachable' && !c.IsDeleted);
  const members = [...sandbox.org.table('CampaignMember').values()].filter(
    (m) => m.CampaignId === campaign?.Id && !m.IsDeleted,
  );
  return new Set(members.map((m) => String(m.ContactId ?? m.LeadId)));
}

describe('a contact deleted in Salesforce', () => {
  it(
    'leaves its segment everywhere on the next run: campaign member, segment field and the other destination',
    { timeout: 60_000 },
    async () => {
      const config = await jobConfig();
      const first = await runJob(config, 'nightly', { registry, computeIn: 'here', now: new Date(sandbox.world.now) });
      expect(first.status).toBe('succeeded');

      const contacts = [...sandbox.org.table('Contact').values()].filter(
        (c) => !c.IsDeleted && typeof c.Email === 'string',
      );
      const emailCount = new Map<string, number>();
      for (const type of ['Contact', 'Lead']) {
        for (const row of sandbox.org.table(type).values()) {
          if (!row.IsDeleted && typeof row.Email === 'string')
            emailCount.set(row.Email.toLowerCase(), (emailCount.get(row.Email.toLowerCase()) ?? 0) + 1);
        }
      }
      const doomed = contacts.find(
        (c) =>
          emailCount.get(String(c.Email).toLowerCase()) === 1 &&
          ![...sandbox.org.table('Lead').values()].some((l) => l.ConvertedContactId === c.Id),
      );
      expect(doomed).toBeDefined();
      const id = String(doomed?.Id);
      const email = String(doomed?.Email).toLowerCase();
      expect(campaignMembers().has(id)).toBe(true);
      expect(sandbox.org.table('Contact').get(id)?.Segments__c).toBe('Reachable');
      expect([...(memory.segments.get('reachable')?.keys() ?? [])].length).toBeGreaterThan(20);
      expect([...(memory.segments.get('reachable')?.values() ?? [])].some((m) => m.email === email)).toBe(true);

      sandbox.org.advance(60_000);
      sandbox.org.softDelete('Contact', id);
      const second = await runJob(config, 'nightly', { registry, computeIn: 'here', now: new Date(sandbox.world.now) });
      expect(second.status).toBe('succeeded');

      expect(campaignMembers().has(id)).toBe(false);
      expect([...(memory.segments.get('reachable')?.values() ?? [])].some((m) => m.email === email)).toBe(false);
      for (const connection of ['campaigns', 'fields', 'lists']) {
        expect(pushed(second, connection)).toMatchObject({ added: 0, removed: 1, rejected: 0 });
      }
      const ctx = createContext({ connection: 'check', logger: quiet });
      const held = await salesforceDestination.readMembership(
        { key: 'reachable', name: 'Reachable' },
        salesforceSpec.parse({ ...sandboxConfig(sandbox), membership: { mode: 'field' } }),
        ctx,
      );
      expect(held.some((m) => m.externalId === id)).toBe(false);
      expect(held.length).toBe(campaignMembers().size);
    },
  );
});
