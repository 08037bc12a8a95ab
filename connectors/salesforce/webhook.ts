/**
 * Outbound messages: Salesforce posts a SOAP `notifications` envelope with the OrganizationId and one
 * `Notification` per Contact or Lead. The org id is checked against the config (outbound messages carry no
 * signature), the records mapped like the source's, and the `<Ack>true</Ack>` envelope returned so Salesforce stops
 * retrying.
 */
import type { ContactRecord, WebhookHook, WebhookRequest } from '../../plugins/index.js';
import type { SalesforceConfig } from './client.js';

/** The SOAP answer that tells Salesforce the notifications were received. */
export const ACK_ENVELOPE =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
  '<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>' +
  '</soapenv:Body></soapenv:Envelope>';

const decode = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The text of the first `<name>` element (any namespace prefix). */
function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`).exec(xml);
  return match?.[1] === undefined ? undefined : decode(match[1].trim());
}

function organizationOf(request: WebhookRequest): string | undefined {
  if (!/<(?:[\w-]+:)?notifications[\s>]/.test(request.body)) return undefined;
  return element(request.body, 'OrganizationId');
}

const sameOrg = (a: string, b: string) => a.slice(0, 15) === b.slice(0, 15);

/**
 * The source's webhook hook for outbound messages.
 *
 * @example
 * outboundWebhook.verify({ method: 'POST', url, headers, body: soapXml }, config, Date.now()) // { ok: true }
 */
export const outboundWebhook: WebhookHook<SalesforceConfig> = {
  verify(request, config) {
    if (request.method !== 'POST') return { ok: false, reason: 'outbound messages are POSTed' };
    if (!config.organizationId)
      return { ok: false, reason: 'set organizationId in the Salesforce config to accept outbound messages' };
    const org = organizationOf(request);
    if (!org) return { ok: false, reason: 'not an outbound message: no notifications with an OrganizationId' };
    if (!sameOrg(org, config.organizationId))
      return { ok: false, reason: 'outbound message from another organization' };
    return { ok: true };
  },
  parse(request) {
    const records: ContactRecord[] = [];
    for (const match of request.body.matchAll(/<(?:[\w-]+:)?sObject\b([^>]*)>([\s\S]*?)<\/(?:[\w-]+:)?sObject>/g)) {
      const type = /xsi:type="(?:[\w-]+:)?(\w+)"/.exec(match[1] ?? '')?.[1];
      if (type !== 'Contact' && type !== 'Lead') continue;
      const fields: Record<string, string> = {};
      for (const field of (match[2] ?? '').matchAll(/<(?:[\w-]+:)?(\w+)(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w-]+:)?\1>/g)) {
        if (field[1]) fields[field[1]] = decode(field[2] ?? '');
      }
      if (!fields.Id) continue;
      const text = (name: string) =>
        fields[name] === undefined || fields[name] === '' ? null : (fields[name] as string);
      const converted = type === 'Lead' && fields.IsConverted === 'true' && Boolean(fields.ConvertedContactId);
      records.push({
        kind: 'contact',
        source: 'salesforce',
        externalId: fields.Id,
        traits: {
          email: text('Email'),
          first_name: text('FirstName'),
          last_name: text('LastName'),
          phone: text('Phone'),
          company: type === 'Lead' ? text('Company') : null,
          job_title: text('Title'),
          city: text(type === 'Lead' ? 'City' : 'MailingCity'),
          country: text(type === 'Lead' ? 'Country' : 'MailingCountry'),
          owner: text('OwnerId'),
          updated_at: text('LastModifiedDate'),
          ...(fields.HasOptedOutOfEmail === 'true' ? { email_consent: 'unsubscribed' as const } : {}),
        },
        ...(converted ? { linkedIds: [fields.ConvertedContactId as string] } : {}),
        ...(fields.IsDeleted === 'true' ? { deleted: true } : {}),
        raw: { ...fields, attributes_type: type },
      });
    }
    return { records, response: { status: 200, body: ACK_ENVELOPE, contentType: 'text/xml; charset=utf-8' } };
  },
};
