/**
 * The Segment spec's messages checked one by one and mapped onto the canonical model: identify → a contact record
 * with its traits, track → a canonical event where its name is a known spec event ("Order Completed" → purchase) else
 * `custom`, page and screen → page_view, group → a `custom` event named `$group` carrying the account id and traits,
 * alias → a contact record of the user id linked to the previous id (the resolver merges the two, recording it).
 */
import { randomUUID } from 'node:crypto';
import {
  normaliseEmail,
  parseTimestamp,
  TimestampError,
  type ContactRecord,
  type ContactTraits,
  type EventRecord,
  type EventType,
  type SourceRecord,
} from '../../plugins/index.js';

/** Segment's own limits: one message at most 32 KB, one request at most 500 KB. */
export const MESSAGE_LIMIT_BYTES = 32 * 1024;
export const REQUEST_LIMIT_BYTES = 500 * 1024;

export const MESSAGE_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** The custom event name a `group` call is stored under (its properties: `group_id` and the account's `traits`). */
export const GROUP_EVENT = '$group';

/** A message that passed its checks, with the records it maps to. */
export type MappedMessage = { ok: true; messageId: string; records: SourceRecord[] } | { ok: false; reason: string };

/** How to read one message. */
export interface MapOptions {
  /** The type the endpoint implies (`/v1/track`); in a batch each message names its own. */
  implied?: MessageType;
  /** A batch's top-level context, under the message's own. */
  context?: Record<string, unknown>;
  /** The write key's name, kept on events (`write_key`) when the source is shared by several keys. */
  writeKey?: string;
  /** A batch's top-level `sentAt` (the libraries stamp the request, not each message). */
  sentAt?: unknown;
  /**
   * Track properties that hold what a customer wrote (config `text.track_properties`): a track carrying one of them
   * as text is a `support_message` with that text (`survey_response` when it is a survey answer).
   */
  textProperties?: readonly string[];
  /**
   * The bytes of the request body the message came in: at most the 32 KB message limit, no message in it can exceed
   * that limit, and the message is not serialised again to measure it.
   */
  bodyBytes?: number;
}

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
  'survey responded': 'survey_response',
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** A field's instant, undefined when absent, or the sentence saying why it is not a timestamp. */
function instant(message: Json, field: string): number | undefined | { reason: string } {
  const value = message[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    return { reason: `${field} ${JSON.stringify(value)} is not a timestamp: write ISO-8601 text with an offset or Z` };
  try {
    return parseTimestamp(value);
  } catch (error) {
    if (error instanceof TimestampError) return { reason: `${field} ${error.message}` };
    throw error;
  }
}

/**
 * When the message happened on the server's clock. With `sentAt`, the device's clock is corrected as Segment does:
 * `receivedAt − (sentAt − timestamp)`; `original` is the device's own timestamp when it differs.
 */
function occurredAtOf(
  message: Json,
  receivedAt: Date,
  batchSentAt: unknown,
): { at: string; original?: string } | { reason: string } {
  const stamp = instant(message, message.timestamp === undefined ? 'originalTimestamp' : 'timestamp');
  if (typeof stamp === 'object') return stamp;
  const sent = instant(message.sentAt === undefined ? { sentAt: batchSentAt } : message, 'sentAt');
  if (typeof sent === 'object') return sent;
  if (stamp === undefined) return { at: receivedAt.toISOString() };
  if (sent === undefined) return { at: new Date(stamp).toISOString() };
  const corrected = receivedAt.getTime() - (sent - stamp);
  const at = new Date(corrected).toISOString();
  const original = new Date(stamp).toISOString();
  return original === at ? { at } : { at, original };
}

/**
 * Checks one message and maps it.
 *
 * @example
 * mapMessage({ type: 'track', userId: 'u1', event: 'Order Completed', properties: { revenue: 30, currency: 'EUR' } }, 'website', new Date());
 * // { ok: true, messageId: '…', records: [{ kind: 'event', type: 'purchase', value: 30, … }] }
 */
export function mapMessage(
  message: unknown,
  source: string,
  receivedAt: Date,
  options: MapOptions = {},
): MappedMessage {
  if (!isObject(message)) return { ok: false, reason: 'a message must be a JSON object' };
  const type = options.implied ?? message.type;
  if (typeof type !== 'string' || type === '')
    return { ok: false, reason: `the message has no type (${MESSAGE_TYPES.join(', ')})` };
  if (!(MESSAGE_TYPES as readonly string[]).includes(type))
    return { ok: false, reason: `unknown type "${type}" (accepted: ${MESSAGE_TYPES.join(', ')})` };
  if ((options.bodyBytes ?? Number.POSITIVE_INFINITY) > MESSAGE_LIMIT_BYTES) {
    const size = Buffer.byteLength(JSON.stringify(message));
    if (size > MESSAGE_LIMIT_BYTES)
      return { ok: false, reason: `the message is ${size} bytes, over the 32 KB limit of one message` };
  }
  const userId = text(message.userId);
  const anonymousId = text(message.anonymousId);
  if (userId === undefined && anonymousId === undefined)
    return { ok: false, reason: 'the message has neither a userId nor an anonymousId' };
  const when = occurredAtOf(message, receivedAt, options.sentAt);
  if ('reason' in when) return { ok: false, reason: when.reason };
  const occurredAt = when.at;
  if (message.messageId !== undefined && message.messageId !== null && text(message.messageId) === undefined)
    return { ok: false, reason: 'messageId must be a non-empty string' };
  // A message without an id gets one now: two identical real clicks are two events, never one.
  const messageId = text(message.messageId) ?? `segflow-${randomUUID()}`;
  const ctx: Json = {
    ...(isObject(options.context) ? options.context : {}),
    ...(isObject(message.context) ? message.context : {}),
  };
  const contextTraits = isObject(ctx.traits) ? ctx.traits : {};
  const properties = isObject(message.properties) ? message.properties : {};

  const externalId = userId ?? `anonymous:${anonymousId as string}`;
  const linkedIds = userId !== undefined && anonymousId !== undefined ? [`anonymous:${anonymousId}`] : undefined;
  const email = normaliseEmail(text(contextTraits.email) ?? null);
  const stamps = when.original ? { original_timestamp: when.original } : {};
  const raw = {
    messageId,
    type,
    ...(userId ? { userId } : {}),
    ...(anonymousId ? { anonymousId } : {}),
    ...(options.writeKey ? { write_key: options.writeKey } : {}),
    ...stamps,
  };

  if (type === 'identify') {
    // context.traits are the user's traits too (analytics.js keeps them there): the message's own win.
    const traits = traitsOf({ ...contextTraits, ...(isObject(message.traits) ? message.traits : {}) }, occurredAt);
    const record: ContactRecord = {
      kind: 'contact',
      source,
      externalId,
      traits,
      ...(linkedIds ? { linkedIds } : {}),
      raw,
    };
    return { ok: true, messageId, records: [record] };
  }

  if (type === 'alias') {
    const previousId = text(message.previousId);
    if (userId === undefined || previousId === undefined)
      return { ok: false, reason: 'an alias message needs both a userId and a previousId' };
    // analytics.js sends the visitor's anonymousId as the previous id of a first alias; else it is an earlier userId.
    const previous = previousId === anonymousId ? `anonymous:${previousId}` : previousId;
    const links = [previous, ...(linkedIds ?? [])].filter((l) => l !== userId);
    const record: ContactRecord = {
      kind: 'contact',
      source,
      externalId: userId,
      traits: { updated_at: occurredAt, ...(email ? { email } : {}) },
      linkedIds: [...new Set(links)],
      raw: { ...raw, previousId },
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
    const written = (options.textProperties ?? []).find((p) => text(properties[p]) !== undefined);
    if (eventType === 'survey_response') {
      const survey = surveyOf(properties, written);
      value = survey.score ?? undefined;
      props = { ...props, ...survey };
    } else if (written !== undefined && eventType !== 'support_ticket') {
      props = { ...props, name, text: text(properties[written]) };
      eventType = 'support_message';
    }
  } else if (type === 'group') {
    const groupId = text(message.groupId);
    if (groupId === undefined) return { ok: false, reason: 'a group message needs a groupId' };
    eventType = 'custom';
    props = { name: GROUP_EVENT, group_id: groupId, traits: isObject(message.traits) ? message.traits : {} };
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
    properties: { ...props, ...stamps, ...(options.writeKey ? { write_key: options.writeKey } : {}) },
  };
  return { ok: true, messageId, records: [event] };
}

/**
 * A "Survey Responded" track's answer: `kind` from `survey_type` / `type` (NPS when it carries an `nps` property or
 * names none), `score` from `score`, `nps`, `rating` or `value`, and `comment` from `comment` or the configured text
 * property.
 */
function surveyOf(
  properties: Json,
  written: string | undefined,
): { kind: string; score: number | null; comment: string | null } {
  const named = text(properties.survey_type) ?? text(properties.type) ?? text(properties.kind);
  const score = num(properties.score) ?? num(properties.nps) ?? num(properties.rating) ?? num(properties.value);
  const comment = text(properties.comment) ?? (written === undefined ? undefined : text(properties[written]));
  return { kind: named ? named.toLowerCase() : 'nps', score: score ?? null, comment: comment ?? null };
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
