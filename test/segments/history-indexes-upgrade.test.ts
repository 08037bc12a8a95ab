/**
 * Membership history found by contact (with each spell's segment, exit and entry in the index) and by segment and
 * entry time, without the open spells' own index: a store made before upgrades in place, keeps its history, plans each
 * member's add under the id of their open spell (a re-entry's, not the closed one before it) and a leaver's remove
 * under their last exit, and leaving closes the open spell only, as on a store made after it. On both engines.
 */
import { describe, expect, it } from 'vitest';
import { enterSegment, exitSegment, loadPage, pushMessageId, recordDelivery, type Store } from '../../core/index.js';
import { engines } from '../support/engines.js';
import { contactIds, hasIndex, plannedChanges, upgradeBeside } from '../support/upgrade.js';
import { contact } from '../store/fixtures.js';

const NEW_MIGRATION = '20261207T120000_membership_history_by_contact';

/** Ann was in `vip`, left and came back; Bob entered once. */
async function history(store: Store): Promise<void> {
  await loadPage(store, {
    connection: 'all',
    stream: 'all',
    records: [contact('crm', 'ann', { email: 'ann@example.com' }), contact('crm', 'bob', { email: 'bob@example.com' })],
    checkpoint: 1,
  });
  const [ann, bob] = (await contactIds(store)) as [number, number];
  await enterSegment(store, 'vip', ann, 1, '2026-01-01T00:00:00.000Z');
  await exitSegment(store, 'vip', ann, '2026-02-01T00:00:00.000Z');
  await enterSegment(store, 'vip', ann, 1, '2026-03-01T00:00:00.000Z');
  await enterSegment(store, 'vip', bob, 1, '2026-03-02T00:00:00.000Z');
}

/** The changes a push of `vip` would send, by contact, with the operation and message id each carries. */
async function planned(store: Store): Promise<{ contactId: number; op: string; messageId: string }[]> {
  return (await plannedChanges(store, 'vip')).map((c) => ({
    contactId: c.contactId,
    op: c.op,
    messageId: c.messageId,
  }));
}

/** The message id the contact's change carries, computed from their history rows themselves: an add names the open
 * spell and its entry, a remove the last closed spell and its exit. */
async function fromHistory(
  store: Store,
  contactId: number,
  op: 'add' | 'remove',
): Promise<{ contactId: number; op: string; messageId: string }> {
  const spell = (await store.get(
    `SELECT id, entered_at, exited_at FROM membership_history WHERE segment_key = 'vip' AND contact_id = ?
       AND exited_at IS ${op === 'add' ? '' : 'NOT '}NULL ORDER BY id DESC LIMIT 1`,
    [contactId],
  )) as { id: number; entered_at: string; exited_at: string | null };
  const at = new Date(op === 'add' ? spell.entered_at : (spell.exited_at as string)).toISOString();
  const messageId = pushMessageId({
    destination: 'cdp',
    segmentKey: 'vip',
    contactId,
    historyId: Number(spell.id),
    at,
    op,
  });
  return { contactId, op, messageId };
}

const historyRows = 'SELECT * FROM membership_history ORDER BY id';

for (const engine of engines) {
  describe(`membership history's indexes after the upgrade on ${engine.name}`, () => {
    it('plans adds under the open spell and removes under the last exit, and closes only the open spell', async () => {
      let historyBefore: unknown[] = [];
      const { upgraded, current, done } = await upgradeBeside(engine, NEW_MIGRATION, async (old) => {
        await history(old);
        expect(await hasIndex(old, 'membership_history_open')).toBe(true);
        expect(await hasIndex(old, 'membership_history_entered')).toBe(false);
        historyBefore = await old.all(historyRows);
      });
      try {
        expect(await hasIndex(upgraded, 'membership_history_entered')).toBe(true);
        expect(await hasIndex(upgraded, 'membership_history_open')).toBe(false);
        expect(await hasIndex(upgraded, 'membership_history_segment')).toBe(false);
        expect(await upgraded.all(historyRows)).toEqual(historyBefore);
        await history(current);
        for (const store of [upgraded, current]) {
          const [ann, bob] = (await contactIds(store)) as [number, number];
          expect(await planned(store)).toEqual([
            await fromHistory(store, ann, 'add'),
            await fromHistory(store, bob, 'add'),
          ]);
          await recordDelivery(store, { destination: 'cdp', segmentKey: 'vip', contactId: ann, status: 'delivered' });
          await exitSegment(store, 'vip', ann, '2026-04-01T00:00:00.000Z');
          const spells = (await store.all(
            "SELECT entered_at, exited_at FROM membership_history WHERE contact_id = ? AND segment_key = 'vip' ORDER BY id",
            [ann],
          )) as { entered_at: string; exited_at: string | null }[];
          expect(spells.map((s) => [s.entered_at, s.exited_at].map((t) => t && new Date(t).toISOString()))).toEqual([
            ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
            ['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'],
          ]);
          expect(await planned(store)).toEqual([
            await fromHistory(store, bob, 'add'),
            await fromHistory(store, ann, 'remove'),
          ]);
        }
        expect(await upgraded.all(historyRows)).toEqual(await current.all(historyRows));
      } finally {
        await done();
      }
    });
  });
}
