import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob } from '../../sync/index.js';
import { loadConfig, type Config } from '../../config/index.js';
import { createMemoryDestination, type MemoryDestination } from '../../connectors/memory/index.js';
import { acquireJobLock, openStore, readRun, storeDigest } from '../../core/index.js';
import { createRegistry, type Registry } from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let memory: MemoryDestination;
let registry: Registry;

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

/** Five shop customers; ada and cy bought recently, bob bought two years ago, dee and eve never. */
function writeShop(events: { email: string; total: number; at: string }[]): void {
  const people = ['ada', 'bob', 'cy', 'dee', 'eve'];
  writeFileSync(
    join(dir, 'contacts.csv'),
    `id,email,updated_at\n${people.map((p, i) => `c${i},${p}@example.com,2024-01-0${i + 1}T00:00:00Z`).join('\n')}\n`,
  );
  writeFileSync(
    join(dir, 'events.jsonl'),
    `${events.map((e, i) => JSON.stringify({ id: `e${i}`, type: 'order', email: e.email, total: e.total, occurred_at: e.at })).join('\n')}\n`,
  );
}

async function config(): Promise<Config> {
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store:
  path: ${JSON.stringify(join(dir, 'store', 'segflow.db'))}
sources:
  shop:
    connector: file
    config:
      source: shop
      contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} }
      events: { path: ${JSON.stringify(join(dir, 'events.jsonl'))}, emailColumn: email, valueColumn: total, types: { order: purchase } }
destinations:
  lists:
    connector: memory
    config: {}
segments:
  - key: buyers
    name: Bought in the last year
    rule: { event: purchase, within: 365d }
jobs:
  nightly:
    steps:
      - read: { sources: [shop], mode: full }
      - compute: { segments: [buyers] }
      - push: { destination: lists, segments: [buyers], mode: mirror }
