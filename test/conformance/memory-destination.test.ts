import { describe, expect, it } from 'vitest';
import { createMemoryDestination } from '../../connectors/memory/index.js';
import { runDestinationConformance } from '../../plugins/conformance/index.js';
import { createContext, type MembershipChange } from '../../plugins/index.js';

const badRow: MembershipChange = { op: 'add', contact: { contactId: 'c-bad', email: 'not an email', externalIds: [] } };

runDestinationConformance({
  connector: createMemoryDestination({ token: 't0ken' }).destination,
  config: { token: 't0ken' },
  badConfig: { token: 'nope' },
  badRow,
});

describe('memory destination', () => {
  const ctx = createContext({ connection: 'memory', logger: { debug() {}, info() {}, warn() {}, error() {} } });
  const segment = { key: 'vip', name: 'VIP' };
  const ada = { contactId: 'c1', email: 'Ada@Example.com', externalIds: [] };

  it('answers rows its retry rule picks as retryable, and holds only the accepted ones', async () => {
    const memory = createMemoryDestination({
      retry: (change) => (change.contact.contactId === 'c2' ? 'tool busy' : undefined),
    });
    const bob = { contactId: 'c2', email: 'bob@example.com', externalIds: ['hs-2'] };
    const results = await memory.destination.write(
      {
        segment,
        changes: [
          { op: 'add', contact: ada, traits: { tier: 'gold' } },
          { op: 'add', contact: bob },
        ],
      },
      {},
      ctx,
    );
    expect(results).toEqual([
      { status: 'accepted', destinationRecordId: 'vip/email:ada@example.com' },
      { status: 'retryable', reason: 'tool busy' },
    ]);
    expect([...(memory.segments.get('vip')?.values() ?? [])]).toEqual([
      {
        email: 'ada@example.com',
        externalId: null,
        destinationRecordId: 'vip/email:ada@example.com',
        traits: { tier: 'gold' },
      },
    ]);
  });

  it('erases a contact from every segment and says when it held none', async () => {
    const memory = createMemoryDestination();
    await memory.destination.write({ segment, changes: [{ op: 'add', contact: ada }] }, {}, ctx);
    await memory.destination.write(
      { segment: { key: 'new', name: 'New' }, changes: [{ op: 'add', contact: ada }] },
      {},
      ctx,
    );
    expect(
      await memory.destination.erase?.([ada, { contactId: 'c9', email: 'x@example.com', externalIds: [] }], {}, ctx),
    ).toEqual([{ status: 'erased' }, { status: 'not_found' }]);
    expect([...memory.segments.values()].map((members) => members.size)).toEqual([0, 0]);
  });
});
