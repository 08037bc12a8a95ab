import { afterEach, describe, expect, it } from 'vitest';
import {
  contactPartition,
  enterSegment,
  findContactByExternalId,
  listContactMerges,
  loadPage,
  readDeliveredState,
  readMemberships,
  recordDelivery,
  type Queryable,
  type Store,
} from '../../core/index.js';
import type { SourceRecord } from '../../plugins/model/index.js';
import { engines, type TestEngine } from '../support/engines.js';
import { contact, count, event } from '../store/fixtures.js';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

/** A migrated store on a fresh location of `engine`, closed (and its location removed) after the test. */
async function fresh(engine: TestEngine): Promise<Store> {
  const opened = await engine.open();
  closers.push(opened.close);
  return opened.store;
}

/** The store as loadPage sees it, counting every statement it sends (on PostgreSQL, each is a network round trip). */
function counting(inner: Queryable): { queryable: Queryable; statements: () => number } {
  let n = 0;
  const wrap = (q: Queryable): Queryable => ({
    path: q.path,
    dialect: q.dialect,
    inTransaction: q.inTransaction,
    all: (sql, params) => (n++, q.all(sql, params)),
    get: (sql, params) => (n++, q.get(sql, params)),
    run: (sql, params) => (n++, q.run(sql, params)),
    exec: (sql) => (n++, q.exec(sql)),
    iterate: (sql, params, batch) => (n++, q.iterate(sql, params, batch)),
    transaction: (fn, options) => q.transaction((tx) => fn(wrap(tx)), options),
    onRollback: (listener) => q.onRollback(listener),
  });
  return { queryable: wrap(inner), statements: () => n };
}

/** `people` people in HubSpot, half of them in Salesforce too (same email, other case), then five events each. */
function pages(people: number): SourceRecord[][] {
  const contacts: SourceRecord[] = [];
  const events: SourceRecord[] = [];
  for (let p = 0; p < people; p++) {
    const email = `person${p}@example.com`;
    contacts.push(contact('hubspot', `h${p}`, { email, first_name: `P${p}` }));
    if (p % 2 === 0) contacts.push(contact('salesforce', `s${p}`, { email: email.toUpperCase(), city: 'Paris' }));
    for (let e = 0; e < 5; e++) {
      const who = e % 2 === 0 ? { externalId: `h${p}` } : { email: e === 3 ? `new${p}@example.com` : email };
      events.push(event(e % 2 === 0 ? 'hubspot' : 'segment', `ev-${p}-${e}`, who));
    }
  }
  return [contacts, events, [...contacts.slice(0, people), ...events.slice(0, people)]];
}

async function statementsToLoad(
  engine: TestEngine,
  people: number,
): Promise<{ statements: number; contacts: number; events: number }> {
  const store = await fresh(engine);
  const { queryable, statements } = counting(store);
  let page = 0;
  for (const records of pages(people)) {
    page += 1;
    await loadPage(queryable, { connection: 'test', stream: 'all', records, checkpoint: { page } });
  }
  const result = {
    statements: statements(),
    contacts: await count(store, 'contacts'),
    events: await count(store, 'events'),
  };
  return result;
}

for (const engine of engines)
  describe(`set-based page loads on ${engine.name}`, () => {
    it('sends a few statements per page, not one per record: 40 times the records, about the same statements', async () => {
      const small = await statementsToLoad(engine, 50);
      const large = await statementsToLoad(engine, 2000);
      // 2,000 people: 3,000 contact records, 10,000 events (2,000 naming a new email), then a re-read page of 4,000.
      expect(large).toMatchObject({ contacts: 4000, events: 10_000 });
      expect(small).toMatchObject({ contacts: 100, events: 250 });
      expect(large.statements).toBeLessThan(100);
      // Chunks are powers of two: a larger page adds a few chunks per table (one statement per record would be 39,000).
      expect(large.statements - small.statements).toBeLessThan(40);
    });

    it('merges several contacts at once keeping the survivor’s, else the first-merged contact’s, segment and delivery rows', async () => {
      const s = await fresh(engine);
      const load = (records: SourceRecord[], page: number) =>
        loadPage(s, { connection: 'test', stream: 'all', records, checkpoint: { page } });
      await load(
        [
          contact('hubspot', 'h1', { email: 'ada@home.example' }),
          contact('mailchimp', 'm1', { email: 'ada@list.example' }),
          contact('salesforce', 's1', { email: 'ada@work.example' }),
          event('mailchimp', 'open-1', { externalId: 'm1' }),
        ],
        1,
      );
      const idOf = async (source: string, id: string) => (await findContactByExternalId(s, source, id))?.id as number;
      const [hubspot, mailchimp, salesforce] = [
        await idOf('hubspot', 'h1'),
        await idOf('mailchimp', 'm1'),
        await idOf('salesforce', 's1'),
      ];
      expect(hubspot).toBeLessThan(mailchimp);
      expect(mailchimp).toBeLessThan(salesforce);
      await enterSegment(s, 'vip', mailchimp, 1, '2026-02-01T00:00:00.000Z');
      await enterSegment(s, 'vip', salesforce, 1, '2026-02-02T00:00:00.000Z');
      for (const [contactId, record] of [
        [mailchimp, 'mc-m1'],
        [salesforce, 'mc-s1'],
      ] as const)
        await recordDelivery(s, {
          destination: 'mailchimp',
          segmentKey: 'vip',
          contactId,
          status: 'delivered',
          destinationRecordId: record,
        });

      // One page joins all three: HubSpot links its new record to h1 and shares s1's email, Salesforce links m1's email.
      const result = await load(
        [
          contact('hubspot', 'h2', { email: 'ada@work.example' }, { linkedIds: ['h1'] }),
          contact('salesforce', 's2', { email: 'ada@list.example' }, { linkedIds: ['s1'] }),
        ],
        2,
      );

      expect(result.merged).toBe(2);
      expect(await contactPartition(s)).toEqual([
        ['hubspot:h1', 'hubspot:h2', 'mailchimp:m1', 'salesforce:s1', 'salesforce:s2'],
      ]);
      expect(await count(s, 'contacts')).toBe(1);
      expect(await readMemberships(s, 'vip')).toEqual([
        { segmentKey: 'vip', contactId: hubspot, enteredAt: '2026-02-01T00:00:00.000Z' },
      ]);
      expect(await readDeliveredState(s, 'mailchimp', 'vip')).toMatchObject([
        { contactId: hubspot, destinationRecordId: 'mc-m1' },
      ]);
      expect(await s.all('SELECT contact_id FROM membership_history')).toEqual([
        { contact_id: hubspot },
        { contact_id: hubspot },
      ]);
      expect(await s.all('SELECT DISTINCT contact_id FROM events')).toEqual([{ contact_id: hubspot }]);
      expect((await listContactMerges(s)).map((m) => [m.survivorId, m.mergedId])).toEqual([
        [hubspot, mailchimp],
        [hubspot, salesforce],
      ]);
    });
  });
