// A contact GDPR-deleted in HubSpot (it vanishes, no archived trace) leaves its list on the next run of a real job
// (runJob: read HubSpot, compute, push mirror) once the source's id reconciliation reads it as deleted.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import { sandboxConfig, startSandbox, type HubSpotSandbox } from '../../connectors/hubspot/index.js';
import { createRegistry } from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let sandbox: HubSpotSandbox;
const registry = createRegistry([...BUILTIN_CONNECTORS]);

beforeEach(async () => {
  dir = tempDir('segflow-hs-job-');
  sandbox = await startSandbox({
    seed: 'job-gdpr',
    people: 150,
    limits: { requestsPerInterval: 100_000, searchPerSecond: 100_000 },
  });
});
afterEach(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function pushed(result: JobResult) {
  for (const step of result.steps) if (step.kind === 'push') return step.outcome.segments[0];
  return undefined;
}

describe('a contact GDPR-deleted in HubSpot', () => {
  it('leaves its list on the next run, through the id reconciliation', { timeout: 60_000 }, async () => {
    const hubspot = JSON.stringify({ ...sandboxConfig(sandbox), searchPerSecond: 10_000, reconcileEveryHours: 0 });
    const file = join(dir, 'segflow.yaml');
    writeFileSync(
      file,
      `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  hubspot: { connector: hubspot, config: ${hubspot}, rate_limit: { requests: 100000, interval: 10s } }
destinations:
  lists: { connector: hubspot, config: ${hubspot}, identities_from: hubspot, rate_limit: { requests: 100000, interval: 10s } }
segments:
  - key: reachable
    name: Reachable
    rule: { trait: email, contains: '@' }
jobs:
  nightly:
    steps:
      - read: { sources: [hubspot], mode: incremental }
      - compute: { segments: [reachable] }
      - push: { destination: lists, segments: [reachable], mode: mirror }
`,
    );
    const config = await loadConfig(file, { registry, env: {} });
    const members = () => [
      ...([...sandbox.portal.lists.values()].find((l) => l.name === 'Reachable')?.members.keys() ?? []),
    ];

    const first = await runJob(config, 'nightly', { registry, computeIn: 'here' });
    expect(first.status).toBe('succeeded');
    const before = members();
    expect(before.length).toBeGreaterThan(20);
    const doomed = before[3] as string;

    const purge = await fetch(`${sandbox.url}/crm/v3/objects/contacts/gdpr-delete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.credentials.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ objectId: doomed }),
    });
    expect(purge.status).toBe(204);

    const second = await runJob(config, 'nightly', { registry, computeIn: 'here' });
    expect(second.status).toBe('succeeded');
    // HubSpot drops the membership with the contact; segflow must learn of the deletion and record the removal.
    expect(pushed(second)).toMatchObject({ added: 0, removed: 1, rejected: 0 });
    expect(members().sort()).toEqual(before.filter((id) => id !== doomed).sort());
  });
});
