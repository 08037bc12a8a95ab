/**
 * The Segment spec's messages (track, identify, page, screen) checked one by one and mapped onto the canonical
 * model: identify → a contact record with its traits, track → a canonical event where its name is a known spec event
 * ("Order Completed" → purchase) else `custom`, page and screen → page_view.
 */
import { createHash } from 'node:crypto';
import {
  normaliseEmail,
  type ContactRecord,
  type ContactTraits,
  type EventRecord,
  type EventType,
  type SourceRecord,
} from '../../plugins/index.js';

/** Segment's own limits: one message at most 32 KB, one request at most 500 KB. */
export const MESSAGE_LIMIT_BYTES = 32 * 1024;
export const REQUEST_LIMIT_BYTES = 500 * 1024;

export const MESSAGE_TYPES = ['track', 'identify', 'page', 'screen'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** A message that passed its checks, with the records it maps to. */
export type MappedMessage = { ok: true; messageId: string; records: SourceRecord[] } | { ok: false; reason: string };

/** Spec event names (Segment's e-commerce, email and B2B SaaS specs) that have a canonical event type. */
const SPEC_EVENTS: Record<string, EventType> = {
  'order completed': 'purchase',
  'signed up': 'signup',
  'email delivered': 'email_sent',
  'email sent': 'email_sent',
  'email opened': 'email_open',
  'email link clicked': 'email_click',
  'email bounced': 'email_bounce',
  'email marked as spam': 'email_unsubscribe',
  unsubscribed: 'email_unsubscribe',
  'form submitted': 'form_submit',
  'feature used': 'feature_used',
  'deal created': 'deal_created',
  'deal won': 'deal_won',
  'meeting booked': 'meeting',
  'ticket created': 'support_ticket',
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Checks one message and maps it. `implied` is the type the endpoint implies (`/v1/track`); in a batch each message
 * names its own. `context` is a batch's top-level context, under the message's own.
 *
 * @example
 * mapMessage({ type: 'track', userId: 'u1', event: 'Order Completed', properties: { revenue: 30, currency: 'EUR' } }, 'website', new Date());
 * // { ok: true, messageId: '…', records: [{ kind: 'event', type: 'purchase', value: 30, … }] }
 */
export function mapMessage(
  message: unknown,
  source: string,
  receivedAt: Date,
  implied?: MessageType,
  context?: Json,
): MappedMessage {
  if (!isObject(message)) return { ok: false, reason: 'a message must be a JSON object' };
  const type = implied ?? message.type;
  if (typeof type !== 'string' || type === '')
    return { ok: false, reason: 'the message has no type (track, identify, page or screen)' };
  if (!(MESSAGE_TYPES as readonly string[]).includes(type))
    return { ok: false, reason: `unknown type "${type}" (accepted: ${MESSAGE_TYPES.join(', ')})` };
  const size = Buffer.byteLength(JSON.stringify(message));
  if (size > MESSAGE_LIMIT_BYTES)
    return { ok: false, reason: `the message is ${size} bytes, over the 32 KB limit of one message` };
  const userId = text(message.userId);
  const anonymousId = text(message.anonymousId);
  if (userId === undefined && anonymousId === undefined)
    return { ok: false, reason: 'the message has neither a userId nor an anonymousId' };
  const stamp = message.timestamp ?? message.originalTimestamp;
  if (stamp !== undefined && (typeof stamp !== 'string' || !Number.isFinite(Date.parse(stamp)))) {
    return { ok: false, reason: `timestamp ${JSON.stringify(stamp)} is not an ISO-8601 date` };
  }
  if (message.messageId !== undefined && text(message.messageId) === undefined)
    return { ok: false, reason: 'messageId must be a non-empty string' };
  const occurredAt = typeof stamp === 'string' ? new Date(Date.parse(stamp)).toISOString() : receivedAt.toISOString();
  // Without a messageId (Segment's libraries always send one) the content stands in, so a resent body is one message.
  const messageId = text(message.messageId) ?? createHash('sha256').update(JSON.stringify(message)).digest('hex');
  const ctx: Json = { ...(isObject(context) ? context : {}), ...(isObject(message.context) ? message.context : {}) };
  const contextTraits = isObject(ctx.traits) ? ctx.traits : {};
  const properties = isObject(message.properties) ? message.properties : {};

  const externalId = userId ?? `anonymous:${anonymousId as string}`;
  const linkedIds = userId !== undefined && anonymousId !== undefined ? [`anonymous:${anonymousId}`] : undefined;
  const email = normaliseEmail(text(contextTraits.email) ?? null);

  if (type === 'identify') {
    const traits = traitsOf(isObject(message.traits) ? message.traits : contextTraits, occurredAt);
    const record: ContactRecord = {
      kind: 'contact',
      source,
      externalId,
      traits,
      ...(linkedIds ? { linkedIds } : {}),
      raw: { messageId, type, ...(userId ? { userId } : {}), ...(anonymousId ? { anonymousId } : {}) },
    };
    return { ok: true, messageId, records: [record] };
  }

  let eventType: EventType;
  let value: number | undefined;
  let props: Json = { ...properties };
  if (type === 'track') {
    const name = text(message.event);
    if (name === undefined) return { ok: false, reason: 'a track message needs an event name' };
    eventType = SPEC_EVENTS[name.toLowerCase()] ?? 'custom';
    if (eventType === 'purchase') {
      value = num(properties.revenue) ?? num(properties.total) ?? num(properties.value);
      props = {
        ...props,
        ...(text(properties.currency) ? { currency: String(properties.currency).toUpperCase() } : {}),
        ...(num(properties.discount) !== undefined ? { discount: num(properties.discount) } : {}),
        ...(text(properties.order_id ?? properties.orderId)
          ? { order_id: text(properties.order_id ?? properties.orderId) }
          : {}),
      };
    } else if (eventType === 'deal_won' || eventType === 'deal_created') {
      value = num(properties.value) ?? num(properties.amount);
    } else if (eventType === 'feature_used') {
      props = { ...props, feature: text(properties.feature) ?? text(properties.name) ?? null };
    } else if (eventType === 'custom') {
      props = { ...props, name };
    }
  } else {
    eventType = 'page_view';
    const page = isObject(ctx.page) ? ctx.page : {};
    const name = text(message.name);
    props = {
      ...props,
      url: text(properties.url) ?? text(page.url) ?? (type === 'screen' && name ? `screen:${name}` : null),
      ...(name ? { name } : {}),
    };
  }
  const event: EventRecord = {
    kind: 'event',
    source,
    sourceEventId: messageId,
    type: eventType,
    occurredAt,
    contact: { externalId, ...(email ? { email } : {}), ...(linkedIds ? { linkedIds } : {}) },
    ...(value === undefined ? {} : { value }),
    properties: props,
  };
  return { ok: true, messageId, records: [event] };
}

/** Segment's reserved traits under canonical names; other scalar traits kept as they are, objects as JSON text. */
function traitsOf(input: Json, occurredAt: string): ContactTraits {
  const traits: ContactTraits = {};
  const address = isObject(input.address) ? input.address : {};
  const company = isObject(input.company) ? input.company.name : input.company;
  const canonical: [keyof ContactTraits, unknown][] = [
    ['first_name', input.firstName ?? input.first_name],
    ['last_name', input.lastName ?? input.last_name],
    ['phone', input.phone],
    ['company', company],
    ['job_title', input.title ?? input.job_title],
    ['country', address.country ?? input.country],
    ['city', address.city ?? input.city],
    ['created_at', input.createdAt ?? input.created_at],
  ];
  const taken = new Set([
    'email',
    'firstName',
    'first_name',
    'lastName',
    'last_name',
    'phone',
    'company',
    'title',
    'job_title',
    'address',
    'country',
    'city',
    'createdAt',
    'created_at',
    'updated_at',
    'email_consent',
  ]);
  for (const [key, value] of Object.entries(input)) {
    if (taken.has(key)) continue;
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    )
      traits[key] = value;
    else if (value !== undefined) traits[key] = JSON.stringify(value);
  }
  for (const [key, value] of canonical) {
    const t = text(value);
    if (t !== undefined) (traits as Record<string, unknown>)[key] = t;
  }
  const email = text(input.email);
  if (email !== undefined) traits.email = normaliseEmail(email) ?? email.trim();
  traits.updated_at = occurredAt;
  return traits;
}
