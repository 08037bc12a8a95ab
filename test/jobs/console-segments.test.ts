// A job pushes console segments (stored in the store, picked by key or tag) like config ones, to the HubSpot sandbox
// through a real runJob (read, compute, push mirror); archiving one stops its pushes.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import { sandboxConfig, startSandbox, type HubSpotSandbox } from '../../connectors/hubspot/index.js';
import {
  archiveStoredSegment,
  createStoredSegment,
  openStore,
  readMemberships,
  saveStoredSegment,
} from '../../core/index.js';
import { createRegistry } from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let sandbox: HubSpotSandbox;
const registry = createRegistry([...BUILTIN_CONNECTORS]);

beforeEach(async () => {
  dir = tempDir('segflow-console-job-');
  sandbox = await startSandbox({
    seed: 'console-segments',
    people: 120,
    limits: { requestsPerInterval: 100_000, searchPerSecond: 100_000 },
  });
});
afterEach(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const pushedKeys = (result: JobResult) =>
  result.steps.flatMap((s) => (s.kind === 'push' ? s.outcome.segments.map((x) => x.segment) : []));

describe('a job pushing console segments', () => {
  it('pushes a console segment picked by tag, and stops once it is archived', { timeout: 90_000 }, async () => {
    const hubspot = JSON.stringify({ ...sandboxConfig(sandbox), searchPerSecond: 10_000, reconcileEveryHours: 0 });
    const file = join(dir, 'segflow.yaml');
    const storePath = join(dir, 'segflow.db');
    writeFileSync(
      file,
      `store:
  path: ${JSON.stringify(storePath)}
sources:
  hubspot: { connector: hubspot, config: ${hubspot}, rate_limit: { requests: 100000, interval: 10s } }
destinations:
  lists: { connector: hubspot, config: ${hubspot}, identities_from: hubspot, rate_limit: { requests: 100000, interval: 10s } }
jobs:
  nightly:
    steps:
      - read: { sources: [hubspot], mode: incremental }
      - compute: {}
      - push: { destination: lists, console_segments: ['tag:crm'], mode: mirror }
`,
    );
    const config = await loadConfig(file, { registry, env: {} });
    const store = await openStore(storePath);
    try {
      await createStoredSegment(
        store,
        { key: 'reachable', name: 'Reachable', rule: { trait: 'email', contains: '@' }, tags: ['crm'] },
        'admin',
      );
      const members = () => [
        ...([...sandbox.portal.lists.values()].find((l) => l.name === 'Reachable')?.members.keys() ?? []),
      ];

      const first = await runJob(config, 'nightly', { registry, computeIn: 'here' });
      expect(first.status).toBe('succeeded');
      expect(pushedKeys(first)).toEqual(['reachable']);
      const inList = members();
      expect(inList.length).toBeGreaterThan(20);
      expect(inList.length).toBe((await readMemberships(store, 'reachable')).length);

      // narrowed, then archived: the list keeps what was last pushed, nothing is sent for it any more
      await saveStoredSegment(
        store,
        'reachable',
        1,
        { name: 'Reachable', rule: { trait: 'email', contains: 'zz' }, tags: ['crm'] },
        'admin',
      );
      await archiveStoredSegment(store, 'reachable', 2, 'admin');
      const second = await runJob(config, 'nightly', { registry, computeIn: 'here' });
      expect(second.status).toBe('succeeded');
      expect(pushedKeys(second)).toEqual([]);
      expect(members().sort()).toEqual([...inList].sort());
    } finally {
      await store.close();
    }
  });
});
