import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob } from '../../sync/index.js';
import { loadConfig, type Config } from '../../config/index.js';
import { createMemoryDestination } from '../../connectors/memory/index.js';
import {
  countRunErrors,
  listRuns,
  openStore,
  readDeliveredState,
  readRun,
  readRunErrors,
  requestCancel,
} from '../../core/index.js';
import { createRegistry, type Registry } from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

let dir: string;

function config(registry: Registry, people = 12): Promise<Config> {
  writeFileSync(
    join(dir, 'contacts.csv'),
    `id,email,updated_at\n${Array.from({ length: people }, (_, i) => `c${i},${i === 3 ? 'blocked' : `p${i}`}@example.com,2024-01-01T00:00:${String(i).padStart(2, '0')}Z`).join('\n')}\n`,
  );
  writeFileSync(
    join(dir, 'segflow.yaml'),
    `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  shop:
    connector: file
    config:
      source: shop
      contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} }
destinations:
  lists:
    connector: memory
    config: {}
segments:
  - key: everyone
    name: Everyone
    rule: { trait: email, exists: true }
jobs:
  nightly:
    steps:
      - read: { sources: [shop], mode: full }
      - compute: {}
      - push: { destination: lists, segments: [everyone], mode: mirror, max_retries: 2 }
`,
  );
  return loadConfig(join(dir, 'segflow.yaml'), { registry, env: {} });
}

beforeEach(() => (dir = tempDir('segflow-history-')));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('run history', () => {
  it('records rejected rows with their reason and counts the retries of a flaky destination', async () => {
    let flaky = 0;
    const memory = createMemoryDestination({
      reject: (c) => (c.contact.email?.startsWith('blocked@') ? 'address on the block list' : undefined),
      // p5 answers retryable twice, then is accepted on the third try (max_retries 2 allows it).
      retry: (c) => (c.contact.email === 'p5@example.com' && flaky++ < 2 ? 'try again later' : undefined),
    });
    const registry = createRegistry([...BUILTIN_CONNECTORS, memory.destination]);
    const c = await config(registry);
    const result = await runJob(c, 'nightly', { registry, retryDelayMs: 1 });
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ added: 11, rejected: 1, retried: 2 });

    const store = await openStore(c.store.path);
    try {
      const run = (await readRun(store, result.runId!))!;
      expect(run.counts).toMatchObject({ read: 12, added: 11, rejected: 1, retried: 2 });
      expect(await readRunErrors(store, run.id)).toEqual([
        {
          connection: 'lists',
          stream: 'everyone',
          recordKey: expect.stringMatching(/^contact:\d+$/),
          reason: 'add rejected: address on the block list (invalid_contact)',
        },
      ]);
      expect(await countRunErrors(store, run.id)).toBe(1);
      const steps = (
        run.report as { steps: { kind: string; outcome?: { segments: { retried: number; rejected: number }[] } }[] }
      ).steps;
      expect(steps.map((s) => s.kind)).toEqual(['read', 'compute', 'push']);
      expect(steps[2]?.outcome?.segments[0]).toMatchObject({ retried: 2, rejected: 1 });
      const delivered = (await readDeliveredState(store, 'lists', 'everyone')).filter((d) => d.status === 'delivered');
      expect(delivered).toHaveLength(11);
    } finally {
      await store.close();
    }
    // The rejected row is not retried by the next run.
    const again = await runJob(c, 'nightly', { registry, retryDelayMs: 1 });
    expect(again.counts).toMatchObject({ added: 0, rejected: 0, retried: 0 });
  });

  it('lists runs newest first, by job, a page at a time', async () => {
    const memory = createMemoryDestination();
    const registry = createRegistry([...BUILTIN_CONNECTORS, memory.destination]);
    const c = await config(registry);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await runJob(c, 'nightly', { registry, computeIn: 'here' })).runId!);
    const store = await openStore(c.store.path);
    try {
      expect((await listRuns(store)).map((r) => r.id)).toEqual([...ids].reverse());
      const first = await listRuns(store, { job: 'nightly', limit: 2 });
      expect(first.map((r) => r.id)).toEqual([ids[2], ids[1]]);
      expect((await listRuns(store, { job: 'nightly', limit: 2, before: first.at(-1)!.id })).map((r) => r.id)).toEqual([
        ids[0],
      ]);
      expect(await listRuns(store, { job: 'weekly' })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a cancel request stops the run after the batch in flight, which is recorded; the next run sends the rest', async () => {
    const memory = createMemoryDestination({ batchSize: 2 });
    const registry = createRegistry([...BUILTIN_CONNECTORS, memory.destination]);
    const c = await config(registry);
    let release: () => void = () => {};
    const write = memory.destination.write.bind(memory.destination);
    let runId = 0;
    let cancelled = false;
    memory.destination.write = async (batch, cfg, ctx) => {
      if (!cancelled) {
        cancelled = true;
        // Ask to stop while the first batch is with the destination, and answer it only once the run saw the request.
        const store = await openStore(c.store.path);
        expect(await requestCancel(store, runId)).toBe(true);
        await store.close();
        await new Promise<void>((resolve) => (release = resolve));
      }
      return write(batch, cfg, ctx);
    };
    const running = runJob(c, 'nightly', {
      registry,
      cancelPollMs: 10,
      computeIn: 'here',
      onRunStarted: (id) => (runId = id),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(result.error).toBe('cancel requested');
    expect(memory.batches).toHaveLength(1);
    const store = await openStore(c.store.path);
    try {
      expect((await readRun(store, runId))?.status).toBe('cancelled');
      expect((await readDeliveredState(store, 'lists', 'everyone')).map((d) => d.status)).toEqual([
        'delivered',
        'delivered',
      ]);
      expect(await requestCancel(store, runId)).toBe(false);
    } finally {
      await store.close();
    }
    const rest = await runJob(c, 'nightly', { registry, computeIn: 'here' });
    expect(rest.status).toBe('succeeded');
    expect(rest.counts).toMatchObject({ added: 10, removed: 0 });
    expect(memory.segments.get('everyone')?.size).toBe(12);
  });

  it('a stop signal during compute ends the run cancelled and pushes nothing', async () => {
    const memory = createMemoryDestination();
    const registry = createRegistry([...BUILTIN_CONNECTORS, memory.destination]);
    const c = await config(registry);
    const stop = new AbortController();
    const result = await runJob(c, 'nightly', {
      registry,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.kind === 'step' && p.step === 'compute') stop.abort(new Error('SIGTERM'));
      },
    });
    expect(result.status).toBe('cancelled');
    expect(
      result.steps.map((s) =>
        s.kind === 'push' ? s.outcome.status : s.kind === 'compute' ? (s.cancelled ? 'cancelled' : 'ran') : 'read',
      ),
    ).toEqual(['read', 'cancelled', 'cancelled']);
    expect(memory.batches).toHaveLength(0);
  });
});
