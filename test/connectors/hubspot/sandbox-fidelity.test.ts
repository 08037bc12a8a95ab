// The sandbox behaves like HubSpot as API-FACTS.md describes it, checked with raw fetch and SDK calls the connector
// does not make — so the connector's tests run against an API that fails the way HubSpot fails.
import { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type HubSpotSandbox } from '../../../connectors/hubspot/sandbox/index.js';
import { fast } from './fixture.js';

describe('HubSpot sandbox fidelity', () => {
  let sandbox: HubSpotSandbox;
  let big: HubSpotSandbox;
  const auth = () => ({
    authorization: `Bearer ${sandbox.credentials.accessToken}`,
    'content-type': 'application/json',
  });

  beforeAll(async () => {
    sandbox = await startSandbox({ seed: 'fidelity', people: 600, limits: fast });
    big = await startSandbox({
      seed: 'cap',
      bulk: { contacts: 10_500, emailEvents: 0, start: Date.parse('2026-01-01'), spanMs: 86_400_000 },
      limits: fast,
    });
  });
  afterAll(async () => {
    await sandbox.close();
    await big.close();
  });

  it('pages contacts 100 at a time and refuses a bigger page', async () => {
    const client = new Client({
      accessToken: sandbox.credentials.accessToken,
      basePath: sandbox.url,
      numberOfApiCallRetries: 0,
    });
    const page = await client.crm.contacts.basicApi.getPage(100, undefined, ['email']);
    expect(page.results).toHaveLength(100);
    expect(page.paging?.next?.after).toBeTruthy();
    const tooBig = await fetch(`${sandbox.url}/crm/v3/objects/contacts?limit=101`, { headers: auth() });
    expect(tooBig.status).toBe(400);
    const live = [...sandbox.portal.contacts.values()].filter((c) => !c.archived).length;
    let seen = 0;
    let after: string | undefined;
    do {
      const p = await client.crm.contacts.basicApi.getPage(100, after);
      seen += p.results.length;
      after = p.paging?.next?.after;
    } while (after);
    expect(seen).toBe(live);
  });

  it('answers 400 when a search pages past 10,000 results', async () => {
    const search = (after: number) =>
      fetch(`${big.url}/crm/v3/objects/contacts/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${big.credentials.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: '0' }] }],
          sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
          limit: 200,
          after: String(after),
        }),
      });
    const last = await search(9_800);
    expect(last.status).toBe(200);
    const body = (await last.json()) as { total: number; results: unknown[] };
    expect(body.total).toBe(10_500);
    expect(body.results).toHaveLength(200);
    const past = await search(10_000);
    expect(past.status).toBe(400);
    expect(await past.json()).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    const tooBig = await fetch(`${big.url}/crm/v3/objects/contacts/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${big.credentials.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ limit: 201 }),
    });
    expect(tooBig.status).toBe(400);
  });

  it('sorts a search by the modified property descending, so one result is the newest modification', async () => {
    const client = new Client({
      accessToken: sandbox.credentials.accessToken,
      basePath: sandbox.url,
      numberOfApiCallRetries: 0,
    });
    const newest = (type: 'contacts' | 'deals') =>
      Math.max(
        ...[...(type === 'contacts' ? sandbox.portal.contacts : sandbox.portal.engagements.deals).values()]
          .filter((o) => !o.archived)
          .map((o) => o.updatedAt),
      );
    const contacts = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'DESCENDING' }] as never,
      properties: ['lastmodifieddate'],
      limit: 1,
      after: '0',
    });
    expect(contacts.results).toHaveLength(1);
    expect(Date.parse(String(contacts.results[0]?.properties.lastmodifieddate))).toBe(newest('contacts'));
    const deals = await client.crm.deals.searchApi.doSearch({
      filterGroups: [],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'DESCENDING' }] as never,
      properties: ['hs_lastmodifieddate'],
      limit: 1,
      after: '0',
    });
    expect(Date.parse(String(deals.results[0]?.properties.hs_lastmodifieddate))).toBe(newest('deals'));
  });

  it('refuses a whole batch upsert or create for one bad row (400, nothing written), and answers a batch update 207', async () => {
    const client = new Client({
      accessToken: sandbox.credentials.accessToken,
      basePath: sandbox.url,
      numberOfApiCallRetries: 0,
    });
    const refused = await client.crm.contacts.batchApi
      .upsert({
        inputs: [
          { idProperty: 'email', id: 'fidelity.new@example.com', properties: { firstname: 'New' } },
          { idProperty: 'email', id: 'not-an-email', properties: { firstname: 'Bad' } },
        ],
      })
      .catch((error: { code: number; body: { message: string; category: string } }) => error);
    expect(refused).toMatchObject({ code: 400, body: { category: 'VALIDATION_ERROR' } });
    expect((refused as { body: { message: string } }).body.message).toMatch(/Email address not-an-email is invalid/);
    expect(sandbox.portal.findContactByEmail('fidelity.new@example.com')).toBeUndefined();
    const [existing] = [...sandbox.portal.contacts.values()].filter((c) => !c.archived && c.properties.email);
    const conflict = await client.crm.contacts.batchApi
      .create({
        inputs: [
          { properties: { email: 'fidelity.other@example.com' }, associations: [] },
          { properties: { email: existing?.properties.email as string }, associations: [] },
        ],
      })
      .catch((error: { code: number; body: { message: string; category: string } }) => error);
    expect(conflict).toMatchObject({ code: 400, body: { category: 'CONFLICT' } });
    expect(sandbox.portal.findContactByEmail('fidelity.other@example.com')).toBeUndefined();
    const info = await client.crm.contacts.batchApi.updateWithHttpInfo({
      inputs: [
        { id: existing?.id as string, properties: { firstname: 'Kept' } },
        { id: '999999999999', properties: { firstname: 'Nobody' } },
      ],
    });
    expect(info.httpStatusCode).toBe(207);
    expect(sandbox.portal.contacts.get(existing?.id as string)?.properties.firstname).toBe('Kept');
    const tooMany = await fetch(`${sandbox.url}/crm/v3/objects/contacts/batch/upsert`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({
        inputs: Array.from({ length: 101 }, (_, i) => ({
          idProperty: 'email',
          id: `x${i}@example.com`,
          properties: {},
        })),
      }),
    });
    expect(tooMany.status).toBe(400);
  });

  it('answers list memberships add-and-remove with the recordsIdsAdded typo, ignoring present and unknown ids', async () => {
    const create = await fetch(`${sandbox.url}/crm/v3/lists`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ name: 'Fidelity', objectTypeId: '0-1', processingType: 'MANUAL' }),
    });
    const { list } = (await create.json()) as { list: { listId: string } };
    const [a, b] = [...sandbox.portal.contacts.values()].filter((c) => !c.archived);
    const change = (body: unknown) =>
      fetch(`${sandbox.url}/crm/v3/lists/${list.listId}/memberships/add-and-remove`, {
        method: 'PUT',
        headers: auth(),
        body: JSON.stringify(body),
      });
    const first = await (await change({ recordIdsToAdd: [a?.id, b?.id, '99999999999'], recordIdsToRemove: [] })).json();
    expect(first).toEqual({ recordsIdsAdded: [a?.id, b?.id], recordIdsRemoved: [], recordIdsMissing: ['99999999999'] });
    const again = await (await change({ recordIdsToAdd: [a?.id], recordIdsToRemove: [b?.id] })).json();
    expect(again).toMatchObject({ recordsIdsAdded: [], recordIdsRemoved: [b?.id] });
    const byName = await fetch(`${sandbox.url}/crm/v3/lists/object-type-id/0-1/name/Fidelity`, { headers: auth() });
    expect(((await byName.json()) as { list: { listId: string; size: number } }).list).toMatchObject({
      listId: list.listId,
      size: 1,
    });
    const v1 = await fetch(`${sandbox.url}/contacts/v1/lists`, { headers: auth() });
    expect(v1.status).toBe(404);
  });

  it("answers errors with HubSpot's body, and 401 without a valid Bearer token", async () => {
    const missing = await fetch(`${sandbox.url}/crm/v3/objects/contacts/1`, { headers: auth() });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      status: 'error',
      message: expect.any(String),
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      category: 'OBJECT_NOT_FOUND',
    });
    const noAuth = await fetch(`${sandbox.url}/crm/v3/objects/contacts`);
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    const client = new Client({ accessToken: 'wrong', basePath: sandbox.url, numberOfApiCallRetries: 0 });
    await expect(client.crm.contacts.basicApi.getPage(10)).rejects.toMatchObject({
      code: 401,
      body: { category: 'INVALID_AUTHENTICATION' },
    });
  });

  it('answers a raw burst over 100 requests in ten seconds with 429, HubSpot’s body and the rate-limit headers', async () => {
    const limited = await startSandbox({ seed: 'burst', people: 50 });
    try {
      const responses = await Promise.all(
        Array.from({ length: 120 }, () =>
          fetch(`${limited.url}/crm/v3/objects/contacts?limit=1`, {
            headers: { authorization: `Bearer ${limited.credentials.accessToken}` },
          }),
        ),
      );
      const ok = responses.filter((r) => r.status === 200);
      const refused = responses.filter((r) => r.status === 429);
      expect(ok).toHaveLength(100);
      expect(refused).toHaveLength(20);
      const sample = refused[0] as Response;
      expect(await sample.json()).toMatchObject({
        status: 'error',
        message: 'You have reached your ten_secondly_rolling limit.',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
        correlationId: expect.any(String),
      });
      expect(sample.headers.get('x-hubspot-ratelimit-max')).toBe('100');
      expect(sample.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
      expect(sample.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
      expect(sample.headers.get('x-hubspot-ratelimit-daily')).toBe('250000');
      expect(Number(ok[0]?.headers.get('x-hubspot-ratelimit-daily-remaining'))).toBeLessThan(250_000);
    } finally {
      await limited.close();
    }
  });

  it('serves marketing email events from the legacy Email Events API, paged by offset', async () => {
    const client = new Client({
      accessToken: sandbox.credentials.accessToken,
      basePath: sandbox.url,
      numberOfApiCallRetries: 0,
    });
    const response = await client.apiRequest({
      method: 'GET',
      path: '/email/public/v1/events',
      qs: { limit: '50', startTimestamp: '0' },
    });
    const page = (await response.json()) as {
      events: { type: string; recipient: string; created: number }[];
      hasMore: boolean;
      offset: string;
    };
    expect(page.events).toHaveLength(50);
    expect(page.hasMore).toBe(true);
    expect(new Set(page.events.map((e) => e.type))).not.toContain('email_sent');
    const emails = new Set([...sandbox.portal.contacts.values()].map((c) => c.properties.email));
    expect(page.events.every((e) => emails.has(e.recipient))).toBe(true);
  });

  it('links engagement to contacts only through the associations v4 batch read', async () => {
    const client = new Client({
      accessToken: sandbox.credentials.accessToken,
      basePath: sandbox.url,
      numberOfApiCallRetries: 0,
    });
    const deals = await client.crm.deals.searchApi.doSearch({
      filterGroups: [],
      sorts: [],
      properties: ['amount'],
      limit: 5,
      after: '0',
    } as never);
    expect(deals.results.length).toBeGreaterThan(0);
    expect((deals.results[0] as { associations?: unknown }).associations).toBeUndefined();
    const links = await client.crm.associations.v4.batchApi.getPage('deals', 'contacts', {
      inputs: deals.results.map((d) => ({ id: d.id })),
    });
    expect(links.results.length).toBe(deals.results.length);
    expect(sandbox.portal.contacts.has(String(links.results[0]?.to[0]?.toObjectId))).toBe(true);
  });

  it('shows an archived contact only to archived=true reads, and a merged contact with hs_merged_object_ids', async () => {
    const archived = [...sandbox.portal.contacts.values()].find((c) => c.archived);
    const merged = [...sandbox.portal.contacts.values()].find((c) => c.properties.hs_merged_object_ids);
    expect(archived).toBeDefined();
    expect(merged).toBeDefined();
    const live = await fetch(`${sandbox.url}/crm/v3/objects/contacts/${archived?.id}`, { headers: auth() });
    expect(live.status).toBe(404);
    const gone = await fetch(`${sandbox.url}/crm/v3/objects/contacts/${archived?.id}?archived=true`, {
      headers: auth(),
    });
    expect(((await gone.json()) as { archived: boolean }).archived).toBe(true);
    const loser = merged?.properties.hs_merged_object_ids?.split(';')[0];
    const viaLoser = await fetch(`${sandbox.url}/crm/v3/objects/contacts/${loser}?properties=hs_merged_object_ids`, {
      headers: auth(),
    });
    expect(((await viaLoser.json()) as { id: string }).id).toBe(merged?.id);
  });
});
