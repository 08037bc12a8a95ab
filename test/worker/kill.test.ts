import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTasks, openStore, storeDigest } from '../../core/index.js';
import { runJob, type JobResult } from '../../sync/index.js';
import { NOW, runHere, segmentSandbox, writeShop } from '../jobs/crash-fixture.js';
import { postgres } from '../support/engines.js';
import { tempDir } from '../support/temp.js';
import { load, registry, startSegflowWorker, startWorkerChild, writeShopConfig, type WorkerChild } from './fixture.js';
import type { SegmentSandbox } from '../../connectors/segment/index.js';

/**
 * Two workers on PostgreSQL: one is killed (or paused) in the middle of a task, the other finishes the run, and the
 * store and the destination end as after an uninterrupted run: no event, membership change or delivery lost or doubled.
 */
const dir = tempDir('segflow-worker-kill-');
let expected: { store: string; delivered: string; messages: number; events: number };

/**
 * What the Segment sandbox holds, with each user named by their email instead of their contact id: on PostgreSQL a
 * killed transaction uses up the ids it drew (sequences do not roll back), so a resumed load numbers contacts and
 * membership changes past a gap, and the ids Segment sees differ from an uninterrupted run's while the people,
 * traits and events are the same.
 */
async function deliveredByEmail(sandbox: SegmentSandbox, location: string): Promise<string> {
  const store = await openStore(location);
  let emails: Map<string, string>;
  try {
    const rows = (await store.all('SELECT id, email FROM contacts')) as { id: number; email: string | null }[];
    emails = new Map(rows.map((r) => [String(r.id), r.email ?? `no email ${r.id}`]));
  } finally {
    await store.close();
  }
  const who = (userId: string | null) => (userId === null ? null : (emails.get(userId) ?? `unknown ${userId}`));
  const messages = sandbox.workspace.messages
    .map((m) => JSON.stringify([m.type, who(m.userId), m.event ?? null]))
    .sort();
  const profiles = sandbox.workspace
    .profileIds()
    .map((id) => {
      const p = sandbox.workspace.profile(id)!;
      const traits = Object.entries(p.traits).sort(([a], [b]) => a.localeCompare(b));
      const events = p.events.map((e) => JSON.stringify([e.event, e.properties])).sort();
      return JSON.stringify([who(id), traits, events]);
    })
    .sort();
  return JSON.stringify({ messages, profiles });
}

async function eventCount(location: string): Promise<number> {
  const store = await openStore(location);
  try {
    return ((await store.get('SELECT COUNT(*) AS n FROM events')) as { n: number }).n;
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  writeShop(dir);
  const place = await postgres.fresh();
  const sandbox = await segmentSandbox();
  try {
    expect((await runHere(writeShopConfig(dir, 'reference', place.location, sandbox))).status).toBe('succeeded');
    const store = await openStore(place.location);
    try {
      expected = {
        store: await storeDigest(store),
        delivered: await deliveredByEmail(sandbox, place.location),
        messages: sandbox.workspace.messages.length,
        events: await eventCount(place.location),
      };
    } finally {
      await store.close();
    }
  } finally {
    await sandbox.close();
    await place.remove();
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A run of the shop on workers, on a fresh database: the run (waiting for its tasks) and what it needs. */
async function handedToWorkers(name: string): Promise<{
  file: string;
  location: string;
  sandbox: SegmentSandbox;
  run: Promise<JobResult>;
  remove(): Promise<void>;
}> {
  const place = await postgres.fresh();
  const sandbox = await segmentSandbox();
  const file = writeShopConfig(dir, name, place.location, sandbox);
  const config = await load(file);
  const run = runJob(config, 'nightly', { registry: registry(), workers: true, now: new Date(NOW), taskPollMs: 100 });
  return {
    file,
    location: place.location,
    sandbox,
    run,
    async remove() {
      await sandbox.close();
      await place.remove();
    },
  };
}

async function stopped(worker: WorkerChild): Promise<void> {
  worker.process.kill('SIGTERM');
  expect((await worker.exited).code).toBe(0);
}

async function expectUninterrupted(location: string, sandbox: SegmentSandbox, result: JobResult): Promise<void> {
  expect(result.status).toBe('succeeded');
  const store = await openStore(location);
  try {
    expect(await storeDigest(store)).toBe(expected.store);
  } finally {
    await store.close();
  }
  expect(await eventCount(location)).toBe(expected.events);
  expect(await deliveredByEmail(sandbox, location)).toBe(expected.delivered);
  expect(sandbox.workspace.messages.length).toBe(expected.messages);
}

describe('a worker killed in the middle of a task', () => {
  for (const [point, kind] of [
    ['page:2', 'read'],
    ['compute', 'compute'],
    ['slice:1', 'compute'],
    ['delivery:1', 'push'],
  ] as const) {
    it(`mid-${kind} (${point}): another worker re-claims the task and the run ends as an uninterrupted one`, async () => {
      const job = await handedToWorkers(`kill-${kind}`);
      try {
        const killed = startWorkerChild(job.file, point, 60_000);
        await killed.waitFor(`at ${point}`);
        killed.process.kill('SIGKILL');
        expect((await killed.exited).signal).toBe('SIGKILL');
        const other = startSegflowWorker(job.file, '--poll-ms', '100');
        const result = await job.run;
        await stopped(other);
        await expectUninterrupted(job.location, job.sandbox, result);
        const store = await openStore(job.location);
        try {
          // The task the killed worker held was claimed twice, and finished by the other worker.
          const tasks = await listTasks(store, result.runId!);
          const retried = tasks.filter((t) => t.attempts > 1);
          expect(retried.map((t) => t.kind)).toEqual([kind]);
          expect(retried[0]?.holder).not.toMatch(/^child-/);
          // The compute was split: a prepare task, a features task per slice, a segments task.
          expect(tasks.filter((t) => t.kind === 'compute').map((t) => (t.spec as { part?: string }).part)).toEqual([
            'prepare',
            'features',
            'features',
            'segments',
          ]);
          if (point.startsWith('slice')) expect(retried[0]?.spec).toMatchObject({ part: 'features', slice: 0 });
          if (point === 'compute') expect(retried[0]?.spec).toMatchObject({ part: 'segments' });
        } finally {
          await store.close();
        }
        if (kind === 'push') expect(job.sandbox.workspace.duplicates).toBeGreaterThan(0);
      } finally {
        await job.remove();
      }
    }, 180_000);
  }
});

describe('a worker paused past its lease', () => {
  it('cannot commit when it wakes: another worker finished its task, and the run ends as an uninterrupted one', async () => {
    const job = await handedToWorkers('paused');
    try {
      const paused = startWorkerChild(job.file, 'claim:read', 1500);
      await paused.waitFor('at claim:read');
      paused.process.kill('SIGSTOP');
      const other = startSegflowWorker(job.file, '--poll-ms', '100', '--lease-ms', '1500');
      const result = await job.run;
      paused.process.kill('SIGCONT');
      await paused.waitFor('finished');
      await stopped(other);
      expect(paused.out()).toMatch(/task \d+ read shop\/\w+: lost/);
      expect(paused.out()).not.toMatch(/: succeeded/);
      await expectUninterrupted(job.location, job.sandbox, result);
    } finally {
      await job.remove();
    }
  }, 180_000);
});
