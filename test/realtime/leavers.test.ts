/**
 * A real-time flush looks for removes only among the contacts its steps saw leave a segment: an event that makes a
 * contact leave one sends the remove in the next flush, one that makes them enter sends the add and looks for nothing
 * else, and a contact whose delivered state went stale outside real time (a membership ended by hand) gets its remove
 * from the next scheduled push, as a contact no event touches always did. On both engines.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryDestination, type MemoryDestination } from '../../connectors/memory/index.js';
import { enterSegment, exitSegment, loadPage, type SegmentDefinition, type Store } from '../../core/index.js';
import { acceptMessages, pendingContacts } from '../../core/realtime/index.js';
import { createContext, type EventRecord, type Logger } from '../../plugins/index.js';
import { pushSegments } from '../../sync/index.js';
import { startPipeline, type RealtimeDestination, type RealtimePipeline } from '../../sync/realtime/index.js';
import { engines } from '../support/engines.js';

const T = Date.parse('2026-03-01T12:00:00.000Z');
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
// Browsing: viewed a page today and bought nothing today (a purchase makes them leave). Staff: written by hand.
const SEGMENTS: SegmentDefinition[] = [
  {
    key: 'browsing',
    rule: { all: [{ event: 'page_view', within: '1d' }, { not: { event: 'purchase', within: '1d' } }] },
  },
  { key: 'buyers', rule: { event: 'purchase', within: '30d' } },
];

let serial = 0;
/** `who` does `type` now, over /v1. */
async function arrives(store: Store, who: string, type: 'page_view' | 'purchase'): Promise<void> {
  serial += 1;
  const event: EventRecord = {
    kind: 'event',
    source: 'tracking',
    sourceEventId: `m-${serial}`,
    type,
    occurredAt: new Date(T).toISOString(),
    contact: { externalId: who },
  };
  await acceptMessages(
    store,
    'website',
    'segment',
    [{ messageId: event.sourceEventId, records: [event] }],
    new Date(T),
  );
}

/** The changes the destination received since `from`, as "op segment email", sorted. */
function sentSince(memory: MemoryDestination, from: number): string[] {
  return memory.batches
    .slice(from)
    .flatMap((b) => b.changes.map((c) => `${c.op} ${b.segment.key} ${c.contact.email ?? '?'}`))
    .sort();
}

async function contactOf(store: Store, who: string): Promise<number> {
  const row = (await store.get("SELECT contact_id FROM identities WHERE source = 'tracking' AND external_id = ?", [
    who,
  ])) as { contact_id: number };
  return Number(row.contact_id);
}

for (const engine of engines)
  describe(`on ${engine.name}`, () => {
    it('sends the removes of contacts a step saw leave, and leaves stale ones to the scheduled push', async () => {
      const { store, close } = await engine.open();
      const memory = createMemoryDestination({ batchSize: 50 });
      const destination: RealtimeDestination = {
        connection: 'lists',
        destination: memory.destination,
        config: {},
        ctx: createContext({ connection: 'lists', logger: quiet }),
        segments: ['browsing', 'buyers', 'staff'].map((key) => ({ key, name: key })),
        mode: 'mirror',
        maxRetries: 1,
      };
      let pipeline: RealtimePipeline | undefined;
      try {
        await loadPage(store, {
          connection: 'website',
          stream: 'identify',
          records: ['ada', 'bob'].map((who) => ({
            kind: 'contact' as const,
            source: 'tracking',
            externalId: who,
            traits: { email: `${who}@example.com` },
          })),
          checkpoint: null,
          now: new Date(T - 3_600_000),
        });
        const bob = await contactOf(store, 'bob');
        await enterSegment(store, 'staff', bob, 1);
        pipeline = await startPipeline({
          store,
          segments: SEGMENTS,
          destinations: [destination],
          logger: quiet,
          now: () => new Date(T),
          tickMs: 3_600_000,
          worker: false,
        });

        // Both browse: they enter, and nobody left anything.
        await arrives(store, 'ada', 'page_view');
        await arrives(store, 'bob', 'page_view');
        await pipeline.step();
        expect((await pendingContacts(store, 'lists', 10)).map((c) => c.leftSegment)).toEqual([false, false]);
        await pipeline.flush();
        expect(sentSince(memory, 0)).toEqual([
          'add browsing ada@example.com',
          'add browsing bob@example.com',
          'add staff bob@example.com',
        ]);

        // Ada buys: she leaves browsing and joins buyers, both sent by the next flush.
        let from = memory.batches.length;
        await arrives(store, 'ada', 'purchase');
        await pipeline.step();
        expect((await pendingContacts(store, 'lists', 10)).map((c) => c.leftSegment)).toEqual([true]);
        await pipeline.flush();
        expect(sentSince(memory, from)).toEqual(['add buyers ada@example.com', 'remove browsing ada@example.com']);

        // Bob is taken off staff by hand, then browses again: no step saw him leave, so the flush sends nothing...
        from = memory.batches.length;
        await exitSegment(store, 'staff', bob);
        await arrives(store, 'bob', 'page_view');
        await pipeline.step();
        await pipeline.flush();
        expect(sentSince(memory, from)).toEqual([]);
        // ... and the scheduled push sends his remove.
        await pushSegments({
          store,
          destination: memory.destination,
          config: {},
          ctx: destination.ctx,
          connection: 'lists',
          segments: ['browsing', 'buyers', 'staff'],
          mode: 'mirror',
          maxRetries: 1,
        });
        expect(sentSince(memory, from)).toEqual(['remove staff bob@example.com']);
      } finally {
        await pipeline?.stop();
        await close();
      }
    });
  });
