/**
 * messageId deduplication in the inbox: a resent message is a duplicate for the whole retention, whichever time
 * partition the resend arrives in (on PostgreSQL the ids sit in a ring of retention-long slots, two of them looked in),
 * and new again once the retention has passed and the old partitions were dropped; its event is still stored once.
 * On both engines.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../core/index.js';
import { acceptMessages, dropLoadedPartitions, type InboxMessage } from '../../core/realtime/index.js';
import { runStep } from '../../sync/realtime/index.js';
import { engines } from '../support/engines.js';

const layout = { partitionMs: 60_000, retentionMs: 600_000 };
const t0 = Date.parse('2026-12-06T10:00:30.000Z');
const minutes = (n: number): Date => new Date(t0 + n * 60_000);

function view(id: string, at: Date): InboxMessage {
  return {
    messageId: id,
    records: [
      {
        kind: 'event',
        source: 'tracking',
        sourceEventId: id,
        type: 'page_view',
        occurredAt: at.toISOString(),
        contact: { externalId: 'ada' },
      },
    ],
  };
}

const accept = (store: Store, ids: string[], at: Date): Promise<boolean[]> =>
  acceptMessages(
    store,
    'website',
    'segment',
    ids.map((id) => view(id, at)),
    at,
    layout,
  );

async function eventsOf(store: Store, id: string): Promise<number> {
  const row = (await store.get('SELECT COUNT(*) AS n FROM events WHERE source_event_id = ?', [id])) as { n: number };
  return Number(row.n);
}

for (const engine of engines)
  describe(`on ${engine.name}`, () => {
    it('a resent messageId is a duplicate for the whole retention, then new again; its event is stored once', async () => {
      const { store, close } = await engine.open();
      try {
        expect(await accept(store, ['m1'], minutes(0))).toEqual([true]);
        await runStep(store, { segments: [], destinations: [] }, minutes(0));
        // Other time partitions, the first one loaded or not: still a duplicate.
        expect(await accept(store, ['m1', 'm2'], minutes(5))).toEqual([false, true]);
        expect(await accept(store, ['m1'], minutes(9))).toEqual([false]);
        await runStep(store, { segments: [], destinations: [] }, minutes(9));

        // Past the retention (and two id slots on), the old partitions go and the id is new to the inbox.
        await dropLoadedPartitions(store, layout, minutes(25));
        expect(await accept(store, ['m1'], minutes(25))).toEqual([true]);
        await runStep(store, { segments: [], destinations: [] }, minutes(25));
        expect(await eventsOf(store, 'm1')).toBe(1);
        expect(await eventsOf(store, 'm2')).toBe(1);
      } finally {
        await close();
      }
    });

    it('the same messageId twice in one request is stored once', async () => {
      const { store, close } = await engine.open();
      try {
        expect(await accept(store, ['m3', 'm4', 'm3'], minutes(0))).toEqual([true, true, false]);
        const rows = (await store.get("SELECT COUNT(*) AS n FROM realtime_inbox WHERE message_id = 'm3'")) as {
          n: number;
        };
        expect(Number(rows.n)).toBe(1);
      } finally {
        await close();
      }
    });
  });
