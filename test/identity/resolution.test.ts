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
import { contact, count, event, tempStore } from '../store/fixtures.js';

let store: (Store & { file: string }) | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
});

let page = 0;
function load(s: Store, records: SourceRecord[], identity: { sharedEmailLimit?: number } = {}) {
  page += 1;
  return loadPage(s, { connection: 'test', stream: 'all', records, checkpoint: { page }, identity });
}

function contactIdOf(s: Store, source: string, externalId: string): number {
  const c = findContactByExternalId(s, source, externalId);
  if (!c) throw new Error(`no contact for ${source}:${externalId}`);
  return c.id;
}

describe('identity resolution', () => {
  it('treats emails that differ only in case and whitespace as one person', () => {
    store = tempStore();
    load(store, [
      contact('hubspot', '1', { email: '  Ada@Example.COM ', first_name: 'Ada' }),
      contact('mailchimp', 'm1', { email: 'ada@example.com', email_consent: 'subscribed' }),
    ]);
    expect(contactPartition(store)).toEqual([['hubspot:1', 'mailchimp:m1']]);
    const ada = findContactByExternalId(store, 'hubspot', '1');
    expect(ada?.email).toBe('ada@example.com');
    expect(ada?.traits.first_name).toBe('Ada');
    expect(ada?.emailConsent).toBe('subscribed');
  });

  it('keeps an invalid email as a trait but never merges on it', () => {
    store = tempStore();
    load(store, [
      contact('hubspot', '1', { email: 'not an email' }),
      contact('salesforce', 'S1', { email: 'not an email' }),
    ]);
    expect(contactPartition(store)).toEqual([['hubspot:1'], ['salesforce:S1']]);
    expect(findContactByExternalId(store, 'hubspot', '1')?.traits.email).toBe('not an email');
    expect(findContactByExternalId(store, 'hubspot', '1')?.email).toBeNull();
  });

  it('updates the same tool record in place, the newest record winning', () => {
    store = tempStore();
    load(store, [
      contact('hubspot', '1', { email: 'ada@example.com', city: 'Paris', updated_at: '2026-02-01T00:00:00Z' }),
    ]);
    const second = load(store, [
      contact('hubspot', '1', { email: 'ada@example.com', city: 'Lyon', updated_at: '2026-03-01T00:00:00Z' }),
    ]);
    const stale = load(store, [
      contact('hubspot', '1', { email: 'ada@example.com', city: 'Nice', updated_at: '2026-01-01T00:00:00Z' }),
    ]);
    expect(second.updated).toBe(1);
    expect(stale.skipped).toBe(1);
    expect(count(store, 'contacts')).toBe(1);
    expect(findContactByExternalId(store, 'hubspot', '1')?.traits.city).toBe('Lyon');
  });

  it('joins records through linked ids (merged HubSpot ids, converted Salesforce leads)', () => {
    store = tempStore();
    load(store, [
      contact('salesforce', '00Q1', { email: 'lead@old.example' }, { linkedIds: ['0031'] }),
      contact('salesforce', '0031', { email: 'grace@new.example' }),
    ]);
    expect(contactPartition(store)).toEqual([['salesforce:0031', 'salesforce:00Q1']]);
  });

  it('merges two existing contacts when a record links them, moving events, memberships and delivered state', () => {
    store = tempStore();
    load(store, [
      contact('hubspot', '1', { email: 'ada@example.com' }),
      contact('salesforce', 'S1', { email: 'ada.lovelace@work.example' }),
      event('hubspot', 'e1', { externalId: '1' }, 'email_open'),
      event('salesforce', 'e2', { externalId: 'S1' }, 'deal_won', '2026-01-06T00:00:00Z', 500),
    ]);
    const [a, b] = [contactIdOf(store, 'hubspot', '1'), contactIdOf(store, 'salesforce', 'S1')];
    expect(a).not.toBe(b);
    enterSegment(store, 'vip', b, 1);
    recordDelivery(store, {
      destination: 'mailchimp',
      segmentKey: 'vip',
      contactId: b,
      status: 'delivered',
      destinationRecordId: 'mc-9',
    });

    // A newer HubSpot record with the work address, linked to the old id: Ada in HubSpot and Salesforce is one person.
    const result = load(store, [contact('hubspot', '2', { email: 'Ada.Lovelace@work.example' }, { linkedIds: ['1'] })]);

    expect(result.merged).toBe(1);
    expect(contactPartition(store)).toEqual([['hubspot:1', 'hubspot:2', 'salesforce:S1']]);
    const survivor = contactIdOf(store, 'salesforce', 'S1');
    const events = store.statement('SELECT source_event_id FROM events WHERE contact_id = ? ORDER BY 1').all(survivor);
    expect(events).toEqual([{ source_event_id: 'e1' }, { source_event_id: 'e2' }]);
    expect(readMemberships(store, 'vip').map((m) => m.contactId)).toEqual([survivor]);
    expect(readDeliveredState(store, 'mailchimp', 'vip')).toMatchObject([
      { contactId: survivor, destinationRecordId: 'mc-9' },
    ]);
    const merges = listContactMerges(store);
    expect(merges).toHaveLength(1);
    expect(merges[0]).toMatchObject({ survivorId: survivor, mergedId: survivor === a ? b : a });
    expect(['shared email', 'linked id']).toContain(merges[0]?.reason);
    expect(count(store, 'contacts')).toBe(1);
  });

  it('does not merge on role addresses such as info@', () => {
    store = tempStore();
    load(store, [
      contact('hubspot', '1', { email: 'info@acme.example', first_name: 'Alan' }),
      contact('salesforce', 'S1', { email: 'INFO@acme.example', first_name: 'Barbara' }),
      event('mailchimp', 'open-1', { email: 'info@acme.example' }),
    ]);
    expect(contactPartition(store)).toHaveLength(3);
    expect(findContactByExternalId(store, 'salesforce', 'S1')?.email).toBe('info@acme.example');
  });

  it('stops merging on an email once more records share it than the limit, splitting those it had joined', () => {
    store = tempStore();
    const limit = { sharedEmailLimit: 2 };
    load(
      store,
      [
        contact('hubspot', '1', { email: 'family@home.example' }),
        contact('salesforce', 'S1', { email: 'family@home.example' }),
      ],
      limit,
    );
    expect(contactPartition(store)).toEqual([['hubspot:1', 'salesforce:S1']]);
    load(store, [contact('mailchimp', 'm1', { email: 'family@home.example' })], limit);
    expect(contactPartition(store)).toEqual([['hubspot:1'], ['mailchimp:m1'], ['salesforce:S1']]);
  });

  it('does not use phone numbers as keys', () => {
    store = tempStore();
    load(store, [
      contact('hubspot', '1', { email: 'a@one.example', phone: '+33 1 23 45 67 89' }),
      contact('salesforce', 'S1', { email: 'b@two.example', phone: '+33 1 23 45 67 89' }),
    ]);
    expect(contactPartition(store)).toHaveLength(2);
  });

  it('creates a contact for an event naming an unknown person, which their record later joins', () => {
    store = tempStore();
    load(store, [
      event('mailchimp', 'open-1', { email: 'New@Person.example' }),
      event('hubspot', 'form-1', { externalId: '77' }, 'form_submit'),
    ]);
    expect(count(store, 'contacts')).toBe(2);
    load(store, [contact('hubspot', '77', { email: 'new@person.example' })]);
    expect(contactPartition(store)).toEqual([['hubspot:77', 'mailchimp:<new@person.example>']]);
    const id = contactIdOf(store, 'hubspot', '77');
    expect(store.statement('SELECT COUNT(*) AS n FROM events WHERE contact_id = ?').get(id)).toEqual({ n: 2 });
  });

  it('merges traits per trait: the newest record wins, ties broken by source', () => {
    store = tempStore();
    load(store, [
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
    const traits = findContactByExternalId(store, 'hubspot', '1')?.traits;
    expect(traits).toMatchObject({ city: 'London', company: 'Analytical', job_title: 'Countess', country: 'UK' });
  });

  it('does not load back suppressed identities, by email or by tool id', () => {
    store = tempStore();
    addSuppression(store, { email: 'Erased@Example.com', reason: 'gdpr' });
    addSuppression(store, { source: 'hubspot', externalId: '9', reason: 'gdpr' });
    const result = load(store, [
      contact('salesforce', 'S1', { email: 'erased@example.com ' }),
      contact('hubspot', '9', { email: 'other@example.com' }),
      event('mailchimp', 'open-1', { email: 'ERASED@example.com' }),
      event('hubspot', 'form-1', { externalId: '9' }),
      contact('hubspot', '10', { email: 'kept@example.com' }),
    ]);
    expect(result.skipped).toBe(4);
    expect(contactPartition(store)).toEqual([['hubspot:10']]);
    expect(count(store, 'events')).toBe(0);
  });
});
