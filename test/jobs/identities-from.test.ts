// A destination's identities_from names a source CONNECTION of the config, which may be called anything ("crm"); the
// records it loads carry its connector's own source name ("hubspot"). Pushes must still find the contacts' tool ids.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import { sandboxConfig, startSandbox, type HubSpotSandbox } from '../../connectors/hubspot/index.js';
import { createRegistry } from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let sandbox: HubSpotSandbox;
const registry = createRegistry([...BUILTIN_CONNECTORS]);

beforeEach(async () => {
  dir = tempDir('segflow-identities-from-');
  sandbox = await startSandbox({
    seed: 'identities-from',
    people: 80,
    limits: { requestsPerInterval: 100_000, searchPerSecond: 100_000 },
  });
});
afterEach(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('identities_from naming a connection not called after its connector', () => {
  it('adds every member HubSpot holds to the list, by HubSpot id', { timeout: 60_000 }, async () => {
    const hubspot = JSON.stringify({ ...sandboxConfig(sandbox), searchPerSecond: 10_000 });
    const file = join(dir, 'segflow.yaml');
    writeFileSync(
      file,
      `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  crm: { connector: hubspot, config: ${hubspot}, streams: [contacts], rate_limit: { requests: 100000, interval: 10s } }
destinations:
  crm_lists: { connector: hubspot, config: ${hubspot}, identities_from: crm, rate_limit: { requests: 100000, interval: 10s } }
segments:
  - key: reachable
    name: Reachable
    rule: { trait: email, contains: '@' }
jobs:
  nightly:
    steps:
      - read: { sources: [crm], mode: full }
      - compute: { segments: [reachable] }
      - push: { destination: crm_lists, segments: [reachable], mode: mirror }
`,
    );
    const config = await loadConfig(file, { registry, env: {} });
    const result = await runJob(config, 'nightly', { registry, computeIn: 'here' });
    expect(result.status).toBe('succeeded');
    const push = result.steps.find((s) => s.kind === 'push');
    const outcome = push?.kind === 'push' ? push.outcome.segments[0] : undefined;
    const inList = [...([...sandbox.portal.lists.values()].find((l) => l.name === 'Reachable')?.members.keys() ?? [])];
    expect(outcome?.added ?? 0).toBeGreaterThan(20);
    expect(outcome?.skippedBy?.notInDestination ?? 0).toBe(0);
    expect(inList).toHaveLength(outcome!.added);
  });
});
