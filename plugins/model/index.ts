/**
 * The canonical model: the one vocabulary every connector maps its tool into, and that features and rules are
 * written against. A leaf module: it imports nothing of ours, so `core/` may use its types too.
 *
 * @example
 * const contact: ContactRecord = {
 *   kind: 'contact', source: 'hubspot', externalId: '101',
 *   traits: { email: 'Ada@Example.com', first_name: 'Ada' }, raw: { hs_object_id: '101' },
 * };
 */
import { z } from 'zod';

/**
 * The consent states a contact's email can be in, across every tool.
 *
 * @example
 * if (!EMAIL_CONSENT.includes(status as EmailConsent)) status = 'unknown';
 */
export const EMAIL_CONSENT = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'unknown'] as const;
/**
 * One of {@link EMAIL_CONSENT}.
 *
 * @example
 * const consent: EmailConsent = member.status === 'subscribed' ? 'subscribed' : 'unsubscribed';
 */
export type EmailConsent = (typeof EMAIL_CONSENT)[number];

/**
 * The canonical contact traits; any other key is a free-form trait.
 *
 * @example
 * const free = Object.keys(traits).filter((k) => !CONTACT_TRAITS.includes(k as ContactTraitName));
 */
export const CONTACT_TRAITS = [
  'email',
  'first_name',
  'last_name',
  'phone',
  'company',
  'job_title',
  'country',
  'city',
  'lifecycle_stage',
  'owner',
  'created_at',
  'updated_at',
  'email_consent',
] as const;
/**
 * One of {@link CONTACT_TRAITS}.
 *
 * @example
 * const mapping: Partial<Record<ContactTraitName, string>> = { first_name: 'firstname', job_title: 'jobtitle' };
 */
export type ContactTraitName = (typeof CONTACT_TRAITS)[number];

/**
 * The canonical event types.
 *
 * @example
 * EVENT_TYPES.includes('email_open'); // true
 */
export const EVENT_TYPES = [
  'email_sent',
  'email_open',
  'email_click',
  'email_bounce',
  'email_unsubscribe',
  'form_submit',
  'page_view',
  'meeting',
  'call',
  'support_ticket',
  'support_message',
  'survey_response',
  'deal_created',
  'deal_won',
  'purchase',
  'signup',
  'feature_used',
  'custom',
] as const;
/**
 * One of {@link EVENT_TYPES}.
 *
 * @example
 * const type: EventType = activity.action === 'open' ? 'email_open' : 'email_click';
 */
export type EventType = (typeof EVENT_TYPES)[number];

const traitValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * Schema of a contact's traits: the canonical names, typed, plus free-form ones.
 *
 * @example
 * contactTraitsSchema.parse({ email: 'ada@example.com', email_consent: 'subscribed', plan: 'pro' });
 */
export const contactTraitsSchema = z
  .object({
    email: z.string().nullable().optional(),
    first_name: z.string().nullable().optional(),
    last_name: z.string().nullable().optional(),
    phone: z.string().nullable().optional(),
    company: z.string().nullable().optional(),
    job_title: z.string().nullable().optional(),
    country: z.string().nullable().optional(),
    city: z.string().nullable().optional(),
    lifecycle_stage: z.string().nullable().optional(),
    owner: z.string().nullable().optional(),
    created_at: z.string().nullable().optional(),
    updated_at: z.string().nullable().optional(),
    email_consent: z.enum(EMAIL_CONSENT).optional(),
  })
  .catchall(traitValue);
/**
 * A contact's traits: the canonical ones typed, free-form ones as text, numbers, booleans or null.
 *
 * @example
 * const traits: ContactTraits = { email: 'ada@example.com', country: 'FR', plan: 'pro' };
 */
export type ContactTraits = z.infer<typeof contactTraitsSchema>;

/**
 * Who a record or event belongs to. At least one of `email` or `externalId` must be present; `externalId` is the
 * tool's own id of the contact (in the record's `source`). `linkedIds` are other ids of the same person in the same
 * tool (a HubSpot contact's merged ids, a Salesforce lead's converted contact id).
 *
 * @example
 * identifiersSchema.parse({ email: 'ada@example.com', externalId: '101', linkedIds: ['99'] });
 */
export const identifiersSchema = z.object({
  email: z.string().nullable().optional(),
  externalId: z.string().nullable().optional(),
  linkedIds: z.array(z.string()).optional(),
});
/**
 * Who a record or event belongs to; see {@link identifiersSchema}.
 *
 * @example
 * const who: Identifiers = { externalId: '101', linkedIds: ['99'] }; // HubSpot contact 101, merged with 99
 */
export type Identifiers = z.infer<typeof identifiersSchema>;

/**
 * A contact as a source reads it. `deleted` marks one archived or deleted in the tool.
 *
 * @example
 * const record = contactRecordSchema.parse({ kind: 'contact', source: 'crm', externalId: '101', traits: {} });
 */
export const contactRecordSchema = z.object({
  kind: z.literal('contact'),
  source: z.string().min(1),
  externalId: z.string().min(1),
  traits: contactTraitsSchema,
  linkedIds: z.array(z.string()).optional(),
  /**
   * The tool's ids (in the same source) of the accounts the contact belongs to, as the contact record states them
   * (Salesforce `Contact.AccountId`, a converted lead's account). When present it replaces what this contact record
   * said before; absent leaves it unchanged.
   */
  accountIds: z.array(z.string()).optional(),
  deleted: z.boolean().optional(),
  raw: z.record(z.string(), z.unknown()).optional(),
});
/**
 * A contact as a source reads it; see {@link contactRecordSchema}.
 *
 * @example
 * const record: ContactRecord = { kind: 'contact', source: 'crm', externalId: '101', traits: { first_name: 'Ada' } };
 */
