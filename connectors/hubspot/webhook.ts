/**
 * HubSpot webhooks: the app posts a JSON array of events (contact.creation, contact.propertyChange, contact.deletion,
 * contact.privacyDeletion, contact.merge, contact.restore, …) signed with v3: base64 HMAC-SHA256 under the app's
 * client secret of method + URI + raw body + the `X-HubSpot-Request-Timestamp` (ms). Requests whose timestamp is
 * more than five minutes away from now are refused, and the signature is compared in constant time. The events of
 * one request are coalesced per contact into canonical contact records.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ContactRecord, WebhookHook, WebhookRequest } from '../../plugins/index.js';
import type { HubSpotConfig } from './client.js';

/** How far a signature's timestamp may be from now (HubSpot: reject timestamps older than 5 minutes). */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

/** HubSpot contact properties and the canonical traits they carry. */
const TRAIT_OF_PROPERTY: Readonly<Record<string, string>> = {
  email: 'email',
  firstname: 'first_name',
  lastname: 'last_name',
  phone: 'phone',
  company: 'company',
  jobtitle: 'job_title',
  country: 'country',
  city: 'city',
  lifecyclestage: 'lifecycle_stage',
  hubspot_owner_id: 'owner',
};

/** One event of a HubSpot webhook request (fields HubSpot sends that we read). */
export interface HubSpotWebhookEvent {
  subscriptionType: string;
  objectId: number | string;
  eventId: number | string;
  occurredAt: number;
  propertyName?: string;
  propertyValue?: string | null;
  portalId?: number;
  attemptNumber?: number;
  changeSource?: string;
  /** contact.merge: the surviving contact and the ids folded into it. */
  primaryObjectId?: number | string;
  mergedObjectIds?: (number | string)[];
  newObjectId?: number | string;
}

/** Percent-escapes HubSpot decodes in the URI before signing (its v3 validation guide lists them). */
const DECODED: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

function decodeUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => DECODED[escape.toUpperCase()] ?? escape);
}

function header(request: WebhookRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The URLs HubSpot may have signed: the configured public URL, else the one the request arrived on (as sent and decoded). */
function signedUrls(request: WebhookRequest, config: HubSpotConfig): string[] {
  const base = config.webhookUrl ?? request.url;
  return [...new Set([base, decodeUri(base)])];
}

/**
 * The v3 signature of a request: base64 HMAC-SHA256 under the client secret of method + URI + body + timestamp.
 *
 * @example
 * signatureV3('secret', 'POST', 'https://example.com/webhooks/hub', '[]', '1700000000000'); // 'Xk…='
 */
export function signatureV3(
  clientSecret: string,
  method: string,
  url: string,
  body: string,
  timestamp: string,
): string {
  return createHmac('sha256', clientSecret)
    .update(`${method.toUpperCase()}${url}${body}${timestamp}`, 'utf8')
    .digest('base64');
}

function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function verify(
  request: WebhookRequest,
  config: HubSpotConfig,
  now: number,
): { ok: true } | { ok: false; reason: string } {
  if (!config.clientSecret)
    return {
      ok: false,
      reason:
        "set clientSecret (the HubSpot app's client secret) in the connection's config to accept HubSpot webhooks",
    };
  const signature = header(request, 'x-hubspot-signature-v3');
  const timestamp = header(request, 'x-hubspot-request-timestamp');
  if (!signature) return { ok: false, reason: 'no X-HubSpot-Signature-v3 header (only v3 signatures are accepted)' };
  if (!timestamp || !/^\d+$/.test(timestamp.trim()))
    return { ok: false, reason: 'no valid X-HubSpot-Request-Timestamp header (epoch milliseconds)' };
  const at = Number(timestamp.trim());
  if (now - at > SIGNATURE_WINDOW_MS)
    return {
      ok: false,
      reason: `the signature timestamp is ${Math.round((now - at) / 1000)} s old (over 5 minutes): refused as a possible replay`,
    };
  if (at - now > SIGNATURE_WINDOW_MS)
    return { ok: false, reason: 'the signature timestamp is more than 5 minutes in the future' };
  const secret = config.clientSecret;
  const matches = signedUrls(request, config).some((url) =>
    sameSignature(signature.trim(), signatureV3(secret, request.method, url, request.body, timestamp.trim())),
  );
  if (!matches)
    return {
      ok: false,
      reason:
        'the X-HubSpot-Signature-v3 signature does not match (check clientSecret, and webhookUrl when segflow is behind a proxy)',
    };
  return { ok: true };
}

function eventsOf(body: string): HubSpotWebhookEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error('the body is not JSON (HubSpot posts a JSON array of events)');
  }
  if (!Array.isArray(parsed)) throw new Error('the body is not a JSON array of events');
  return parsed.filter((e): e is HubSpotWebhookEvent => {
    if (typeof e !== 'object' || e === null) return false;
    const event = e as Partial<HubSpotWebhookEvent>;
    return (
      typeof event.subscriptionType === 'string' &&
      (typeof event.objectId === 'number' || typeof event.objectId === 'string') &&
      Number.isFinite(Number(event.occurredAt))
    );
  });
}

