import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { source as fileSource, spec as fileSpec } from '../../connectors/file/index.js';
import { findContactsByEmail, openStore, readCheckpoint, storeDigest, type Store } from '../../core/index.js';
import { z } from 'zod';
import { createContext, defineSource, type Logger, type StreamMessage } from '../../plugins/index.js';
import { readSource } from '../../sync/index.js';
import { tempDir } from '../support/temp.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = tempDir('segflow-read-');
  store = await openStore(join(dir, 'segflow.db'));
  const contacts = ['id,email,first_name,updated_at'];
  for (let i = 0; i < 25; i++)
    contacts.push(`c${i},person${i}@example.com,P${i},2024-01-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00Z`);
  writeFileSync(join(dir, 'contacts.csv'), `${contacts.join('\n')}\n`);
  const events = [];
  for (let i = 0; i < 40; i++) {
    events.push(
      JSON.stringify({
        id: `e${i}`,
        email: `Person${i % 25}@Example.com`,
        occurred_at: `2024-02-01T00:00:${String(i).padStart(2, '0')}Z`,
        type: 'purchase',
        total: i,
      }),
    );
  }
  writeFileSync(join(dir, 'events.jsonl'), `${events.join('\n')}\n`);
});

afterEach(() => store.close());

function options(overrides: Record<string, unknown> = {}) {
  const config = fileSpec.parse({
    contacts: { path: join(dir, 'contacts.csv') },
    events: { path: join(dir, 'events.jsonl'), emailColumn: 'email', valueColumn: 'total' },
    pageSize: 10,
    ...overrides,
  });
  return {
    store,
    connection: 'shop',
    source: fileSource,
    config,
    ctx: createContext({ connection: 'shop', logger: quiet }),
  };
}

