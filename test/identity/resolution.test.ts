import { afterEach, describe, expect, it } from 'vitest';
import {
  addSuppression,
  contactPartition,
  enterSegment,
  findContactByExternalId,
  listContactMerges,
  loadPage,
  readDeliveredState,
  readMemberships,
  recordDelivery,
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

let page = 0;
async function load(s: Store, records: SourceRecord[], identity: { sharedEmailLimit?: number } = {}) {
  page += 1;
  return await loadPage(s, { connection: 'test', stream: 'all', records, checkpoint: { page }, identity });
}

async function contactIdOf(s: Store, source: string, externalId: string): Promise<number> {
  const c = await findContactByExternalId(s, source, externalId);
  if (!c) throw new Error(`no contact for ${source}:${externalId}`);
  return c.id;
}

for (const engine of engines)
  describe(`identity resolution on ${engine.name}`, () => {
    it('treats emails that differ only in case and whitespace as one person', async () => {
      const store = await fresh(engine);
      await load(store, [
        contact('hubspot', '1', { email: '  Ada@Example.COM ', first_name: 'Ada' }),
        contact('mailchimp', 'm1', { email: 'ada@example.com', email_consent: 'subscribed' }),
      ]);
      expect(await contactPartition(store)).toEqual([['hubspot:1', 'mailchimp:m1']]);
      const ada = await findContactByExternalId(store, 'hubspot', '1');
      expect(ada?.email).toBe('ada@example.com');
      expect(ada?.traits.first_name).toBe('Ada');
      expect(ada?.emailConsent).toBe('subscribed');
    });

    it('keeps an invalid email as a trait but never merges on it', async () => {
      const store = await fresh(engine);
      await load(store, [
        contact('hubspot', '1', { email: 'not an email' }),
        contact('salesforce', 'S1', { email: 'not an email' }),
      ]);
      expect(await contactPartition(store)).toEqual([['hubspot:1'], ['salesforce:S1']]);
      expect((await findContactByExternalId(store, 'hubspot', '1'))?.traits.email).toBe('not an email');
      expect((await findContactByExternalId(store, 'hubspot', '1'))?.email).toBeNull();
    });

    it('updates the same tool record in place, the newest record winning', async () => {
      const store = await fresh(engine);
      await load(store, [
        contact('hubspot', '1', { email: 'ada@example.com', city: 'Paris', updated_at: '2026-02-01T00:00:00Z' }),
      ]);
      const second = await load(store, [
        contact('hubspot', '1', { email: 'ada@example.com', city: 'Lyon', updated_at: '2026-03-01T00:00:00Z' }),
      ]);
      const stale = await load(store, [
        contact('hubspot', '1', { email: 'ada@example.com', city: 'Nice', updated_at: '2026-01-01T00:00:00Z' }),
      ]);
      expect(second.updated).toBe(1);
      expect(stale.skipped).toBe(1);
      expect(await count(store, 'contacts')).toBe(1);
      expect((await findContactByExternalId(store, 'hubspot', '1'))?.traits.city).toBe('Lyon');
    });

    it('joins records through linked ids (merged HubSpot ids, converted Salesforce leads)', async () => {
      const store = await fresh(engine);
      await load(store, [
        contact('salesforce', '00Q1', { email: 'lead@old.example' }, { linkedIds: ['0031'] }),
        contact('salesforce', '0031', { email: 'grace@new.example' }),
      ]);
      expect(await contactPartition(store)).toEqual([['salesforce:0031', 'salesforce:00Q1']]);
    });

    it('merges two existing contacts when a record links them, moving events, memberships and delivered state', async () => {
      const store = await fresh(engine);
      await load(store, [
        contact('hubspot', '1', { email: 'ada@example.com' }),
        contact('salesforce', 'S1', { email: 'ada.lovelace@work.example' }),
        event('hubspot', 'e1', { externalId: '1' }, 'email_open'),
        event('salesforce', 'e2', { externalId: 'S1' }, 'deal_won', '2026-01-06T00:00:00Z', 500),
      ]);
      const [a, b] = [await contactIdOf(store, 'hubspot', '1'), await contactIdOf(store, 'salesforce', 'S1')];
      expect(a).not.toBe(b);
      await enterSegment(store, 'vip', b, 1);
      await recordDelivery(store, {
        destination: 'mailchimp',
        segmentKey: 'vip',
        contactId: b,
        status: 'delivered',
        destinationRecordId: 'mc-9',
      });

      // A newer HubSpot record with the work address, linked to the old id: Ada in HubSpot and Salesforce is one person.
      const result = await load(store, [
        contact('hubspot', '2', { email: 'Ada.Lovelace@work.example' }, { linkedIds: ['1'] }),
      ]);

      expect(result.merged).toBe(1);
      expect(await contactPartition(store)).toEqual([['hubspot:1', 'hubspot:2', 'salesforce:S1']]);
      const survivor = await contactIdOf(store, 'salesforce', 'S1');
      const events = await store.all('SELECT source_event_id FROM events WHERE contact_id = ? ORDER BY 1', [survivor]);
      expect(events).toEqual([{ source_event_id: 'e1' }, { source_event_id: 'e2' }]);
      expect((await readMemberships(store, 'vip')).map((m) => m.contactId)).toEqual([survivor]);
      expect(await readDeliveredState(store, 'mailchimp', 'vip')).toMatchObject([
        { contactId: survivor, destinationRecordId: 'mc-9' },
      ]);
      const merges = await listContactMerges(store);
      expect(merges).toHaveLength(1);
      expect(merges[0]).toMatchObject({ survivorId: survivor, mergedId: survivor === a ? b : a });
      expect(['shared email', 'linked id']).toContain(merges[0]?.reason);
      expect(await count(store, 'contacts')).toBe(1);
    });

    it('does not merge on role addresses such as info@', async () => {
      const store = await fresh(engine);
      await load(store, [
        contact('hubspot', '1', { email: 'info@acme.example', first_name: 'Alan' }),
        contact('salesforce', 'S1', { email: 'INFO@acme.example', first_name: 'Barbara' }),
        event('mailchimp', 'open-1', { email: 'info@acme.example' }),
      ]);
      expect(await contactPartition(store)).toHaveLength(3);
      expect((await findContactByExternalId(store, 'salesforce', 'S1'))?.email).toBe('info@acme.example');
    });

    it('stops merging on an email once more records share it than the limit, splitting those it had joined', async () => {
      const store = await fresh(engine);
      const limit = { sharedEmailLimit: 2 };
      await load(
        store,
        [
          contact('hubspot', '1', { email: 'family@home.example' }),
          contact('salesforce', 'S1', { email: 'family@home.example' }),
        ],
        limit,
      );
      expect(await contactPartition(store)).toEqual([['hubspot:1', 'salesforce:S1']]);
      await load(store, [contact('mailchimp', 'm1', { email: 'family@home.example' })], limit);
      expect(await contactPartition(store)).toEqual([['hubspot:1'], ['mailchimp:m1'], ['salesforce:S1']]);
    });

    it('does not use phone numbers as keys', async () => {
      const store = await fresh(engine);
      await load(store, [
        contact('hubspot', '1', { email: 'a@one.example', phone: '+33 1 23 45 67 89' }),
        contact('salesforce', 'S1', { email: 'b@two.example', phone: '+33 1 23 45 67 89' }),
      ]);
      expect(await contactPartition(store)).toHaveLength(2);
    });

    it('creates a contact for an event naming an unknown person, which their record later joins', async () => {
      const store = await fresh(engine);
      await load(store, [
        event('mailchimp', 'open-1', { email: 'New@Person.example' }),
        event('hubspot', 'form-1', { externalId: '77' }, 'form_submit'),
      ]);
      expect(await count(store, 'contacts')).toBe(2);
      await load(store, [contact('hubspot', '77', { email: 'new@person.example' })]);
      expect(await contactPartition(store)).toEqual([['hubspot:77', 'mailchimp:<new@person.example>']]);
      const id = await contactIdOf(store, 'hubspot', '77');
      expect(await store.get('SELECT COUNT(*) AS n FROM events WHERE contact_id = ?', [id])).toEqual({ n: 2 });
    });

    it('merges traits per trait: the newest record wins, ties broken by source', async () => {
      const store = await fresh(engine);
      await load(store, [
        contact('hubspot', '1', {
          email: 'ada@example.com',
          city: 'Paris',
          company: 'Analytical',
          updated_at: '2026-03-01T00:00:00Z',
        }),
        contact('salesforce', 'S1', {
          email: 'ada@example.com',
          city: 'London',
          job_title: 'Countess',
          updated_at: '2026-04-01T00:00:00Z',
        }),
        contact('mailchimp', 'm1', { email: 'ada@example.com', country: 'UK', updated_at: '2026-03-01T00:00:00Z' }),
        contact('zendesk', 'z1', { email: 'ada@example.com', country: 'FR', updated_at: '2026-03-01T00:00:00Z' }),
      ]);
      const traits = (await findContactByExternalId(store, 'hubspot', '1'))?.traits;
      expect(traits).toMatchObject({ city: 'London', company: 'Analytical', job_title: 'Countess', country: 'UK' });
    });

    it('does not load back suppressed identities, by email or by tool id', async () => {
      const store = await fresh(engine);
      await addSuppression(store, { email: 'Erased@Example.com', reason: 'gdpr' });
      await addSuppression(store, { source: 'hubspot', externalId: '9', reason: 'gdpr' });
      const result = await load(store, [
        contact('salesforce', 'S1', { email: 'erased@example.com ' }),
        contact('hubspot', '9', { email: 'other@example.com' }),
        event('mailchimp', 'open-1', { email: 'ERASED@example.com' }),
        event('hubspot', 'form-1', { externalId: '9' }),
        contact('hubspot', '10', { email: 'kept@example.com' }),
      ]);
      expect(result.skipped).toBe(4);
      expect(await contactPartition(store)).toEqual([['hubspot:10']]);
      expect(await count(store, 'events')).toBe(0);
    });
  });