interface Pending {
  externalId: string;
  traits: ContactRecord['traits'];
  properties: Record<string, string | null>;
  linkedIds: Set<string>;
  deleted: boolean;
  privacy: boolean;
  eventIds: string[];
  at: number;
}

/**
 * Turns the events of one webhook request into contact records, one per contact: property changes in the order they
 * occurred (the last value wins), `updated_at` the latest event's time, deleted when the contact's last event is a
 * deletion (a privacy deletion always wins). Events repeated in a request (same eventId) count once, and a
 * redelivery maps to identical records, so loading it again changes nothing. Properties segflow does not read
 * (neither canonical nor listed in `properties`) and other object types are ignored.
 *
 * @example
 * webhookRecords('[{"subscriptionType":"contact.deletion","objectId":101,"eventId":7,"occurredAt":1700000000000}]', config)
 * // [{ kind: 'contact', source: 'hubspot', externalId: '101', deleted: true, traits: { updated_at: '2023-11-14T22:13:20.000Z' }, … }]
 */
export function webhookRecords(body: string, config: Pick<HubSpotConfig, 'properties'>): ContactRecord[] {
  const events = eventsOf(body).sort((a, b) => Number(a.occurredAt) - Number(b.occurredAt));
  const extra = new Set(config.properties);
  const seen = new Set<string>();
  const byContact = new Map<string, Pending>();
  const pendingFor = (id: string): Pending => {
    let pending = byContact.get(id);
    if (!pending) {
      pending = {
        externalId: id,
        traits: {},
        properties: {},
        linkedIds: new Set(),
        deleted: false,
        privacy: false,
        eventIds: [],
        at: 0,
      };
      byContact.set(id, pending);
    }
    return pending;
  };
  for (const event of events) {
    const eventId = event.eventId === undefined || event.eventId === null ? undefined : String(event.eventId);
    if (eventId !== undefined) {
      if (seen.has(eventId)) continue;
      seen.add(eventId);
    }
    const [object, action] = event.subscriptionType.split('.');
    if (object !== 'contact' || !action) continue;
    const at = Number(event.occurredAt);
    const id = String(
      action === 'merge' ? (event.primaryObjectId ?? event.newObjectId ?? event.objectId) : event.objectId,
    );
    switch (action) {
      case 'propertyChange': {
        const name = event.propertyName;
        if (!name || byContact.get(id)?.privacy) continue;
        const trait =
          TRAIT_OF_PROPERTY[name] ??
          (extra.has(name) ? name : name === 'hs_email_optout' ? 'email_consent' : undefined);
        if (!trait) continue;
        const pending = pendingFor(id);
        const value = event.propertyValue === undefined || event.propertyValue === '' ? null : event.propertyValue;
        if (trait === 'email_consent') {
          if (value === 'true') pending.traits.email_consent = 'unsubscribed';
          else delete pending.traits.email_consent;
        } else {
          pending.traits[trait] = value;
        }
        pending.properties[name] = value;
        pending.deleted = pending.privacy;
        note(pending, eventId, at);
        break;
      }
      case 'creation':
      case 'restore': {
        const pending = pendingFor(id);
        if (action === 'creation') pending.traits.created_at ??= new Date(at).toISOString();
        pending.deleted = pending.privacy;
        note(pending, eventId, at);
        break;
      }
      case 'deletion':
      case 'privacyDeletion': {
        const pending = pendingFor(id);
        pending.deleted = true;
        if (action === 'privacyDeletion') {
          // A GDPR deletion keeps nothing of the person, not even what earlier events of this request said.
          pending.privacy = true;
          pending.traits = {};
          pending.properties = {};
        }
        note(pending, eventId, at);
        break;
      }
      case 'merge': {
        const pending = pendingFor(id);
        for (const merged of event.mergedObjectIds ?? [])
          if (String(merged) !== id) pending.linkedIds.add(String(merged));
        pending.deleted = pending.privacy;
        note(pending, eventId, at);
        break;
      }
      default:
        continue;
    }
  }
  return [...byContact.values()].map((p): ContactRecord => {
    const traits: ContactRecord['traits'] = p.traits;
    traits.updated_at = new Date(p.at).toISOString();
    return {
      kind: 'contact',
      source: 'hubspot',
      externalId: p.externalId,
      traits,
      ...(p.linkedIds.size > 0 ? { linkedIds: [...p.linkedIds].sort() } : {}),
      ...(p.deleted ? { deleted: true } : {}),
      raw: { ...p.properties, hubspot_event_ids: p.eventIds, ...(p.privacy ? { gdpr_deleted: true } : {}) },
    };
  });
}

function note(pending: Pending, eventId: string | undefined, at: number): void {
  if (eventId !== undefined) pending.eventIds.push(eventId);
  if (at > pending.at) pending.at = at;
}

/**
 * The HubSpot source's webhook hook (v3 signatures).
 *
 * @example
 * hubspotWebhook.verify({ method: 'POST', url, headers, body }, config, Date.now()); // { ok: true } when signed by the app
 */
export const hubspotWebhook: WebhookHook<HubSpotConfig> = {
  verify,
  parse(request, config) {
    return { records: webhookRecords(request.body, config) };
  },
};
