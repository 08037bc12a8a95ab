// The HubSpot webhook hook: v3 signatures as HubSpot's own SDK computes them, the 5-minute window, and the contact
// records one request's events become.
import { Signature } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';
import { hubspotSpec, source, type HubSpotConfig } from '../../../connectors/hubspot/index.js';
import { contactRecordSchema, type ContactRecord, type WebhookRequest } from '../../../plugins/index.js';

const SECRET = 'app-client-secret-0f3c';
const URL_ = 'https://segflow.example/webhooks/hubspot';
const NOW = Date.UTC(2026, 2, 1, 10, 0, 0);
const hook = source.webhook!;
const config = (extra: Partial<HubSpotConfig> = {}): HubSpotConfig =>
  hubspotSpec.parse({ accessToken: 'pat-x', clientSecret: SECRET, ...extra });

/** A request signed by the official SDK's v3 implementation (an independent reference, not our code). */
function signed(
  body: string,
  options: { at?: number; secret?: string; url?: string; signedUrl?: string; method?: string } = {},
): WebhookRequest {
  const at = options.at ?? NOW;
  const method = options.method ?? 'POST';
  const signature = Signature.getSignature(method, 'v3', {
    signature: '',
    clientSecret: options.secret ?? SECRET,
    requestBody: body,
    url: options.signedUrl ?? options.url ?? URL_,
    timestamp: at,
  });
  return {
    method,
    url: options.url ?? URL_,
    body,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-request-timestamp': String(at),
      'x-hubspot-signature-v3': signature,
    },
  };
}

const change = (
  eventId: number,
  objectId: number,
  propertyName: string,
  propertyValue: string,
  occurredAt = NOW - 1_000,
) => ({
  eventId,
  subscriptionId: 1,
  portalId: 62515,
  appId: 7,
  occurredAt,
  subscriptionType: 'contact.propertyChange',
  attemptNumber: 0,
  objectId,
  changeSource: 'CRM',
  propertyName,
  propertyValue,
});
const lifecycle = (eventId: number, objectId: number, subscriptionType: string, occurredAt = NOW - 1_000) => ({
  eventId,
  subscriptionId: 2,
  portalId: 62515,
  appId: 7,
  occurredAt,
  subscriptionType,
  attemptNumber: 0,
  objectId,
  changeSource: 'CRM',
});
const parse = (events: unknown[], cfg = config()): ContactRecord[] =>
  hook.parse(signed(JSON.stringify(events)), cfg).records as ContactRecord[];

describe('HubSpot webhook signature (v3)', () => {
  const body = JSON.stringify([change(1, 101, 'email', 'dee@example.com')]);

  it('accepts a request signed by the app, and the SDK agrees it is valid', () => {
    const request = signed(body, { at: Date.now() });
    expect(hook.verify(request, config(), Date.now())).toEqual({ ok: true });
    expect(
      Signature.isValid({
        signatureVersion: 'v3',
        signature: request.headers['x-hubspot-signature-v3'] as string,
        clientSecret: SECRET,
        requestBody: body,
        url: URL_,
        method: 'POST',
        timestamp: Number(request.headers['x-hubspot-request-timestamp']),
      }),
    ).toBe(true);
  });

  it('refuses another secret, a changed body, another method or another URL', () => {
    expect(hook.verify(signed(body, { secret: 'not-the-secret' }), config(), NOW).ok).toBe(false);
    expect(hook.verify({ ...signed(body), body: body.replace('dee@', 'eve@') }, config(), NOW).ok).toBe(false);
    expect(hook.verify({ ...signed(body, { method: 'PUT' }), method: 'POST' }, config(), NOW).ok).toBe(false);
    expect(hook.verify({ ...signed(body), url: 'https://evil.example/webhooks/hubspot' }, config(), NOW).ok).toBe(
      false,
    );
  });

  it('refuses a timestamp changed after signing, even inside the window', () => {
    const request = signed(body, { at: NOW - 60_000 });
    request.headers['x-hubspot-request-timestamp'] = String(NOW);
    expect(hook.verify(request, config(), NOW).ok).toBe(false);
  });

  it('accepts up to 5 minutes old and refuses older, with the reason', () => {
    expect(hook.verify(signed(body, { at: NOW - 5 * 60_000 }), config(), NOW).ok).toBe(true);
    const stale = hook.verify(signed(body, { at: NOW - 5 * 60_000 - 1 }), config(), NOW);
    expect(stale.ok).toBe(false);
    expect(!stale.ok && stale.reason).toMatch(/over 5 minutes/);
  });

  it('refuses a timestamp more than 5 minutes in the future', () => {
    expect(hook.verify(signed(body, { at: NOW + 5 * 60_000 + 1 }), config(), NOW).ok).toBe(false);
  });

  it('without clientSecret every request is refused, naming the setting', () => {
    const verdict = hook.verify(signed(body), hubspotSpec.parse({ accessToken: 'pat-x' }), NOW);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toMatch(/clientSecret/);
  });

  it('refuses a request without the v3 headers, and never echoes the secret', () => {
    const { ['x-hubspot-signature-v3']: _signature, ...noSignature } = signed(body).headers;
    const verdict = hook.verify({ ...signed(body), headers: noSignature }, config(), NOW);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toMatch(/X-HubSpot-Signature-v3/);
    const { ['x-hubspot-request-timestamp']: _at, ...noTimestamp } = signed(body).headers;
    expect(hook.verify({ ...signed(body), headers: noTimestamp }, config(), NOW).ok).toBe(false);
    const wrong = hook.verify(signed(body, { secret: 'nope' }), config(), NOW);
    expect(JSON.stringify(wrong)).not.toContain(SECRET);
  });

  it('checks the URI with the characters HubSpot decodes before signing', () => {
    const received = 'https://segflow.example/webhooks/hubspot?from=2026-03-01T10%3A00%3A00Z&by=ops%40example.com';
    const decoded = 'https://segflow.example/webhooks/hubspot?from=2026-03-01T10:00:00Z&by=ops@example.com';
    expect(hook.verify(signed(body, { url: received, signedUrl: decoded }), config(), NOW).ok).toBe(true);
  });

  it('behind a proxy, checks against the configured public webhookUrl', () => {
    const request = signed(body, { url: 'http://127.0.0.1:8080/webhooks/hubspot', signedUrl: URL_ });
    expect(hook.verify(request, config(), NOW).ok).toBe(false);
    expect(hook.verify(request, config({ webhookUrl: URL_ }), NOW).ok).toBe(true);
  });
});