describe('reading a source into the store', () => {
  it('loads every stream page by page and commits each stream checkpoint', async () => {
    const outcomes = await readSource({ ...options(), mode: 'incremental', minCommitRecords: 1 });
    expect(outcomes.map((o) => [o.stream, o.status, o.pages])).toEqual([
      ['contacts', 'succeeded', 3],
      ['events', 'succeeded', 4],
    ]);
    expect(outcomes[0]!.counts.inserted).toBe(25);
    expect(outcomes[1]!.counts.inserted).toBe(40);
    expect(await findContactsByEmail(store, 'person3@example.com')).toHaveLength(1);
    expect(await readCheckpoint(store, 'shop', 'events')).toMatchObject({ cursor: '2024-02-01T00:00:39.000Z' });
  });

  it('gathers small pages into one commit that carries the newest checkpoint', async () => {
    const outcomes = await readSource({ ...options(), mode: 'incremental' });
    expect(outcomes.map((o) => [o.stream, o.pages, o.counts.inserted])).toEqual([
      ['contacts', 1, 25],
      ['events', 1, 40],
    ]);
    expect(await readCheckpoint(store, 'shop', 'events')).toMatchObject({ cursor: '2024-02-01T00:00:39.000Z' });
  });

  it('a stream that fails midway keeps every record read before its last checkpoint', async () => {
    let readBeforeFailure = 0;
    const failing: typeof fileSource = {
      ...fileSource,
      streams: (config) =>
        fileSource.streams(config).map((stream) =>
          stream.name !== 'events'
            ? stream
            : {
                ...stream,
                async *read(request, ctx) {
                  let checkpoints = 0;
                  for await (const message of stream.read(request, ctx)) {
                    yield message;
                    if (message.type === 'record') readBeforeFailure++;
                    else if (++checkpoints === 3) throw new Error('connection reset');
                  }
                },
              },
        ),
    };
    const outcomes = await readSource({ ...options(), source: failing, mode: 'incremental' });
    const events = outcomes.find((o) => o.stream === 'events')!;
    expect(events).toMatchObject({ status: 'failed', error: 'connection reset' });
    expect(readBeforeFailure).toBeGreaterThan(0);
    expect(events.counts.inserted).toBe(readBeforeFailure);
    expect(await readCheckpoint(store, 'shop', 'events')).toBeDefined();
  });

  it('an unchanged incremental run changes nothing, and new rows come through on the next run', async () => {
    await readSource({ ...options(), mode: 'incremental' });
    const before = await storeDigest(store);
    const again = await readSource({ ...options(), mode: 'incremental' });
    expect(again.every((o) => o.counts.inserted === 0)).toBe(true);
    expect(await storeDigest(store)).toBe(before);

    appendFileSync(
      join(dir, 'events.jsonl'),
      `${JSON.stringify({ id: 'e-new', email: 'person1@example.com', occurred_at: '2024-03-01T00:00:00Z', type: 'purchase', total: 99 })}\n`,
    );
    const next = await readSource({ ...options(), mode: 'incremental', streams: ['events'] });
    expect(next[0]!.counts.inserted).toBe(1);
  });

  it('one failing stream is reported and the others finish', async () => {
    appendFileSync(
      join(dir, 'events.jsonl'),
      '{"id":"bad","email":"x@example.com","occurred_at":"not a date","type":"purchase"}\n',
    );
    const outcomes = await readSource({ ...options(), mode: 'full' });
    const events = outcomes.find((o) => o.stream === 'events')!;
    const contacts = outcomes.find((o) => o.stream === 'contacts')!;
    expect(events.status).toBe('failed');
    expect(events.error).toMatch(/events\.jsonl.*line 41/);
    expect(contacts.status).toBe('succeeded');
    expect(contacts.counts.inserted).toBe(25);
  });

  it('names a failure whose error has no message by its class and code', async () => {
    const silent: typeof fileSource = {
      ...fileSource,
      streams: (config) =>
        fileSource.streams(config).map((stream) => ({
          ...stream,
          // eslint-disable-next-line require-yield
          async *read() {
            throw Object.assign(new TypeError(''), { code: 'ERR_SOCKET_CLOSED' });
          },
        })),
    };
    const outcomes = await readSource({ ...options(), source: silent, mode: 'full' });
    expect(outcomes.map((o) => o.error)).toEqual(outcomes.map(() => 'TypeError (ERR_SOCKET_CLOSED) without a message'));
    expect(outcomes.length).toBeGreaterThan(0);
  });

  it('names the streams a source has when asked for one it lacks', async () => {
    const outcomes = await readSource({ ...options(), mode: 'full', streams: ['deals'] });
    expect(outcomes).toEqual([
      expect.objectContaining({
        stream: 'deals',
        status: 'failed',
        error: expect.stringMatching(/has no stream "deals" \(it has: contacts, events\)/),
      }),
    ]);
  });

  it('fetches later streams while an earlier one is still reading, and loads them stream after stream', async () => {
    const fetched: string[] = [];
    let releaseFirst: () => void = () => {};
    const secondFetched = new Promise<void>((resolve) => (releaseFirst = resolve));
    const contact = (stream: string, i: number): StreamMessage => ({
      type: 'record',
      record: {
        kind: 'contact',
        source: 'tool',
        externalId: `${stream}-${i}`,
        traits: { email: `${stream}${i}@example.com` },
      },
    });
    const slowFirst = defineSource({
      name: 'tool',
      spec: z.object({}),
      check: () => Promise.resolve({ ok: true as const }),
      streams: () => [
        {
          name: 'first',
          recordKind: 'contact',
          primaryKey: 'externalId',
          cursorField: 'traits.updated_at',
          modes: ['full_refresh'],
          async *read() {
            yield contact('first', 0);
            // The first stream's tool answers its second page only once the second stream has been asked for its own
            // (or after 2 s without read-ahead, so the test fails instead of hanging).
            await Promise.race([secondFetched, new Promise((resolve) => setTimeout(resolve, 2000))]);
            fetched.push('first page 2');
            yield contact('first', 1);
            yield { type: 'state', state: { done: true } };
          },
        },
        {
          name: 'second',
          recordKind: 'contact',
          primaryKey: 'externalId',
          cursorField: 'traits.updated_at',
          modes: ['full_refresh'],
          async *read() {
            fetched.push('second page 1');
            releaseFirst();
            yield contact('second', 0);
            yield { type: 'state', state: { done: true } };
          },
        },
      ],
    });
    const outcomes = await readSource({
      store,
      connection: 'tool',
      source: slowFirst,
      config: {},
      ctx: createContext({ connection: 'tool', logger: quiet }),
      mode: 'full',
    });
    expect(outcomes.map((o) => [o.stream, o.status, o.counts.inserted])).toEqual([
      ['first', 'succeeded', 2],
      ['second', 'succeeded', 1],
    ]);
    expect(fetched).toEqual(['second page 1', 'first page 2']);
    const order = (
      (await store.all('SELECT external_id FROM identities ORDER BY id')) as { external_id: string }[]
    ).map((r) => r.external_id);
    expect(order).toEqual(['first-0', 'first-1', 'second-0']);
  });

  it('asks only the next streams ahead (streamsAhead), so a source with many streams does not hold them all in memory', async () => {
    const opened: string[] = [];
    let openWhileFirstLoads: string[] = [];
    const stream = (name: string) => ({
      name,
      recordKind: 'contact' as const,
      primaryKey: 'externalId',
      cursorField: 'traits.updated_at',
      modes: ['full_refresh' as const],
      async *read(): AsyncIterable<StreamMessage> {
        opened.push(name);
        yield {
          type: 'record',
          record: { kind: 'contact', source: 'tool', externalId: name, traits: { email: `${name}@example.com` } },
        };
        if (name === 's0') {
          await new Promise((resolve) => setTimeout(resolve, 100));
          openWhileFirstLoads = [...opened];
        }
        yield { type: 'state', state: { done: true } };
      },
    });
    const many = defineSource({
      name: 'tool',
      spec: z.object({}),
      check: () => Promise.resolve({ ok: true as const }),
      streams: () => ['s0', 's1', 's2', 's3'].map(stream),
    });
    const outcomes = await readSource({
      store,
      connection: 'tool',
      source: many,
      config: {},
      ctx: createContext({ connection: 'tool', logger: quiet }),
      mode: 'full',
      streamsAhead: 1,
    });
    expect(outcomes.map((o) => [o.stream, o.status, o.counts.inserted])).toEqual([
      ['s0', 'succeeded', 1],
      ['s1', 'succeeded', 1],
      ['s2', 'succeeded', 1],
      ['s3', 'succeeded', 1],
    ]);
    expect(openWhileFirstLoads).toEqual(['s0', 's1']);
  });
});
