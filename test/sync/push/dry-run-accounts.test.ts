/**
 * Dry runs plan account pushes (#28) as they plan contact segment pushes, on both engines: `segflow run --dry-run` (and
 * the console's dry run, which shows the same steps) lists each account segment's adds and removes per destination,
 * sends nothing (the HubSpot and Salesforce sandboxes see no request), and its counts are what the real run then sends.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { describeRun } from '../../../cli/commands/run.js';
import { loadConfig, type Config } from '../../../config/index.js';
import { sandboxConfig as hubspotConfig } from '../../../connectors/hubspot/index.js';
import { sandboxConfig as salesforceConfig } from '../../../connectors/salesforce/index.js';
import { createWorld } from '../../../plugins/sandbox/index.js';
import { runJob, type JobResult } from '../../../sync/index.js';
import { startTools } from '../../accounts/tools.js';
import { engines, storeYaml, type StoreLocation } from '../../support/engines.js';
import { tempDir } from '../../support/temp.js';

/** Per destination, the account segment's adds and removes in a run's push steps. */
function accountPushes(result: JobResult): Record<string, { added: number; removed: number }> {
  const out: Record<string, { added: number; removed: number }> = {};
  for (const step of result.steps)
    if (step.kind === 'push')
      for (const s of step.outcome.segments)
        if (s.accounts) out[`${step.destination}/${s.segment}`] = { added: s.added, removed: s.removed };
  return out;
}

for (const engine of engines) {
  describe(`a dry run plans account segment pushes (${engine.name})`, () => {
    const world = createWorld({ seed: 'dry-run-accounts', people: 400 });
    let tools: Awaited<ReturnType<typeof startTools>>;
    let place: StoreLocation;
    let config: Config;
    const registry = builtinRegistry();
    const requestsSeen = () => tools.hs.recorder.count() + tools.sf.recorder.count();
    const clearRecorders = () => {
      tools.hs.recorder.clear();
      tools.sf.recorder.clear();
    };
    const run = async (job: string, dryRun = false) => {
      const result = await runJob(config, job, {
        registry,
        now: new Date(world.now),
        computeIn: 'here',
        ...(dryRun ? { dryRun: true } : {}),
      });
      expect(result.status, result.error ?? JSON.stringify(result.steps)).toBe('succeeded');
      return result;
    };

    beforeAll(async () => {
      tools = await startTools(world);
      place = await engine.fresh();
      const dir = tempDir('segflow-dry-accounts-');
      const fast = '{ requests: 100000, interval: 10s }';
      const hs = JSON.stringify({ ...hubspotConfig(tools.hs), searchPerSecond: 10_000 });
      const sf = JSON.stringify(salesforceConfig(tools.sf));
      const file = join(dir, 'segflow.yaml');
      writeFileSync(
        file,
        `store: ${storeYaml(place.location)}
sources:
  hubspot: { connector: hubspot, config: ${hs}, streams: [contacts, companies], rate_limit: ${fast} }
  salesforce: { connector: salesforce, config: ${sf}, streams: [contacts, leads, accounts] }
destinations:
  crm_lists: { connector: hubspot, config: ${hs}, identities_from: hubspot, rate_limit: ${fast} }
  sf_accounts: { connector: salesforce, config: ${sf}, identities_from: salesforce }
account_segments:
  - { key: large_firms, name: Large firms, rule: { trait: employees, gte: 1000 } }
jobs:
  refresh:
    steps:
      - read: { sources: [hubspot, salesforce], mode: incremental }
      - compute: {}
  push:
    steps:
      - push: { destination: crm_lists, account_segments: [large_firms] }
      - push: { destination: sf_accounts, account_segments: [large_firms] }
`,
      );
      config = await loadConfig(file, { registry, env: {} });
      await run('refresh');
    }, 300_000);

    afterAll(async () => {
      await tools?.close();
      await place?.remove();
    }, 60_000);

    it('lists the adds per destination, sends nothing, and the real run sends exactly those', async () => {
      clearRecorders();
      const dry = await run('push', true);
      expect(requestsSeen(), 'a dry run sends nothing').toBe(0);
      const planned = accountPushes(dry);
      expect(Object.keys(planned).sort()).toEqual(['crm_lists/large_firms', 'sf_accounts/large_firms']);
      for (const [key, p] of Object.entries(planned)) {
        expect(p.added, key).toBeGreaterThan(5);
        expect(p.removed, key).toBe(0);
      }
      // the CLI prints them as it prints contact segments, with a sample of accounts
      const lines = describeRun(dry);
      const crm = lines.findIndex((l) => l.startsWith('1. push to crm_lists: would send'));
      expect(lines[crm + 1]).toMatch(
        new RegExp(`^   large_firms \\(accounts\\): ${planned['crm_lists/large_firms']!.added} added, 0 removed`),
      );
      expect(lines[crm + 2]).toMatch(/^ {5}\+ \S/);
      const sample = dry.steps.flatMap((s) => (s.kind === 'push' ? s.outcome.segments : []))[0]?.sample ?? [];
      expect(sample.length).toBe(5);
      expect(sample.every((c) => c.op === 'add' && c.account !== undefined)).toBe(true);

      const real = await run('push');
      expect(accountPushes(real)).toEqual(planned);
      expect(requestsSeen()).toBeGreaterThan(0);

      clearRecorders();
      const after = accountPushes(await run('push', true));
      for (const p of Object.values(after)) expect(p).toEqual({ added: 0, removed: 0 });
      expect(requestsSeen()).toBe(0);
    });

    it('lists the removes of a firm that left, and the real run sends exactly those', async () => {
      const leaving = Array.from({ length: world.firms }, (_, c) => world.firm(c)).find(
        (f) => f.employees >= 1000 && f.salesforce && f.hubspot,
      );
      expect(leaving).toBeDefined();
      tools.sf.org.touch('Account', leaving!.salesforce!.id, { NumberOfEmployees: 40 }, world.now + 60_000);
      await run('refresh');

      clearRecorders();
      const planned = accountPushes(await run('push', true));
      expect(requestsSeen(), 'a dry run sends nothing').toBe(0);
      expect(planned).toEqual({
        'crm_lists/large_firms': { added: 0, removed: 1 },
        'sf_accounts/large_firms': { added: 0, removed: 1 },
      });
      expect(accountPushes(await run('push'))).toEqual(planned);
    });
  });
}
