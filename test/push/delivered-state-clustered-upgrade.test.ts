/**
 * Delivered state stored in its key's index on SQLite (WITHOUT ROWID; PostgreSQL unchanged): a store made before the
 * upgrade keeps every row and its contact index, and then plans pushes, merges and erases as a store made after it,
 * on both engines.
 */
import { describe, expect, it } from 'vitest';
import { eraseContact } from '../../core/erasure/index.js';
import {
  enterSegment,
  exitSegment,
  loadPage,
  readDeliveredState,
  recordDelivery,
  storeDigest,
  type Store,
} from '../../core/index.js';
import { engines } from '../support/engines.js';
import { contactIds, hasIndex, plannedChanges, upgradeBeside } from '../support/upgrade.js';
import { contact } from '../store/fixtures.js';

const NEW_MIGRATION = '20261207T110000_delivered_state_clustered';
const NOW = new Date('2026-06-01T00:00:00Z');

/** Ann, Bob and Cy in `vip`, delivered to the CDP; then Bob leaves. */
async function delivered(store: Store): Promise<void> {
  await loadPage(store, {
    connection: 'all',
    stream: 'all',
    records: ['ann', 'bob', 'cy'].map((n) => contact('crm', n, { email: `${n}@example.com` })),
    checkpoint: 1,
    now: NOW,
  });
  for (const id of await contactIds(store)) {
    await enterSegment(store, 'vip', id, 1, '2026-05-01T00:00:00.000Z');
    await recordDelivery(store, { destination: 'cdp', segmentKey: 'vip', contactId: id, status: 'delivered' });
  }
  await exitSegment(store, 'vip', (await contactIds(store))[1] as number, '2026-05-02T00:00:00.000Z');
}

/** The changes a mirror push of `vip` plans: Bob's remove, nothing for the others. */
async function planned(store: Store): Promise<{ op: string; contactId: number }[]> {
  return (await plannedChanges(store, 'vip')).map((c) => ({ op: c.op, contactId: c.contactId }));
}

/**
 * Whether the table lives in its key's index (SQLite's WITHOUT ROWID; never on PostgreSQL), and whether its contact
 * index is there.
 */
async function layout(store: Store): Promise<{ clustered: boolean; contactIndex: boolean }> {
  const contactIndex = await hasIndex(store, 'delivered_state_contact');
  if (store.dialect.name === 'postgres') return { clustered: false, contactIndex };
  const table = (await store.get(
    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'delivered_state'",
  )) as {
    sql: string;
  };
  return { clustered: /WITHOUT ROWID\s*$/i.test(table.sql), contactIndex };
}

for (const engine of engines) {
  describe(`delivered state in its key's index after the upgrade on ${engine.name}`, () => {
    it('keeps every row, and plans, merges and erases as a store made after it', async () => {
      let before: unknown[] = [];
      const { upgraded, current, done } = await upgradeBeside(engine, NEW_MIGRATION, async (old) => {
        await delivered(old);
        expect((await layout(old)).clustered).toBe(false);
        before = await old.all('SELECT * FROM delivered_state ORDER BY destination, segment_key, contact_id');
      });
      try {
        expect(
          await upgraded.all('SELECT * FROM delivered_state ORDER BY destination, segment_key, contact_id'),
        ).toEqual(before);
        const expected = { clustered: engine.name === 'sqlite', contactIndex: true };
        expect(await layout(upgraded)).toEqual(expected);
        expect(await layout(current)).toEqual(expected);
        await delivered(current);
        for (const store of [upgraded, current]) {
          const [ann, bob, cy] = (await contactIds(store)) as [number, number, number];
          expect(await planned(store)).toEqual([{ op: 'remove', contactId: bob }]);
          // Cy turns out to be Ann (the shop links their accounts): Ann's contact keeps one delivered row for vip.
          await loadPage(store, {
            connection: 'all',
            stream: 'all',
            records: [
              contact('shop', 's-cy', { email: 'cy@example.com' }),
              contact('shop', 's-ann', { email: 'ann@example.com' }, { linkedIds: ['s-cy'] }),
            ],
            checkpoint: 2,
            now: NOW,
          });
          const merged = (await readDeliveredState(store, 'cdp', 'vip')).map((r) => r.contactId).sort((a, b) => a - b);
          expect(merged).toEqual([ann, bob].sort((a, b) => a - b));
          expect(merged).not.toContain(cy);
          await eraseContact(store, ann, { reason: 'test', now: NOW });
          expect((await readDeliveredState(store, 'cdp', 'vip')).map((r) => r.contactId)).toEqual([bob]);
        }
        expect(await storeDigest(upgraded)).toBe(await storeDigest(current));
      } finally {
        await done();
      }
    });
  });
}
