// A job pushes console segments (stored in the store, picked by key or tag) like config ones, to the HubSpot sandbox
// through a real runJob (read, compute, push mirror); archiving one stops its pushes. Also when the run is handed to
// workers on PostgreSQL: a worker holds only the config file, so it must find the console segments in the store.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob, runWorker, type JobResult, type RunJobOptions } from '../../sync/index.js';
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
import { engines, storeYaml } from '../support/engines.js';
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

const cases = [
  { label: 'in one process (SQLite)', engine: 'sqlite', workers: false },
  { label: 'on two workers (PostgreSQL)', engine: 'postgres', workers: true },
] as const;

describe('a job pushing console segments', () => {
  for (const { label, engine: engineName, workers } of cases) {
    it(
      `pushes a console segment picked by tag, and stops once it is archived, ${label}`,
      { timeout: 90_000 },
      async () => {
        const engine = engines.find((e) => e.name === engineName)!;
        const place = await engine.fresh();
        const hubspot = JSON.stringify({ ...sandboxConfig(sandbox), searchPerSecond: 10_000, reconcileEveryHours: 0 });
        const file = join(dir, 'segflow.yaml');
        writeFileSync(
          file,
          `store: ${storeYaml(place.location)}
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
        const stopWorkers = new AbortController();
        const running = workers
          ? ['w1', 'w2'].map((holder) =>
              runWorker(config, { registry, holder, signal: stopWorkers.signal, pollMs: 20, computeIn: 'here' }),
            )
          : [];
        const options: RunJobOptions = workers
          ? { registry, workers: true, taskPollMs: 50 }
          : { registry, computeIn: 'here' };
        const store = await openStore(place.location);
        try {
          await createStoredSegment(
            store,
            { key: 'reachable', name: 'Reachable', rule: { trait: 'email', contains: '@' }, tags: ['crm'] },
            'admin',
          );
          const members = () => [
            ...([...sandbox.portal.lists.values()].find((l) => l.name === 'Reachable')?.members.keys() ?? []),
          ];

          const first = await runJob(config, 'nightly', options);
          expect(first.status, first.error).toBe('succeeded');
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
          const second = await runJob(config, 'nightly', options);
          expect(second.status, second.error).toBe('succeeded');
          expect(pushedKeys(second)).toEqual([]);
          expect(members().sort()).toEqual([...inList].sort());
        } finally {
          stopWorkers.abort();
          await Promise.all(running);
          await store.close();
          await place.remove();
        }
      },
    );
  }
});
