// What the HubSpot destination must get right beyond the conformance kit: creating missing contacts through a batch
// upsert that HubSpot refuses whole for one bad row, the contact-property mode (property created when missing), and
// erasure through GDPR delete. Real SDK against the sandbox; outcomes read from the sandbox portal.
import { describe, expect, it } from 'vitest';
import { createContext, type MembershipChange } from '../../../plugins/index.js';
import {
  classifyHubSpotError,
  destination,
  hubspotSpec,
  sandboxConfig,
  type HubSpotSandbox,
} from '../../../connectors/hubspot/index.js';
import { quiet, fast, sandboxForTest } from './fixture.js';

const ctx = () =>
  createContext({
    connection: 'lists',
    budget: { requests: 100_000, intervalMs: 10_000 },
    classifyError: classifyHubSpotError,
    logger: quiet,
  });
const vip = { key: 'vip', name: 'VIP' };
const listMembers = (s: HubSpotSandbox, name: string) =>
  [...([...s.portal.lists.values()].find((l) => l.name === name)?.members.keys() ?? [])].sort();

function liveContacts(s: HubSpotSandbox, n: number) {
  return [...s.portal.contacts.values()].filter((c) => !c.archived).slice(0, n);
}

describe('HubSpot destination', () => {
  it('creates missing contacts by batch upsert, adds them to the list, and rejects only the bad row of a batch HubSpot refused whole, with HubSpot’s message', async () => {
    const sandbox = await sandboxForTest({ seed: 'upsert', people: 200, limits: fast });
    sandbox.portal.badEmails.add('refused@example.org');
    const [known] = liveContacts(sandbox, 1);
    const config = hubspotSpec.parse({ ...sandboxConfig(sandbox), createMissingContacts: true });
    const changes: MembershipChange[] = [
      { op: 'add', contact: { contactId: '1', email: null, externalIds: [known?.id as string] } },
      { op: 'add', contact: { contactId: '2', email: 'new.person@example.org', externalIds: [] } },
      { op: 'add', contact: { contactId: '3', email: 'refused@example.org', externalIds: [] } },
    ];
    const results = await destination.write({ segment: vip, changes }, config, ctx());

    const created = sandbox.portal.findContactByEmail('new.person@example.org');
    expect(created).toBeDefined();
    expect(sandbox.portal.findContactByEmail('refused@example.org')).toBeUndefined();
    expect(results[0]).toEqual({ status: 'accepted', destinationRecordId: known?.id });
    expect(results[1]).toEqual({ status: 'accepted', destinationRecordId: created?.id });
    expect(results[2]?.status).toBe('rejected');
    expect(results[2]?.status === 'rejected' && results[2].reason).toContain(
      'Email address refused@example.org is invalid',
    );
    expect(sandbox.recorder.requests.filter((r) => r.path.endsWith('/batch/upsert')).map((r) => r.status)).toEqual([
      400, 200,
    ]);
    expect(listMembers(sandbox, 'VIP')).toEqual([known?.id, created?.id].sort());
  });

  it('without createMissingContacts, skips (with the reason) people HubSpot does not hold, and adds the rest of the batch', async () => {
    const sandbox = await sandboxForTest({ seed: 'skip', people: 200, limits: fast });
    const [known] = liveContacts(sandbox, 1);
    const config = hubspotSpec.parse(sandboxConfig(sandbox));
    const changes: MembershipChange[] = [
      { op: 'add', contact: { contactId: '1', email: null, externalIds: [known?.id as string] } },
      { op: 'add', contact: { contactId: '2', email: 'not.in.hubspot@example.org', externalIds: [] } },
      { op: 'add', contact: { contactId: '3', email: null, externalIds: ['424242424242'] } },
    ];
    const results = await destination.write({ segment: vip, changes }, config, ctx());
    expect(results[0]).toEqual({ status: 'accepted', destinationRecordId: known?.id });
    expect(results[1]).toMatchObject({ status: 'skipped', code: 'NOT_IN_HUBSPOT' });
    expect(results[1]?.status === 'skipped' && results[1].reason).toMatch(/not in HubSpot.*createMissingContacts/);
    expect(results[2]).toMatchObject({ status: 'skipped', code: 'OBJECT_NOT_FOUND' });
    expect(sandbox.portal.findContactByEmail('not.in.hubspot@example.org')).toBeUndefined();
    expect(sandbox.recorder.requests.some((r) => r.path.endsWith('/batch/upsert'))).toBe(false);
    expect(listMembers(sandbox, 'VIP')).toEqual([known?.id]);
  });

  it('writes the segment property on contacts, creating the property when the portal lacks it', async () => {
    const sandbox = await sandboxForTest({ seed: 'property', people: 200, limits: fast });
    const [a, b] = liveContacts(sandbox, 2);
    expect(sandbox.portal.properties.has('segflow_segments')).toBe(false);
    const config = hubspotSpec.parse({ ...sandboxConfig(sandbox), segmentProperty: 'segflow_segments' });
    const results = await destination.write(
      {
        segment: vip,
        changes: [
          {
            op: 'add',
            contact: { contactId: '1', email: null, externalIds: [a?.id as string] },
            traits: { segflow_segments: 'VIP;Champions' },
          },
          {
            op: 'update',
            contact: { contactId: '2', email: null, externalIds: [b?.id as string] },
            traits: { segflow_segments: 'Churned' },
          },
        ],
      },
      config,
      ctx(),
    );
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect(sandbox.portal.properties.has('segflow_segments')).toBe(true);
    expect(sandbox.portal.contacts.get(a?.id as string)?.properties.segflow_segments).toBe('VIP;Champions');
    expect(sandbox.portal.contacts.get(b?.id as string)?.properties.segflow_segments).toBe('Churned');
    expect(listMembers(sandbox, 'VIP')).toEqual([a?.id]);
  });

  it('erases contacts by id or email through GDPR delete, leaving no archived trace, and reports unknown ones as not found', async () => {
    const sandbox = await sandboxForTest({ seed: 'erase', people: 200, limits: fast });
    const [byId, byEmail] = liveContacts(sandbox, 2);
    const config = hubspotSpec.parse(sandboxConfig(sandbox));
    const results = await destination.erase?.(
      [
        { contactId: '1', email: null, externalIds: [byId?.id as string] },
        { contactId: '2', email: (byEmail?.properties.email ?? '').toLowerCase(), externalIds: [] },
        { contactId: '3', email: null, externalIds: ['987654321'] },
      ],
      config,
      ctx(),
    );
    expect(results).toEqual([{ status: 'erased' }, { status: 'erased' }, { status: 'not_found' }]);
    expect(sandbox.portal.contacts.has(byId?.id as string)).toBe(false);
    expect(sandbox.portal.contacts.has(byEmail?.id as string)).toBe(false);
    expect(
      sandbox.recorder.requests.filter((r) => r.path === '/crm/v3/objects/contacts/gdpr-delete').map((r) => r.status),
    ).toEqual([204, 204, 404]);
  });
});
