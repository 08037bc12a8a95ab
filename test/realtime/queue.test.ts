import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../core/index.js';
import { clearPending, pendingContacts, pendingSummary, queueForDestinations } from '../../core/realtime/index.js';
import { engines } from '../support/engines.js';
import { storeOn } from '../features/fixture.js';

// Steps and flushes run side by side: a step may recompute and queue a contact again while a flush that already read
// that contact is out. The flush must not clear that newer change.

describe.each(engines)('on $name', (engine) => {
  let store: Store;

  beforeEach(async () => {
    store = await storeOn(engine);
  });

  afterEach(async () => {
    await store.close();
  });

  describe('the pending queue of a destination', () => {
    it('keeps a contact queued again after its flush read it, with its earliest receipt time', async () => {
      await queueForDestinations(
        store,
        [
          { contactId: 1, receivedAt: '2026-01-01T00:00:00.000Z' },
          { contactId: 2, receivedAt: '2026-01-01T00:00:00.500Z' },
        ],
        ['cdp', 'crm'],
      );
      const read = await pendingContacts(store, 'cdp', 100);
      expect(read.map((c) => c.contactId)).toEqual([1, 2]);

      // A later step recomputes contact 1 again while the flush of `read` is out.
      await queueForDestinations(store, [{ contactId: 1, receivedAt: '2026-01-01T00:00:03.000Z' }], ['cdp', 'crm']);
      await clearPending(store, 'cdp', read);

      const left = await pendingContacts(store, 'cdp', 100);
      expect(left.map((c) => [c.contactId, c.receivedAt])).toEqual([[1, '2026-01-01T00:00:00.000Z']]);
      // The other destination's queue is its own.
      expect((await pendingSummary(store, 'crm')).contacts).toBe(2);

      await clearPending(store, 'cdp', left);
      expect(await pendingSummary(store, 'cdp')).toEqual({ contacts: 0, oldest: null });
    });
  });
});