describe('HubSpot webhook events as contact records', () => {
  it('a property change is a contact record carrying the changed trait, stamped with when it happened', () => {
    const [record, ...rest] = parse([change(1, 101, 'firstname', 'Dee', Date.UTC(2026, 2, 1, 9, 59))]);
    expect(rest).toEqual([]);
    expect(contactRecordSchema.safeParse(record).success).toBe(true);
    expect(record).toMatchObject({
      kind: 'contact',
      source: 'hubspot',
      externalId: '101',
      traits: { first_name: 'Dee', updated_at: '2026-03-01T09:59:00.000Z' },
    });
    expect(record?.deleted).toBeUndefined();
  });

  it('maps HubSpot property names to canonical traits, opt-out to consent, and keeps configured extra properties', () => {
    const [record] = parse(
      [
        change(1, 101, 'jobtitle', 'CTO'),
        change(2, 101, 'lifecyclestage', 'customer'),
        change(3, 101, 'hs_email_optout', 'true'),
        change(4, 101, 'plan_tier', 'gold'),
        change(5, 101, 'not_read', 'x'),
      ],
      config({ properties: ['plan_tier'] }),
    );
    expect(record?.traits).toMatchObject({
      job_title: 'CTO',
      lifecycle_stage: 'customer',
      email_consent: 'unsubscribed',
      plan_tier: 'gold',
    });
    expect(record?.traits).not.toHaveProperty('not_read');
  });

  it('events of one contact are coalesced in the order they happened (the later value wins)', () => {
    const records = parse([
      change(2, 101, 'city', 'Paris', NOW - 1_000),
      change(1, 101, 'city', 'Lyon', NOW - 5_000),
      change(3, 102, 'city', 'Oslo'),
    ]);
    expect(records.map((r) => [r.externalId, r.traits.city])).toEqual([
      ['101', 'Paris'],
      ['102', 'Oslo'],
    ]);
    expect(records[0]?.traits.updated_at).toBe(new Date(NOW - 1_000).toISOString());
  });

  it('a deletion is a deleted contact record; a later restore brings it back', () => {
    expect(parse([lifecycle(1, 101, 'contact.deletion')])).toMatchObject([{ externalId: '101', deleted: true }]);
    const [restored] = parse([
      lifecycle(1, 101, 'contact.deletion', NOW - 2_000),
      lifecycle(2, 101, 'contact.restore', NOW - 1_000),
    ]);
    expect(restored?.deleted).toBeUndefined();
  });

  it('a privacy (GDPR) deletion is a deleted record that keeps nothing of the person', () => {
    const [record] = parse([
      change(1, 101, 'email', 'dee@example.com', NOW - 3_000),
      lifecycle(2, 101, 'contact.privacyDeletion', NOW - 2_000),
      change(3, 101, 'firstname', 'Dee', NOW - 1_000),
    ]);
    expect(record?.deleted).toBe(true);
    expect(Object.keys(record?.traits ?? {})).toEqual(['updated_at']);
    expect(JSON.stringify(record?.raw)).not.toContain('dee@example.com');
  });

  it('a merge links the merged ids to the surviving contact', () => {
    const [record] = parse([
      { ...lifecycle(1, 201, 'contact.merge'), primaryObjectId: 201, mergedObjectIds: [202, 203], newObjectId: 201 },
    ]);
    expect(record).toMatchObject({ externalId: '201', linkedIds: ['202', '203'] });
  });

  it('a creation is a contact record stamped with its creation time', () => {
    const [record] = parse([lifecycle(1, 301, 'contact.creation', Date.UTC(2026, 2, 1, 9, 0))]);
    expect(record?.traits).toMatchObject({
      created_at: '2026-03-01T09:00:00.000Z',
      updated_at: '2026-03-01T09:00:00.000Z',
    });
  });

  it('an event repeated in a request counts once, and a redelivery maps to the same records', () => {
    const event = change(1, 101, 'city', 'Paris');
    const once = parse([event]);
    expect(parse([event, { ...event, attemptNumber: 1 }])).toEqual(once);
    expect(parse([{ ...event, attemptNumber: 3 }])).toEqual(once);
  });

  it('other objects and unknown subscriptions read nothing; a body that is not a JSON array is an error', () => {
    expect(
      parse([
        { ...change(1, 5, 'dealname', 'Big'), subscriptionType: 'deal.propertyChange' },
        lifecycle(2, 6, 'contact.associationChange'),
      ]),
    ).toEqual([]);
    expect(() => hook.parse(signed('not json'), config())).toThrow(/not JSON/);
    expect(() => hook.parse(signed('{"eventId":1}'), config())).toThrow(/array/);
  });
});