`,
  );
  return loadConfig(file, { registry, env: {} });
}

const held = (segment: string) => [...(memory.segments.get(segment)?.values() ?? [])].map((m) => m.email).sort();

async function digest(c: Config): Promise<string> {
  const store = await openStore(c.store.path);
  try {
    return await storeDigest(store);
  } finally {
    await store.close();
  }
}

beforeEach(() => {
  dir = tempDir('segflow-jobs-');
  memory = createMemoryDestination();
  registry = createRegistry([...BUILTIN_CONNECTORS, memory.destination]);
  writeShop([
    { email: 'ada@example.com', total: 120, at: daysAgo(10) },
    { email: 'cy@example.com', total: 30, at: daysAgo(100) },
    { email: 'bob@example.com', total: 80, at: daysAgo(730) },
  ]);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('running a job', () => {
  it('reads, computes and pushes: the destination holds the recent buyers, and the run is recorded', async () => {
    const c = await config();
    const result = await runJob(c, 'nightly', { registry });
    expect(result.status).toBe('succeeded');
    expect(held('buyers')).toEqual(['ada@example.com', 'cy@example.com']);

    const read = result.steps[0];
    expect(read?.kind === 'read' && read.sources[0]?.streams.map((s) => [s.stream, s.counts.read])).toEqual([
      ['contacts', 5],
      ['events', 3],
    ]);
    const compute = result.steps[1];
    expect(compute?.kind === 'compute' && compute.segments.map((s) => [s.key, s.size, s.entered])).toEqual([
      ['buyers', 2, 2],
    ]);

    const store = await openStore(c.store.path);
    try {
      const run = await readRun(store, result.runId!);
      expect(run?.job).toBe('nightly');
      expect(run?.status).toBe('succeeded');
      expect(run?.counts).toMatchObject({ read: 8, added: 2, removed: 0 });
    } finally {
      await store.close();
    }
  });

  it('a second run with nothing changed sends nothing', async () => {
    const c = await config();
    await runJob(c, 'nightly', { registry });
    const batches = memory.batches.length;
    const again = await runJob(c, 'nightly', { registry });
    expect(again.status).toBe('succeeded');
    expect(memory.batches.length).toBe(batches);
    expect(again.counts).toMatchObject({ added: 0, removed: 0 });
  });

  it('mirror removes a contact who stopped qualifying', async () => {
    const c = await config();
    await runJob(c, 'nightly', { registry });
    // 300 days on, cy's order (100 days ago today) is out of the 365-day window; ada's is still in.
    const result = await runJob(c, 'nightly', { registry, now: new Date(Date.now() + 300 * 86_400_000) });
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ added: 0, removed: 1 });
    expect(held('buyers')).toEqual(['ada@example.com']);
  });

  it('a dry run changes nothing and reports the adds a real run would send', async () => {
    const c = await config();
    await runJob(c, 'nightly', { registry });
    // A new recent buyer is in the store after this partial job, but not yet in the destination.
    c.jobs.nightly!.steps.splice(2, 1);
    writeShop([
      { email: 'ada@example.com', total: 120, at: daysAgo(10) },
      { email: 'cy@example.com', total: 30, at: daysAgo(100) },
      { email: 'bob@example.com', total: 80, at: daysAgo(730) },
      { email: 'dee@example.com', total: 15, at: daysAgo(3) },
    ]);
    await runJob(c, 'nightly', { registry });
    const c2 = await config();
    const before = await digest(c2);
    const heldBefore = held('buyers');
    const batches = memory.batches.length;

    const dry = await runJob(c2, 'nightly', { registry, dryRun: true });
    expect(dry.status).toBe('succeeded');
    expect(dry.runId).toBeUndefined();
    expect(dry.steps.map((s) => (s.kind === 'push' ? 'push' : `${s.kind}:${s.skipped ? 'skipped' : 'ran'}`))).toEqual([
      'read:skipped',
      'compute:skipped',
      'push',
    ]);
    const push = dry.steps[2];
    const buyers = push?.kind === 'push' ? push.outcome.segments[0] : undefined;
    expect(buyers).toMatchObject({ segment: 'buyers', added: 1, removed: 0 });
    expect(buyers?.sample.map((s) => [s.op, s.email])).toEqual([['add', 'dee@example.com']]);

    expect(await digest(c2)).toBe(before);
    expect(held('buyers')).toEqual(heldBefore);
    expect(memory.batches.length).toBe(batches);
  });

  it('refuses to run a job whose lock another run holds, and changes nothing', async () => {
    const c = await config();
    await runJob(c, 'nightly', { registry });
    const store = await openStore(c.store.path);
    try {
      expect(await acquireJobLock(store, 'nightly', 'another-process', 60_000)).toBe(true);
    } finally {
      await store.close();
    }
    const before = await digest(c);
    const result = await runJob(c, 'nightly', { registry });
    expect(result.status).toBe('locked');
    expect(result.error).toContain('job "nightly" is already running');
    expect(result.steps).toEqual([]);
    expect(await digest(c)).toBe(before);
  });

  it('takes over the lock of a run that crashed and never released it', async () => {
    const c = await config();
    await runJob(c, 'nightly', { registry });
    const store = await openStore(c.store.path);
    try {
      // a run that started two hours ago with a one-hour lock, and died
      expect(await acquireJobLock(store, 'nightly', 'crashed-run', 3_600_000, new Date(Date.now() - 7_200_000))).toBe(
        true,
      );
    } finally {
      await store.close();
    }
    const result = await runJob(c, 'nightly', { registry });
    expect(result.status).toBe('succeeded');
  });

  it('upsert adds but never removes a contact who stopped qualifying', async () => {
    const c = await config();
    const push = c.jobs.nightly!.steps[2];
    if (!push || !('push' in push)) throw new Error('the fixture job pushes in its third step');
    push.push.mode = 'upsert';
    await runJob(c, 'nightly', { registry });
    const later = await runJob(c, 'nightly', { registry, now: new Date(Date.now() + 300 * 86_400_000) });
    expect(later.status).toBe('succeeded');
    expect(later.counts).toMatchObject({ added: 0, removed: 0 });
    expect(held('buyers')).toEqual(['ada@example.com', 'cy@example.com']);
  });

  it('marks the run partial when the destination fails and the read and compute succeeded', async () => {
    const c = await config();
    const down = createMemoryDestination({ name: 'memory' });
    down.destination.write = () => Promise.reject(new Error('destination down'));
    const result = await runJob(c, 'nightly', {
      registry: createRegistry([...BUILTIN_CONNECTORS, down.destination]),
      maxRetries: 0,
      retryDelayMs: 1,
    });
    expect(result.status).toBe('partial');
    const store = await openStore(c.store.path);
    try {
      expect((await readRun(store, result.runId!))?.status).toBe('partial');
    } finally {
      await store.close();
    }
  });
});
