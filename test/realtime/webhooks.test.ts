/**
 * Tool webhooks through POST|GET /webhooks/:connection: each connector's hook verifies (good, bad, stale where the
 * tool signs with a time) and parses; what it parses is stored like /v1 messages, what it answers goes back to the
 * tool (Salesforce's Ack, Mailchimp's verification GET), and a refused request stores nothing.
 */
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../config/index.js';
import { outboundMessage } from '../../connectors/salesforce/index.js';
import { findContactByExternalId } from '../../core/index.js';
import { loadWaitingMessages } from '../../core/realtime/index.js';
import type { ServerDeps } from '../../server/deps.js';
import { ingestRoutes } from '../../server/ingest/index.js';
import { depsOf, HUBSPOT_SECRET, MAILCHIMP_SECRET, SALESFORCE_ORG, tempDir, writeConfig } from './fixture.js';

let dir: string;
let config: Config;
let deps: ServerDeps;

beforeEach(async () => {
  dir = tempDir();
  config = await writeConfig(dir);
  deps = await depsOf(config);
});
afterEach(async () => {
  await deps.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const inbox = async () => ((await deps.store.get('SELECT COUNT(*) AS n FROM realtime_inbox')) as { n: number }).n;
const call = (path: string, init: RequestInit) => ingestRoutes(deps).request(`http://segflow.test${path}`, init);

describe('Mailchimp: the secret token in the URL, a form-encoded body, the verification GET', () => {
  const form = new URLSearchParams({
    type: 'subscribe',
    fired_at: '2026-03-01 10:00:00',
    'data[email]': 'Ann@Example.com',
    'data[list_id]': 'aud1',
    'data[merges][FNAME]': 'Ann',
  }).toString();
  const post = (token: string | null) =>
    call(`/webhooks/newsletter${token === null ? '' : `?token=${token}`}`, {
      method: 'POST',
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  it('with the right token: 200, stored, and loaded as a subscribed contact', async () => {
    const res = await post(MAILCHIMP_SECRET);
    expect(res.status).toBe(200);
    expect(await inbox()).toBe(1);
    await loadWaitingMessages(deps.store);
    const row = (await deps.store.get("SELECT email, traits FROM identities WHERE source = 'mailchimp'")) as {
      email: string;
      traits: string;
    };
    expect(row.email).toBe('ann@example.com');
    expect(JSON.parse(row.traits)).toMatchObject({ email_consent: 'subscribed', first_name: 'Ann' });
  });

  it('redelivered: stored once', async () => {
    await post(MAILCHIMP_SECRET);
    expect((await post(MAILCHIMP_SECRET)).status).toBe(200);
    expect(await inbox()).toBe(1);
  });

  it('with a wrong token or none: 401 and nothing stored', async () => {
    expect((await post('not-the-secret')).status).toBe(401);
    const none = await post(null);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/token/);
    expect(await inbox()).toBe(0);
  });

  it('answers the verification GET Mailchimp sends when the webhook is set up, only with the token', async () => {
    expect((await call(`/webhooks/newsletter?token=${MAILCHIMP_SECRET}`, { method: 'GET' })).status).toBe(200);
    expect((await call('/webhooks/newsletter?token=wrong-token', { method: 'GET' })).status).toBe(401);
    expect(await inbox()).toBe(0);
  });
});

describe('Salesforce outbound messages: the organisation id, and the Ack envelope', () => {
  const envelope = (org: string) =>
    outboundMessage({
      organizationId: org,
      type: 'Contact',
      records: [
        {
          Id: '003000000000001AAA',
          Email: 'cy@example.com',
          FirstName: 'Cy',
          LastName: 'Ng',
          LastModifiedDate: '2026-03-01T10:00:00.000Z',
        },
      ],
    });
  const post = (body: string) =>
    call('/webhooks/crm', {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'notifications' },
    });

  it('from our organisation: Ack true, stored and loaded as the Salesforce contact', async () => {
    const res = await post(envelope(SALESFORCE_ORG));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    expect(await res.text()).toContain('<Ack>true</Ack>');
    await loadWaitingMessages(deps.store);
    expect((await findContactByExternalId(deps.store, 'salesforce', '003000000000001AAA'))?.email).toBe(
      'cy@example.com',
    );
  });

  it('from another organisation: 401, no Ack, nothing stored', async () => {
    const res = await post(envelope('00D000000000OTHERAA'));
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('<Ack>');
    expect(await inbox()).toBe(0);
  });
});

describe('routing', () => {
  it('an unknown connection is 404', async () => {
    expect((await call('/webhooks/nope', { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

// HubSpot signs with v3: base64 HMAC-SHA256 of method + URL + body + timestamp under the app's client secret.
describe('HubSpot: the v3 signature and its 5-minute window', () => {
  const body = JSON.stringify([
    {
      subscriptionType: 'contact.propertyChange',
      objectId: 101,
      propertyName: 'email',
      propertyValue: 'dee@example.com',
      occurredAt: Date.now(),
      eventId: 1,
    },
  ]);
  const url = 'http://segflow.test/webhooks/hub';
  const signed = (at: number, secret = HUBSPOT_SECRET, payload = body) =>
    call('/webhooks/hub', {
      method: 'POST',
      body: payload,
      headers: {
        'content-type': 'application/json',
        'x-hubspot-request-timestamp': String(at),
        'x-hubspot-signature-v3': createHmac('sha256', secret).update(`POST${url}${payload}${at}`).digest('base64'),
      },
    });

  it('a good signature is accepted, stored, and loaded as the HubSpot contact', async () => {
    expect((await signed(Date.now())).status).toBe(200);
    expect(await inbox()).toBe(1);
    await loadWaitingMessages(deps.store);
    expect((await findContactByExternalId(deps.store, 'hubspot', '101'))?.email).toBe('dee@example.com');
  });
  it('a later property change keeps what the store already knew of the contact', async () => {
    await signed(Date.now());
    await loadWaitingMessages(deps.store);
    const rename = JSON.stringify([
      {
        subscriptionType: 'contact.propertyChange',
        objectId: 101,
        propertyName: 'firstname',
        propertyValue: 'Dee',
        occurredAt: Date.now() + 1000,
        eventId: 3,
      },
    ]);
    expect((await signed(Date.now(), HUBSPOT_SECRET, rename)).status).toBe(200);
    await loadWaitingMessages(deps.store);
    const row = (await deps.store.get(
      "SELECT email, traits FROM identities WHERE source = 'hubspot' AND external_id = '101'",
    )) as {
      email: string;
      traits: string;
    };
    expect(row.email).toBe('dee@example.com');
    expect(JSON.parse(row.traits)).toMatchObject({ email: 'dee@example.com', first_name: 'Dee' });
  });
  it('a deletion event marks the contact deleted', async () => {
    await signed(Date.now());
    await loadWaitingMessages(deps.store);
    const deletion = JSON.stringify([
      { subscriptionType: 'contact.deletion', objectId: 101, occurredAt: Date.now() + 1000, eventId: 2 },
    ]);
    expect((await signed(Date.now(), HUBSPOT_SECRET, deletion)).status).toBe(200);
    await loadWaitingMessages(deps.store);
    const row = (await deps.store.get(
      "SELECT deleted FROM identities WHERE source = 'hubspot' AND external_id = '101'",
    )) as { deleted: number };
    expect(row.deleted).toBe(1);
  });
  it('a bad signature is 401 and stores nothing', async () => {
    expect((await signed(Date.now(), 'another-secret')).status).toBe(401);
    expect(await inbox()).toBe(0);
  });
  it('a signature older than 5 minutes is 401 and stores nothing', async () => {
    const res = await signed(Date.now() - 6 * 60_000);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/5 minutes/);
    expect(await inbox()).toBe(0);
  });
});
