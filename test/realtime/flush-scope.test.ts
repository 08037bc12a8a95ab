import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryDestination, type MemoryDestination } from '../../connectors/memory/index.js';
import {
  enterSegment,
  exitSegment,
  findContactByExternalId,
  loadPage,
  openStore,
  type Store,
} from '../../core/index.js';
import { createContext, type ContactRecord, type Logger } from '../../plugins/index.js';
import { pushSegments, type PushSegmentsOptions } from '../../sync/index.js';
import { tempDir } from '../support/temp.js';

// The real-time flusher pushes only the contacts its steps touched; the planner reads just those contacts' rows. These
// pin that a scoped push sends exactly their changes (adds and removes), leaves everyone else's for a later push, and
// that the later full push then sends each of the others once and nothing twice.

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
let dir: string;
let store: Store;
let memory: MemoryDestination;
const ids = new Map<number, number>();

const person = (i: number): ContactRecord => ({
  kind: 'contact',
  source: 'crm',
  externalId: `c${i}`,
  traits: { email: `person${i}@example.com`, updated_at: '2026-01-01T00:00:00Z', email_consent: 'subscribed' },
});
const id = (i: number): number => ids.get(i) as number;
const push = async (overrides: Partial<PushSegmentsOptions> = {}) =>
  await pushSegments({
    store,
    destination: memory.destination,
    config: {},
    ctx: createContext({ connection: 'lists', logger: quiet }),
    connection: 'lists',
    segments: ['vip', 'new'],
    identitiesFrom: 'crm',
    mode: 'mirror',
    maxRetries: 1,
    ...overrides,
  });
/** The changes the destination received since `from`, as "op segment crm-id", sorted. */
const sentSince = (from: number): string[] =>
  memory.batches
    .slice(from)
    .flatMap((b) => b.changes.map((c) => `${c.op} ${b.segment.key} ${c.contact.externalIds[0] ?? '?'}`))
    .sort();

beforeEach(async () => {
  dir = tempDir('segflow-flush-scope-');
  store = await openStore(join(dir, 'segflow.db'));
  await loadPage(store, {
    connection: 'crm',
    stream: 'contacts',
    records: [1, 2, 3, 4, 5, 6].map(person),
    checkpoint: null,
  });
  for (const i of [1, 2, 3, 4, 5, 6]) ids.set(i, (await findContactByExternalId(store, 'crm', `c${i}`))?.id as number);
  memory = createMemoryDestination({ batchSize: 10 });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a push scoped to the touched contacts', () => {
  it('sends only their adds and removes; a later full push sends the others once', async () => {
    for (const i of [1, 2, 3, 4]) await enterSegment(store, 'vip', id(i), 1);
    await enterSegment(store, 'new', id(5), 1);
    const scoped = await push({ contacts: [id(1), id(2), id(5)] });
    expect(sentSince(0)).toEqual(['add new c5', 'add vip c1', 'add vip c2']);
    expect(scoped.segments.map((s) => [s.segment, s.added, s.removed])).toEqual([
      ['vip', 2, 0],
      ['new', 1, 0],
    ]);

    // c1 leaves vip and c6 joins it; only c1 is touched now.
    await exitSegment(store, 'vip', id(1));
    await enterSegment(store, 'vip', id(6), 1);
    let from = memory.batches.length;
    await push({ contacts: [id(1)] });
    expect(sentSince(from)).toEqual(['remove vip c1']);

    // Contacts touched with nothing to change send nothing.
    from = memory.batches.length;
    const unchanged = await push({ contacts: [id(2), id(5)] });
    expect(sentSince(from)).toEqual([]);
    expect(unchanged.segments.map((s) => s.batches)).toEqual([0, 0]);

    from = memory.batches.length;
    await push();
    expect(sentSince(from)).toEqual(['add vip c3', 'add vip c4', 'add vip c6']);
    expect([...(memory.segments.get('vip')?.values() ?? [])].map((m) => m.externalId).sort()).toEqual([
      'c2',
      'c3',
      'c4',
      'c6',
    ]);
    expect([...(memory.segments.get('new')?.values() ?? [])].map((m) => m.externalId)).toEqual(['c5']);
  });
});
