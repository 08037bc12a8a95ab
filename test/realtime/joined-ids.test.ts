/**
 * A store split by write key (each key's userIds recorded under its own name, before ids were workspace-wide) is
 * joined: every identity and event moves to the shared source, the contacts one userId had under two keys become one
 * (a recorded merge), and running it again changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { findContactByExternalId, loadPage, type Queryable } from '../../core/index.js';
import { acceptMessages, joinWriteKeyIds, loadWaitingMessages } from '../../core/realtime/index.js';
import type { SourceRecord } from '../../plugins/index.js';
import { engines } from '../support/engines.js';

const records = (source: string, userId: string, email?: string): SourceRecord[] => [
  {
    kind: 'contact',
    source,
    externalId: userId,
    traits: { ...(email ? { email } : {}), updated_at: '2026-11-01T00:00:00.000Z' },
  },
  {
    kind: 'event',
    source,
    sourceEventId: `${source}-${userId}`,
    type: 'purchase',
    occurredAt: '2026-11-02T00:00:00.000Z',
    contact: { externalId: userId },
    value: 10,
  },
];

const count = async (store: Queryable, sql: string): Promise<number> => ((await store.get(sql)) as { n: number }).n;

for (const engine of engines) {
  describe(engine.name, () => {
    it('joins the contacts one userId had under two write keys, once', async () => {
      const { store, close } = await engine.open();
      try {
        await loadPage(store, {
          connection: 'website',
          stream: 'realtime',
          records: [...records('website', 'u1', 'ada@example.com'), ...records('website', 'u2')],
          checkpoint: null,
        });
        await loadPage(store, {
          connection: 'server',
          stream: 'realtime',
          records: records('server', 'u1'),
          checkpoint: null,
        });
        expect(await count(store, 'SELECT COUNT(*) AS n FROM contacts')).toBe(3);
        // A message the server key sent before the switch, still waiting in the inbox.
        const late = { ...(records('server', 'u1')[1] as SourceRecord), sourceEventId: 'server-late' };
        await acceptMessages(store, 'server', 'segment', [{ messageId: 'late', records: [late] }]);

        const joined = await joinWriteKeyIds(store, ['website', 'server'], 'tracking');
        expect(joined).toEqual({ moved: 2, linked: 1, events: 3 });
        expect(await count(store, 'SELECT COUNT(*) AS n FROM contacts')).toBe(2);
        const ada = await findContactByExternalId(store, 'tracking', 'u1');
        expect(ada?.email).toBe('ada@example.com');
        expect(
          (
            (await store.all("SELECT contact_id FROM events WHERE source = 'tracking' ORDER BY source_event_id")) as {
              contact_id: number;
            }[]
          ).map((e) => e.contact_id),
        ).toEqual([ada?.id, ada?.id, (await findContactByExternalId(store, 'tracking', 'u2'))?.id]);
        expect(await count(store, 'SELECT COUNT(*) AS n FROM contact_merges')).toBe(1);
        expect(await count(store, "SELECT COUNT(*) AS n FROM identities WHERE source IN ('website', 'server')")).toBe(
          0,
        );
        await loadWaitingMessages(store);
        expect(await store.get("SELECT source, contact_id FROM events WHERE source_event_id = 'server-late'")).toEqual({
          source: 'tracking',
          contact_id: ada?.id,
        });

        expect(await joinWriteKeyIds(store, ['website', 'server'], 'tracking')).toEqual({
          moved: 0,
          linked: 0,
          events: 0,
        });
        expect(await count(store, 'SELECT COUNT(*) AS n FROM contacts')).toBe(2);
        expect(await count(store, 'SELECT COUNT(*) AS n FROM contact_merges')).toBe(1);
      } finally {
        await close();
      }
    });
  });
}