export type ContactRecord = z.infer<typeof contactRecordSchema>;

/**
 * An engagement event as a source reads it. `occurredAt` is an ISO-8601 timestamp.
 *
 * @example
 * eventRecordSchema.parse({
 *   kind: 'event', source: 'crm', sourceEventId: 'e1', type: 'email_open',
 *   occurredAt: '2026-01-05T10:00:00Z', contact: { externalId: '101' },
 * });
 */
export const eventRecordSchema = z.object({
  kind: z.literal('event'),
  source: z.string().min(1),
  sourceEventId: z.string().min(1),
  type: z.enum(EVENT_TYPES),
  occurredAt: z.string().min(1),
  contact: identifiersSchema,
  value: z.number().nullable().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});
/**
 * An engagement event as a source reads it; see {@link eventRecordSchema}.
 *
 * @example
 * const open: EventRecord = {
 *   kind: 'event', source: 'crm', sourceEventId: 'e1', type: 'email_open',
 *   occurredAt: '2026-01-05T10:00:00Z', contact: { email: 'ada@example.com' },
 * };
 */
export type EventRecord = z.infer<typeof eventRecordSchema>;

/**
 * Schema of an account's (a company's) traits: name, web domain (the key accounts are matched on across tools), other
 * domains the company uses, and firmographics; any other key is a free-form trait.
 *
 * @example
 * accountTraitsSchema.parse({ name: 'Acme Ltd', domain: 'acme.example', industry: 'Software', employees: 120 });
 */
export const accountTraitsSchema = z
  .object({
    name: z.string().nullable().optional(),
    domain: z.string().nullable().optional(),
    /** Further domains of the same company (HubSpot `hs_additional_domains`): matched like `domain`. */
    domains: z.array(z.string()).optional(),
    industry: z.string().nullable().optional(),
    employees: z.number().nullable().optional(),
    annual_revenue: z.number().nullable().optional(),
    country: z.string().nullable().optional(),
    owner: z.string().nullable().optional(),
    created_at: z.string().nullable().optional(),
    updated_at: z.string().nullable().optional(),
  })
  .catchall(z.union([traitValue, z.array(z.string())]));
/**
 * An account's traits; see {@link accountTraitsSchema}.
 *
 * @example
 * const traits: AccountTraits = { name: 'Acme Ltd', domain: 'acme.example', domains: ['acme-group.example'] };
 */
export type AccountTraits = z.infer<typeof accountTraitsSchema>;

/**
 * An account (a company: a HubSpot company, a Salesforce Account, a tracking `group`) as a source reads it.
 * `members` are the tool's ids (same source) of the contacts that belong to it; when present they replace what this
 * account record said before, absent leaves them unchanged. Accounts are matched across tools by their domains.
 *
 * @example
 * const company = accountRecordSchema.parse({
 *   kind: 'account', source: 'hubspot', externalId: '9001', traits: { name: 'Acme', domain: 'acme.example' },
 *   members: ['101', '102'],
 * });
 */
export const accountRecordSchema = z.object({
  kind: z.literal('account'),
  source: z.string().min(1),
  externalId: z.string().min(1),
  traits: accountTraitsSchema,
  members: z.array(z.string()).optional(),
  deleted: z.boolean().optional(),
  raw: z.record(z.string(), z.unknown()).optional(),
});
/**
 * An account as a source reads it; see {@link accountRecordSchema}.
 *
 * @example
 * const account: AccountRecord = { kind: 'account', source: 'salesforce', externalId: '001…', traits: { name: 'Acme' } };
 */
export type AccountRecord = z.infer<typeof accountRecordSchema>;

/**
 * Anything a source stream yields as data.
 *
 * @example
 * const records: SourceRecord[] = [contact, open]; // a contact and its events, in one page
 */
export type SourceRecord = ContactRecord | EventRecord;

/**
 * Anything a stream yields as data: a {@link SourceRecord} or, from account streams, an {@link AccountRecord}.
 *
 * @example
 * const page: StreamRecord[] = [company, contact];
 */
export type StreamRecord = SourceRecord | AccountRecord;

/**
 * A company's web domain from a domain or a website URL: lower-cased, without scheme, `www.`, path or port; null when
 * it is not a plausible domain. Accounts are matched across tools on it.
 *
 * @example
 * normaliseDomain('https://www.Acme.example/about'); // 'acme.example'
 * normaliseDomain('n/a'); // null
 */
export function normaliseDomain(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  let d = value.trim().toLowerCase();
  d = d.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^www\./, '');
  d = d.split(/[/?#:]/)[0] ?? '';
  d = d.replace(/\.$/, '');
  return DOMAIN_PATTERN.test(d) ? d : null;
}

const DOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * Trims and lower-cases an email; returns null when it is not a plausible address (kept as a trait, never a key).
 *
 * @example
 * normaliseEmail('  Ada@Example.COM '); // 'ada@example.com'
 * normaliseEmail('not an email'); // null
 */
export function normaliseEmail(email: string | null | undefined): string | null {
  if (typeof email !== 'string') return null;
  const e = email.trim().toLowerCase();
  return EMAIL_PATTERN.test(e) ? e : null;
}

const EMAIL_PATTERN =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
export * from './timestamps.js';
export * from './conventions.js';
