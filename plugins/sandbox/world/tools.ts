/**
 * Each tool's view of a person: the HubSpot contact (merged ids, archived, lifecycle stage), the Salesforce Lead or
 * Contact (converted leads, deleted records) and the Mailchimp memberships (one or two audiences), each with the
 * email written the tool's way.
 */
import { BIT, HUBSPOT_ID_BASE, HUBSPOT_MERGED_BASE, S, type WorldBasis } from './basis.js';
import { salesforceId, subscriberHash } from './ids.js';
import type { Identity, Population } from './people.js';
import type {
  HubSpotPresence,
  MailchimpMembership,
  PersonTools,
  SalesforcePresence,
  WorldAudience,
  WorldConsent,
} from './types.js';

/** Person `i`'s records in the tools they are in, given their identity, sign-up time and purchase count. */
export type ToolViews = (i: number, id: Identity, createdAt: number, purchases: number) => PersonTools;

/** The tools' views of the people of a world. */
export function toolViews(basis: WorldBasis, people: Population, audiences: readonly WorldAudience[]): ToolViews {
  const { rng } = basis;
  const { presenceBits, isB2b, updatedAtOf, companyOf } = people;
  return (i, id, createdAt, purchases) => {
    const bits = presenceBits(i);
    const r = rng(i, S.Tools);
    const out: PersonTools = {};
    const b2b = isB2b(i);
    if (bits & BIT.hubspot) {
      const mergedIds: string[] = [];
      if (r.chance(0.03)) {
        mergedIds.push(String(HUBSPOT_MERGED_BASE + 2 * i));
        if (r.chance(0.2)) mergedIds.push(String(HUBSPOT_MERGED_BASE + 2 * i + 1));
      }
      const stage =
        purchases > 0
          ? 'customer'
          : b2b
            ? r.pick(['lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity'])
            : id.consent === 'subscribed'
              ? 'subscriber'
              : 'lead';
      const hubspot: HubSpotPresence = {
        id: String(HUBSPOT_ID_BASE + i),
        email: writeEmail(id.email, r.weighted(['lower', 'title', 'upper'] as const, [70, 25, 5])),
        mergedIds,
        archived: r.chance(0.015),
        createdAt,
        updatedAt: updatedAtOf(i, 'hubspot'),
        lifecycleStage: stage,
        owner: id.owner,
      };
      out.hubspot = hubspot;
    }
    if (bits & BIT.salesforce) {
      const updatedAt = updatedAtOf(i, 'salesforce');
      const isContact = r.chance(0.55);
      const converted = !isContact && r.chance(0.3);
      const style = r.weighted(['lower', 'title', 'spaced'] as const, [75, 15, 10]);
      const sf: SalesforcePresence = {
        kind: isContact || converted ? 'contact' : 'lead',
        id: isContact || converted ? salesforceId('003', i) : salesforceId('00Q', i),
        converted,
        email: writeEmail(id.email, style),
        deleted: r.chance(0.01),
        createdAt,
        updatedAt,
        owner: id.owner,
      };
      if (isContact || converted) {
        sf.contactId = salesforceId('003', i);
        sf.accountId = salesforceId('001', companyOf(i));
      }
      if (!isContact) sf.leadId = salesforceId('00Q', i);
      if (converted) sf.convertedAt = Math.floor(createdAt + r.next() * (updatedAt - createdAt));
      out.salesforce = sf;
    }
    if (bits & BIT.mailchimp) {
      const updatedAt = updatedAtOf(i, 'mailchimp');
      const written = writeEmail(id.email, r.weighted(['lower', 'title'] as const, [80, 20]));
      const hash = subscriberHash(id.email);
      const onMain = r.chance(0.85);
      const onSecond = !onMain || r.chance(0.3);
      const archived = r.chance(0.01);
      const memberships: MailchimpMembership[] = [];
      const member = (listId: string, status: MailchimpMembership['status']): MailchimpMembership => ({
        listId,
        email: written,
        subscriberHash: hash,
        status,
        createdAt,
        updatedAt,
      });
      if (onMain) memberships.push(member(audiences[0]!.id, archived ? 'archived' : id.consent));
      if (onSecond) {
        const status: WorldConsent =
          id.consent === 'cleaned' || id.consent === 'pending'
            ? id.consent
            : r.chance(0.7)
              ? 'subscribed'
              : 'unsubscribed';
        memberships.push(member(audiences[1]!.id, status));
      }
      out.mailchimp = { audiences: memberships };
    }
    return out;
  };
}

/** Renders a canonical email as a tool holds it: a different case, or surrounding whitespace. */
function writeEmail(email: string, style: 'lower' | 'title' | 'upper' | 'spaced'): string {
  switch (style) {
    case 'lower':
      return email;
    case 'upper':
      return email.toUpperCase();
    case 'spaced':
      return ` ${email}  `;
    case 'title': {
      const [local = '', domain = ''] = email.split('@');
      const cap = (s: string) =>
        s.replace(/(^|[.\-_])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
      return `${cap(local)}@${cap(domain)}`;
    }
  }
}
