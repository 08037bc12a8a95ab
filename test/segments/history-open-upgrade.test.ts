/**
 * An index of the open membership spells: a store made before it upgrades in place, keeps its history, and plans
 * each member's add under the id of their open spell (a re-entry's, not the closed one before it), as a store made
 * after it does; leaving closes that spell only. On both engines.
 */
import { describe, expect, it } from 'vitest';
import { enterSegment, exitSegment, loadPage, planPush, pushMessageId, type Store } from '../../core/index.js';
import { engines } from '../support/engines.js';
import { hasIndex, upgradeBeside } from '../support/upgrade.js';
import { contact } from '../store/fixtures.js';

const NEW_MIGRATION = '20261207T100000_membership_history_open';

/** Ann was in `vip`, left and came back; Bob entered once. */
async function history(store: Store): Promise<void> {
  await loadPage(store, {
    connection: 'all',
    stream: 'all',
    records: [contact('crm', 'ann', { email: 'ann@example.com' }), contact('crm', 'bob', { email: 'bob@example.com' })],
    checkpoint: 1,
  });
  const [ann, bob] = await contactIds(store);
  await enterSegment(store, 'vip', ann, 1, '2026-01-01T00:00:00.000Z');
  await exitSegment(store, 'vip', ann, '2026-02-01T00:00:00.000Z');
  await enterSegment(store, 'vip', ann, 1, '2026-03-01T00:00:00.000Z');
  await enterSegment(store, 'vip', bob, 1, '2026-03-02T00:00:00.000Z');
}

async function contactIds(store: Store): Promise<[number, number]> {
  const rows = (await store.all('SELECT id FROM contacts ORDER BY id')) as { id: number }[];
  return [Number(rows[0]?.id), Number(rows[1]?.id)];
}

/** The adds a push of `vip` would send, by contact, with the message id each carries. */
async function plannedAdds(store: Store): Promise<{ contactId: number; messageId: string }[]> {
  const [vip] = await planPush(store, {
    destination: 'cdp',
    segments: ['vip'],
    mode: 'mirror',
    maxRetries: 1,
    contacts: await contactIds(store),
  });
  return (vip?.changes ?? []).map((c) => ({ contactId: c.contactId, messageId: c.messageId }));
}

/** The message id of an add for the contact's open spell, computed from the history rows themselves. */
async function openSpellAdd(store: Store, contactId: number): Promise<{ contactId: number; messageId: string }> {
  const open = (await store.get(
    "SELECT id, entered_at FROM membership_history WHERE segment_key = 'vip' AND contact_id = ? AND exited_at IS NULL",
    [contactId],
  )) as { id: number; entered_at: string };
  const at = new Date(open.entered_at).toISOString();
  return {
    contactId,
    messageId: pushMessageId({
      destination: 'cdp',
      segmentKey: 'vip',
      contactId,
      historyId: Number(open.id),
      at,
      op: 'add',
    }),
  };
}

for (const engine of engines) {
  describe(`open membership spells' index after the upgrade on ${engine.name}`, () => {
    it('plans adds under the open spell and closes only it, as a store made after it', async () => {
      let historyBefore: unknown[] = [];
      const { upgraded, current, done } = await upgradeBeside(engine, NEW_MIGRATION, async (old) => {
        await history(old);
        expect(await hasIndex(old, 'membership_history_open')).toBe(false);
        historyBefore = await old.all('SELECT * FROM membership_history ORDER BY id');
      });
      try {
        expect(await hasIndex(upgraded, 'membership_history_open')).toBe(true);
        expect(await upgraded.all('SELECT * FROM membership_history ORDER BY id')).toEqual(historyBefore);
        await history(current);
        for (const store of [upgraded, current]) {
          const [ann, bob] = await contactIds(store);
          expect(await plannedAdds(store)).toEqual([await openSpellAdd(store, ann), await openSpellAdd(store, bob)]);
          await exitSegment(store, 'vip', ann, '2026-04-01T00:00:00.000Z');
          const spells = (await store.all(
            "SELECT entered_at, exited_at FROM membership_history WHERE contact_id = ? AND segment_key = 'vip' ORDER BY id",
            [ann],
          )) as { entered_at: string; exited_at: string | null }[];
          expect(spells.map((s) => [s.entered_at, s.exited_at].map((t) => t && new Date(t).toISOString()))).toEqual([
            ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
            ['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'],
          ]);
          expect(await plannedAdds(store)).toEqual([await openSpellAdd(store, bob)]);
        }
      } finally {
        await done();
      }
    });
  });
}
