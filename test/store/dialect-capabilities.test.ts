// An engine difference is a capability the dialect states (never a test of the engine's name), and what the store
// does follows it: where tables can be partitioned, the real-time inbox is a ring of time partitions and the store
// can take the partitioned layout; where they cannot, the inbox is one table and the layout is refused in a sentence.
import { afterEach, describe, expect, it } from 'vitest';
import { partitionedTables, partitionStore } from '../../core/index.js';
import { INBOX_PARTS } from '../../core/realtime/index.js';
import { engines, type OpenedStore } from '../support/engines.js';

describe.each(engines)('on $name', (engine) => {
  let opened: OpenedStore | undefined;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  it('partitions the inbox exactly where the dialect says tables can be partitioned', async () => {
    opened = await engine.open();
    const { store } = opened;
    const tables = await partitionedTables(store);
    if (store.dialect.supportsPartitioning) {
      expect(engine.name).toBe('postgres');
      expect(tables['realtime_inbox']).toBe(INBOX_PARTS);
    } else {
      expect(engine.name).toBe('sqlite');
      expect(tables).toEqual({});
      await expect(partitionStore(store)).rejects.toThrow(
        /the partitioned layout needs PostgreSQL \(this store is sqlite\)/,
      );
    }
  });
});
