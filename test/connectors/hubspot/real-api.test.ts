// Where HubSpot's real API is less kind than a naive sandbox, and the connector must still read and write right:
// gateway faults that answer HTML, the Events API's one sort field, batch writes that fail whole on one bad row.
import { describe, expect, it } from 'vitest';
import { createContext, type EventRecord, type MembershipChange } from '../../../plugins/index.js';
import { classifyHubSpotError, destination, hubspotSpec, sandboxConfig } from '../../../connectors/hubspot/index.js';
import { quiet, fast, readStream, sandboxForTest } from './fixture.js';

const readEvents = async (name: string, raw: Record<string, unknown>) =>
  (await readStream(name, raw, undefined)).records as unknown as EventRecord[];

describe('HubSpot against the real API’s behaviour', () => {
  it('retries a 502 gateway page (HTML, not JSON) from the raw email events call and reads every event', async () => {
    const sandbox = await sandboxForTest({ seed: 'gateway', people: 300, limits: fast });
    const whole = await readEvents('email_events', sandboxConfig(sandbox));
    expect(whole.length).toBeGreaterThan(0);
    sandbox.faults.storm(2, 'server_error');
    const again = await readEvents('email_events', sandboxConfig(sandbox));
    expect(again.map((e) => e.sourceEventId).sort()).toEqual(whole.map((e) => e.sourceEventId).sort());
    expect(sandbox.recorder.requests.filter((r) => r.status === 502)).toHaveLength(2);
  });

  it('reads a portal-wide opt-out (portalSubscriptionStatus, no subscription listed) as an unsubscribe', async () => {
    const sandbox = await sandboxForTest({ seed: 'opt-out', people: 600, limits: fast });
    const log = sandbox.portal.emailEvents;
    const changes = Array.from({ length: log.count }, (_, i) => log.at(i)).filter((e) => e.type === 'STATUSCHANGE');
    const portalWide = changes.filter((e) => e.portalSubscriptionStatus === 'UNSUBSCRIBED');
    expect(portalWide.length).toBeGreaterThan(0);
    expect(portalWide.every((e) => e.subscriptions?.length === 0)).toBe(true);
    const read = (await readEvents('email_events', sandboxConfig(sandbox))).filter(
      (e) => e.type === 'email_unsubscribe',
    );
    expect(read.map((e) => e.sourceEventId).sort()).toEqual(changes.map((e) => `email:${e.id}`).sort());
  });

  it('retries a 502 gateway page answered to an SDK call and reads every contact', async () => {
    const sandbox = await sandboxForTest({ seed: 'gateway', people: 300, limits: fast });
    sandbox.faults.storm(1, 'server_error');
    const contacts = await readEvents('contacts', { ...sandboxConfig(sandbox), searchPerSecond: 10_000 });
    const live = [...sandbox.portal.contacts.values()].filter((c) => !c.archived).length;
    expect(new Set(contacts.map((c) => (c as unknown as { externalId: string }).externalId)).size).toBe(live);
    expect(sandbox.recorder.requests.filter((r) => r.status === 502)).toHaveLength(1);
  });

  it('reads custom behavioural events without a sort HubSpot refuses (it accepts only the field occurredAt)', async () => {
    const sandbox = await sandboxForTest({ seed: 'behaviour', people: 300, limits: fast, customEvents: true });
    const events = await readEvents('behavioral_events', sandboxConfig(sandbox));
    expect(events.length).toBeGreaterThan(0);
    expect(sandbox.recorder.requests.filter((r) => r.status === 400)).toEqual([]);
    const refused = await fetch(`${sandbox.url}/events/v3/events?objectType=contact&sort=ASCENDING`, {
      headers: { authorization: `Bearer ${sandbox.credentials.accessToken}` },
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toBe(
      "Only a single sort field 'occurredAt' is supported",
    );
  });

  it('creates 98 of 100 missing contacts when HubSpot refuses the whole batch for one bad email, rejecting only the bad rows', async () => {
    const sandbox = await sandboxForTest({ seed: 'upsert', people: 200, limits: fast });
    sandbox.portal.badEmails.add('refused@example.org');
    const config = hubspotSpec.parse({ ...sandboxConfig(sandbox), createMissingContacts: true });
    const emails = Array.from({ length: 98 }, (_, i) => `new.${i}@example.org`);
    emails.splice(40, 0, 'refused@example.org');
    emails.splice(70, 0, 'not an email');
    const changes: MembershipChange[] = emails.map((email, i) => ({
      op: 'add',
      contact: { contactId: String(i), email, externalIds: [] },
    }));
    const ctx = createContext({
      connection: 'test',
      budget: { requests: 100_000, intervalMs: 10_000 },
      classifyError: classifyHubSpotError,
      logger: quiet,
    });
    const results = await destination.write({ segment: { key: 'vip', name: 'VIP' }, changes }, config, ctx);

    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [[emails[i], r.reason] as const] : []));
    expect(rejected.map(([email]) => email)).toEqual(['refused@example.org', 'not an email']);
    expect(rejected[0]?.[1]).toContain('Email address refused@example.org is invalid');
    expect(rejected[1]?.[1]).toMatch(/not a valid email/);
    const created = emails.filter((e) => !rejected.some(([r]) => r === e));
    expect(created.every((e) => sandbox.portal.findContactByEmail(e))).toBe(true);
    expect(results.filter((r) => r.status === 'accepted')).toHaveLength(98);
    const list = [...sandbox.portal.lists.values()].find((l) => l.name === 'VIP');
    expect(list?.members.size).toBe(98);
    const upserts = sandbox.recorder.requests.filter((r) => r.path.endsWith('/batch/upsert'));
    expect(upserts[0]?.status).toBe(400);
    expect(JSON.stringify(upserts.map((u) => u.body))).not.toContain('not an email');
  });

  it('reads every contact of a meeting with more associations than a batch read answers, through the per-object paging', async () => {
    const sandbox = await sandboxForTest({
      seed: 'associations',
      people: 300,
      limits: { ...fast, associationsPerObject: 2 },
    });
    const [meeting] = [...sandbox.portal.engagements.meetings.values()].filter((m) => !m.archived);
    const attendees = [...sandbox.portal.contacts.values()].filter((c) => !c.archived).slice(0, 5);
    meeting!.contactIds = attendees.map((c) => c.id);
    const events = await readEvents('meetings', sandboxConfig(sandbox));
    const ofMeeting = events.filter((e) => e.sourceEventId.startsWith(`meetings:${meeting!.id}:`));
    expect(ofMeeting.map((e) => e.contact.externalId).sort()).toEqual(attendees.map((c) => c.id).sort());
  });

  it('reads submissions of pop-up and non-HubSpot forms too, which the forms listing leaves out unless asked', async () => {
    const sandbox = await sandboxForTest({ seed: 'form-types', people: 300, limits: fast });
    const at = Date.parse('2026-02-01T10:00:00Z');
    const forms = [
      { id: 'popup-1', name: 'Exit pop-up', formType: 'flow' as const },
      { id: 'captured-1', name: 'Webinar sign-up (external)', formType: 'captured' as const },
    ];
    for (const [k, form] of forms.entries()) {
      sandbox.portal.forms.set(form.id, { ...form, createdAt: at, updatedAt: at });
      sandbox.portal.formSubmissions.set(form.id, [
        {
          conversionId: `conv-${form.id}`,
          submittedAt: at + k,
          pageUrl: 'https://example.com/pricing',
          values: [{ name: 'email', value: `${form.id}@example.com`, objectTypeId: '0-1' }],
        },
      ]);
    }
    const events = await readEvents('form_submissions', sandboxConfig(sandbox));
    const ids = new Set(events.map((e) => e.sourceEventId));
    expect(ids.has('form:conv-popup-1')).toBe(true);
    expect(ids.has('form:conv-captured-1')).toBe(true);
  });
});
