import { writeFileSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { sandboxConfig, startSandbox } from '../../connectors/hubspot/index.js';
import { listTasks, liveWorkers, openStore } from '../../core/index.js';
import { runJob } from '../../sync/index.js';
import { postgres } from '../support/engines.js';
import { tempDir } from '../support/temp.js';
import { load, registry, startSegflowWorker, type WorkerChild } from './fixture.js';

const dir = tempDir('segflow-worker-budget-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// HubSpot's rolling limit scaled down (10 requests per rolling second instead of 100 per 10 s) so that the two
// pushes below (about 30 requests each) outrun it within seconds; the benchmark runs the real limit.
const LIMIT = { requestsPerInterval: 10, intervalMs: 1000 };

it('two segflow workers pushing to one HubSpot account together stay under its rolling limit', async () => {
  const people = Array.from({ length: 1_500 }, (_, i) => `c${i},p${i}@example.com,2026-01-01T00:00:00Z`);
  writeFileSync(join(dir, 'contacts.csv'), `id,email,updated_at\n${people.join('\n')}\n`);
  const sandbox = await startSandbox({ seed: 'budget', people: 10, limits: LIMIT, recordBodies: false });
  const place = await postgres.fresh();
  const workers: WorkerChild[] = [];
  try {
    const hubspot = JSON.stringify({ ...sandboxConfig(sandbox), createMissingContacts: true });
    const file = join(dir, 'segflow.yaml');
    writeFileSync(
      file,
      `store:
  url: ${JSON.stringify(place.location)}
sources:
  shop:
    connector: file
    config: { source: shop, contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} } }
destinations:
  crm: { connector: hubspot, config: ${hubspot}, rate_limit: { requests: 10, interval: 1s } }
segments:
  - { key: everyone, name: Everyone, rule: { trait: email, contains: '@' } }
  - { key: everyone_too, name: Everyone too, rule: { trait: email, contains: 'example' } }
jobs:
  nightly:
    steps:
      - read: { sources: [shop] }
      - compute: {}
      - push: { destination: crm, segments: [everyone, everyone_too] }
`,
    );
    const config = await load(file);
    workers.push(startSegflowWorker(file, '--poll-ms', '50'), startSegflowWorker(file, '--poll-ms', '50'));
    const store = await openStore(place.location);
    try {
      while ((await liveWorkers(store)).length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
      // Workers are running on the store: the run hands them its tasks without being told.
      const result = await runJob(config, 'nightly', { registry: registry(), taskPollMs: 100 });
      expect(result.status).toBe('succeeded');
      expect(result.counts.added).toBe(3_000);
      const pushes = (await listTasks(store, result.runId!)).filter((t) => t.kind === 'push');
      // Each worker pushed one segment, side by side.
      expect(new Set(pushes.map((t) => t.holder)).size).toBe(2);
    } finally {
      await store.close();
    }
    const counts = sandbox.limiter.counts();
    expect(counts.admitted).toBeGreaterThan(2 * LIMIT.requestsPerInterval);
    // HubSpot's own counters: never a request over the limit (none refused), no window above it.
    expect(sandbox.overLimit()).toBe(0);
    expect(counts.refused).toBe(0);
    expect(counts.peakInWindow).toBeLessThanOrEqual(LIMIT.requestsPerInterval);
    const lists = [...sandbox.portal.lists.values()];
    expect(lists.map((l) => [l.name, l.members.size]).sort(([a], [b]) => String(a).localeCompare(String(b)))).toEqual([
      ['Everyone', 1_500],
      ['Everyone too', 1_500],
    ]);
  } finally {
    for (const w of workers) w.process.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await sandbox.close();
    await place.remove();
  }
}, 120_000);
