import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTasks, openStore, storeDigest } from '../../core/index.js';
import { runJob, runWorker } from '../../sync/index.js';
import { NOW, runHere, sandboxDigest, segmentSandbox, writeShop } from '../jobs/crash-fixture.js';
import { engines, type TestEngine } from '../support/engines.js';
import { tempDir } from '../support/temp.js';
import { load, registry, startSegflowWorker, writeShopConfig } from './fixture.js';

const dir = tempDir('segflow-workers-');
beforeAll(() => writeShop(dir));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shop's job run once in one process on `engine`: what a run on workers must leave. */
async function reference(engine: TestEngine): Promise<{ store: string; sandbox: string; messages: number }> {
  const place = await engine.fresh();
  const sandbox = await segmentSandbox();
  try {
    const result = await runHere(writeShopConfig(dir, `reference-${engine.name}`, place.location, sandbox));
    expect(result.status).toBe('succeeded');
    const store = await openStore(place.location);
    try {
      return {
        store: await storeDigest(store),
        sandbox: await sandboxDigest(sandbox, place.location),
        messages: sandbox.workspace.messages.length,
      };
    } finally {
      await store.close();
    }
  } finally {
    await sandbox.close();
    await place.remove();
  }
}

for (const engine of engines) {
  // SQLite: a `segflow worker` process beside the run (two connections in one thread would wait on each other's
  // write lock); PostgreSQL: two workers in this process.
  const count = engine.name === 'postgres' ? 2 : 1;
  describe(`a run handed to ${count} worker(s) (${engine.name})`, () => {
    it('splits into a task per stream, the compute in slices and a task per segment, and ends as a run in one process does', async () => {
      const expected = await reference(engine);
      const place = await engine.fresh();
      const sandbox = await segmentSandbox();
      const stop = new AbortController();
      try {
        const file = writeShopConfig(dir, `workers-${engine.name}`, place.location, sandbox);
        const config = await load(file);
        const child = engine.name === 'sqlite' ? startSegflowWorker(file, '--poll-ms', '50') : undefined;
        const workers = Array.from({ length: child ? 0 : count }, (_, i) =>
          runWorker(config, {
            registry: registry(),
            holder: `w${i}`,
            signal: stop.signal,
            pollMs: 20,
            computeIn: 'here',
            retryDelayMs: 1,
          }),
        );
        const result = await runJob(config, 'nightly', {
          registry: registry(),
          workers: true,
          now: new Date(NOW),
          taskPollMs: 50,
        });
        stop.abort();
        await Promise.all(workers);
        if (child) {
          child.process.kill('SIGTERM');
          expect((await child.exited).code).toBe(0);
          expect(child.out()).toContain('stopped after 8 tasks');
        }
        expect(result.status).toBe('succeeded');
        expect(result.steps.map((s) => s.kind)).toEqual(['read', 'compute', 'push']);
        const push = result.steps[2];
        expect(push?.kind === 'push' && push.outcome.segments.map((s) => s.segment)).toEqual(['buyers', 'lapsed']);
        const store = await openStore(place.location);
        try {
          expect(await storeDigest(store)).toBe(expected.store);
          const tasks = await listTasks(store, result.runId!);
          expect(tasks.map((t) => `${t.kind} ${(t.spec as { part?: string }).part ?? ''} ${t.status}`)).toEqual([
            'read  succeeded',
            'read  succeeded',
            'compute prepare succeeded',
            'compute features succeeded',
            'compute features succeeded',
            'compute segments succeeded',
            'push  succeeded',
            'push  succeeded',
          ]);
          // The slices together recomputed every contact, each once.
          const slices = tasks.filter((t) => (t.spec as { part?: string }).part === 'features');
          const contacts = ((await store.get('SELECT COUNT(*) AS n FROM contacts WHERE deleted = 0')) as { n: number })
            .n;
          expect(slices.map((t) => (t.result as { contacts: number }).contacts).reduce((a, b) => a + b)).toBe(contacts);
          expect(slices.every((t) => (t.result as { contacts: number }).contacts > 0)).toBe(true);
        } finally {
          await store.close();
        }
        expect(await sandboxDigest(sandbox, place.location)).toBe(expected.sandbox);
        expect(sandbox.workspace.messages.length).toBe(expected.messages);
      } finally {
        stop.abort();
        await sandbox.close();
        await place.remove();
      }
    }, 90_000);
  });
}

describe('a worker stopped (SIGTERM) while it holds a task', () => {
  it('gives the task back, and another worker finishes the run as if nothing happened', async () => {
    const engine = engines.find((e) => e.name === 'postgres')!;
    const expected = await reference(engine);
    const place = await engine.fresh();
    const sandbox = await segmentSandbox();
    const stopFirst = new AbortController();
    const stopOther = new AbortController();
    try {
      const config = await load(writeShopConfig(dir, 'stopped', place.location, sandbox));
      const options = { registry: registry(), pollMs: 20, computeIn: 'here' as const, retryDelayMs: 1 };
      // Stopped just after it claimed its first task (a read), before reading a page.
      const first = runWorker(config, {
        ...options,
        holder: 'first',
        signal: stopFirst.signal,
        afterClaim: () => stopFirst.abort(),
      });
      const result = runJob(config, 'nightly', {
        registry: registry(),
        workers: true,
        now: new Date(NOW),
        taskPollMs: 50,
      });
      const stopped = await first;
      expect(stopped.tasks).toEqual([expect.objectContaining({ outcome: 'released' })]);
      const other = runWorker(config, { ...options, holder: 'other', signal: stopOther.signal });
      expect((await result).status).toBe('succeeded');
      stopOther.abort();
      expect((await other).tasks).toHaveLength(8);
      const store = await openStore(place.location);
      try {
        expect(await storeDigest(store)).toBe(expected.store);
      } finally {
        await store.close();
      }
      expect(await sandboxDigest(sandbox, place.location)).toBe(expected.sandbox);
    } finally {
      stopFirst.abort();
      stopOther.abort();
      await sandbox.close();
      await place.remove();
    }
  }, 90_000);
});
