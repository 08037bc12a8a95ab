// The Salesforce destination's field mode and erasure, against the sandbox org with the real jsforce: the segment
// field holds every segment a person is in and loses only the one they left; people not in Salesforce are skipped
// (or created as Leads when the config says so); erase deletes Contacts and Leads.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../plugins/index.js';
import {
  destination,
  salesforceSpec,
  sandboxConfig,
  type SalesforceSandbox,
} from '../../../connectors/salesforce/index.js';

import { contextOf as ctx, sandboxOf } from './fixture.js';

let sandbox: SalesforceSandbox | undefined;
const live = (s: SalesforceSandbox, type: 'Contact' | 'Lead') =>
  [...s.org.table(type).values()].filter((r) => !r.IsDeleted && !r.IsConverted);

describe('Salesforce destination', () => {
  it('in field mode, keeps every segment a person is in in the field and removes only the segment they left', async () => {
    sandbox = await sandboxOf({ seed: 'field', people: 200 });
    const config = salesforceSpec.parse({
      ...sandboxConfig(sandbox),
      membership: { mode: 'field', field: 'Segments__c' },
    });
    const [contact] = live(sandbox, 'Contact');
    const [lead] = live(sandbox, 'Lead');
    const people = [contact, lead].map((r, k) => ({ contactId: `p${k}`, email: null, externalIds: [String(r?.Id)] }));
    const vip = { key: 'vip', name: 'VIP' };
    const lapsed = { key: 'lapsed', name: 'Lapsed' };
    for (const segment of [vip, lapsed]) {
      const results = await destination.write(
        { segment, changes: people.map((contact) => ({ op: 'add' as const, contact })) },
        config,
        ctx(),
      );
      expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    }
    expect(sandbox.org.table('Contact').get(String(contact?.Id))?.Segments__c).toBe('Lapsed;VIP');
    expect(sandbox.org.table('Lead').get(String(lead?.Id))?.Segments__c).toBe('Lapsed;VIP');

    const removed = await destination.write(
      { segment: vip, changes: [{ op: 'remove', contact: people[0]! }] },
      config,
      ctx(),
    );
    expect(removed.map((r) => r.status)).toEqual(['accepted']);
    expect(sandbox.org.table('Contact').get(String(contact?.Id))?.Segments__c).toBe('Lapsed');
    const held = await destination.readMembership(vip, config, ctx());
    expect(held.map((m) => m.externalId)).toEqual([String(lead?.Id)]);
  });

  it('fails with a configuration error, rejecting no row, when field-level security hides the segment field', async () => {
    const s = await sandboxOf({ seed: 'hidden', people: 200 });
    s.org.hideField('Contact', 'Segments__c');
    const config = salesforceSpec.parse({ ...sandboxConfig(s), membership: { mode: 'field', field: 'Segments__c' } });
    const people = live(s, 'Contact')
      .slice(0, 2)
      .map((r, k) => ({ contactId: `p${k}`, email: null, externalIds: [String(r.Id)] }));
    const failure = await destination
      .write(
        { segment: { key: 'vip', name: 'VIP' }, changes: people.map((contact) => ({ op: 'add' as const, contact })) },
        config,
        ctx(),
      )
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).message).toMatch(/Segments__c/);
  });

  it('skips, with the reason, people found neither by id nor by email when createLeads is off, and adds the rest; with createLeads they become Leads', async () => {
    sandbox = await sandboxOf({ seed: 'skip', people: 200 });
    const [contact] = live(sandbox, 'Contact').filter((r) => typeof r.Email === 'string' && r.Email !== '');
    const segment = { key: 'vip', name: 'VIP' };
    const changes = [
      { op: 'add' as const, contact: { contactId: '1', email: String(contact?.Email).toLowerCase(), externalIds: [] } },
      { op: 'add' as const, contact: { contactId: '2', email: 'stranger@example.org', externalIds: [] } },
    ];
    const leadsBefore = sandbox.org.table('Lead').size;
    const off = salesforceSpec.parse(sandboxConfig(sandbox));
    const results = await destination.write({ segment, changes }, off, ctx());
    expect(results[0]?.status).toBe('accepted');
    expect(results[1]).toMatchObject({ status: 'skipped', code: 'NOT_IN_SALESFORCE' });
    expect(results[1]?.status === 'skipped' && results[1].reason).toMatch(/not in Salesforce.*createLeads/);
    expect(sandbox.org.table('Lead').size).toBe(leadsBefore);
    expect((await destination.readMembership(segment, off, ctx())).map((m) => m.externalId)).toEqual([
      String(contact?.Id),
    ]);

    const on = salesforceSpec.parse({ ...sandboxConfig(sandbox), createLeads: true });
    const again = await destination.write({ segment, changes: [changes[1]!] }, on, ctx());
    expect(again.map((r) => r.status)).toEqual(['accepted']);
    const lead = [...sandbox.org.table('Lead').values()].find((r) => r.Email === 'stranger@example.org');
    expect(lead).toBeDefined();
    expect((await destination.readMembership(segment, on, ctx())).map((m) => m.externalId).sort()).toEqual(
      [String(contact?.Id), String(lead?.Id)].sort(),
    );
  });

  it('adds members with the configured status, adding it to the campaign first (Salesforce would give them the default)', async () => {
    sandbox = await sandboxOf({ seed: 'status', people: 200 });
    const s = sandbox;
    const config = salesforceSpec.parse({ ...sandboxConfig(s), membership: { memberStatus: 'Subscribed' } });
    const people = live(s, 'Contact')
      .slice(0, 3)
      .map((r, k) => ({ contactId: `p${k}`, email: null, externalIds: [String(r.Id)] }));
    const segment = { key: 'news', name: 'Newsletter' };
    for (const batch of [people.slice(0, 2), people.slice(2)]) {
      const results = await destination.write(
        { segment, changes: batch.map((contact) => ({ op: 'add' as const, contact })) },
        config,
        ctx(),
      );
      expect(results.every((r) => r.status === 'accepted')).toBe(true);
    }
    const campaign = [...s.org.table('Campaign').values()].find((c) => c.Name === 'Newsletter');
    const of = (type: string) =>
      [...s.org.table(type).values()].filter((r) => r.CampaignId === campaign?.Id && !r.IsDeleted);
    expect(of('CampaignMember').map((m) => m.Status)).toEqual(['Subscribed', 'Subscribed', 'Subscribed']);
    expect(of('CampaignMemberStatus').map((st) => st.Label)).toEqual(['Sent', 'Responded', 'Subscribed']);
  });

  it('the sandbox gives a member whose status the campaign lacks the default status, as Salesforce does', () => {
    const s = sandbox!;
    const campaign = [...s.org.table('Campaign').values()].find((c) => c.Name === 'Newsletter')!;
    const [contact] = live(s, 'Contact').slice(5);
    const [result] = s.org.create([
      {
        attributes: { type: 'CampaignMember' } as unknown as string,
        CampaignId: String(campaign.Id),
        ContactId: String(contact?.Id),
        Status: 'Attended',
      },
    ]);
    expect(result?.success).toBe(true);
    expect(s.org.table('CampaignMember').get(String(result?.id))).toMatchObject({
      Status: 'Sent',
      HasResponded: false,
    });
  });

  it('records a Lead a blocking duplicate rule refuses as rejected, with the reason, and creates the others', async () => {
    const s = await sandboxOf({ seed: 'duplicates', people: 200 });
    s.org.blockDuplicateLeads();
    const [existing] = live(s, 'Lead');
    const config = salesforceSpec.parse({ ...sandboxConfig(s), createLeads: true });
    const twin = { first_name: existing?.FirstName, last_name: existing?.LastName, company: existing?.Company };
    const results = await destination.write(
      {
        segment: { key: 'vip', name: 'VIP' },
        changes: [
          { op: 'add', contact: { contactId: 'a', email: 'twin@example.org', externalIds: [] }, traits: twin },
          { op: 'add', contact: { contactId: 'b', email: 'fresh@example.org', externalIds: [] } },
        ],
      },
      config,
      ctx(),
    );
    expect(results[0]).toMatchObject({ status: 'rejected', code: 'DUPLICATES_DETECTED' });
    expect(results[0]?.status === 'rejected' && results[0].reason).toMatch(/duplicate/);
    expect(results[1]?.status).toBe('accepted');
  });

  it('erases a Contact and a Lead by id (they go to the recycle bin) and reports a person with no Salesforce id as not found', async () => {
    sandbox = await sandboxOf({ seed: 'erase', people: 200 });
    const config = salesforceSpec.parse(sandboxConfig(sandbox));
    const [contact] = live(sandbox, 'Contact');
    const [lead] = live(sandbox, 'Lead');
    const results = await destination.erase?.(
      [
        { contactId: '1', email: null, externalIds: [String(contact?.Id)] },
        { contactId: '2', email: null, externalIds: [String(lead?.Id)] },
        { contactId: '3', email: 'nobody@example.org', externalIds: [] },
      ],
      config,
      ctx(),
    );
    expect(results).toEqual([{ status: 'erased' }, { status: 'erased' }, { status: 'not_found' }]);
    expect(sandbox.org.table('Contact').get(String(contact?.Id))?.IsDeleted).toBe(true);
    expect(sandbox.org.table('Lead').get(String(lead?.Id))?.IsDeleted).toBe(true);
  });
});
