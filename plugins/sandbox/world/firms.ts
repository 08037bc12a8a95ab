/**
 * The firms of the world: each company the people work at, as HubSpot (a company associated with its business buyers)
 * and Salesforce (an Account holding its Contacts) hold it. Some firms are written differently in the two tools: a
 * name upper-cased or without its legal suffix, a HubSpot primary domain that is a group domain with the firm's own
 * domain among its additional domains, a Salesforce website written as a URL. The truth: one firm per company index.
 */
import { COMPANY_SIZE, type WorldBasis } from './basis.js';
import { salesforceId } from './ids.js';
import type { Firm, Person } from './types.js';

/**
 * Base of HubSpot company ids: company `c` is `HUBSPOT_COMPANY_BASE + c`.
 *
 * @example
 * world.firm(3).hubspot?.id === String(HUBSPOT_COMPANY_BASE + 3); // true when firm 3 is in HubSpot
 */
export const HUBSPOT_COMPANY_BASE = 80_000_001;

const FIRM_STREAM = 22;
const INDUSTRIES = ['Software', 'Manufacturing', 'Retail', 'Financial Services', 'Healthcare', 'Education'] as const;

/** Firm `c` of the world, built from its people (at most {@link COMPANY_SIZE}). */
export function firmOf(basis: WorldBasis, person: (i: number) => Person, c: number): Firm {
  const first = c * COMPANY_SIZE;
  if (!Number.isInteger(c) || c < 0 || first >= basis.people)
    throw new RangeError(`world has firms 0…${firmCount(basis) - 1}, asked for ${String(c)}`);
  const people: Person[] = [];
  for (let i = first; i < Math.min(first + COMPANY_SIZE, basis.people); i++) people.push(person(i));
  const head = people[0] as Person;
  const r = basis.rng(c, FIRM_STREAM);
  const slug = head.domain.replace(/\d+\.example$/, '');
  const nameStyle = r.weighted(['same', 'upper', 'bare'] as const, [65, 15, 20]);
  const grouped = r.chance(0.15);
  const websiteStyle = r.weighted(['domain', 'www', 'url'] as const, [40, 40, 20]);
  const industry = r.pick(INDUSTRIES);
  const employees = 5 + r.int(2000);
  const annualRevenue = Math.round(employees * (50_000 + r.int(150_000)));
  const hubspotMembers = people.filter((p) => p.b2b && p.tools.hubspot).map((p) => p.index);
  const salesforceMembers = people.filter((p) => p.tools.salesforce?.contactId).map((p) => p.index);
  const since = (members: number[]) => Math.min(...members.map((i) => (people[i - first] as Person).createdAt));
  const touched = (createdAt: number, draw: number) =>
    Math.min(basis.now - 1000, Math.floor((createdAt + draw * (basis.now - createdAt)) / 1000) * 1000);
  const hubspotDraw = r.next();
  const salesforceDraw = r.next();
  const firm: Firm = {
    index: c,
    name: head.company,
    domain: head.domain,
    industry,
    employees,
    annualRevenue,
    country: head.country,
    memberIndexes: [...new Set([...hubspotMembers, ...salesforceMembers])].sort((a, b) => a - b),
  };
  if (hubspotMembers.length > 0) {
    const createdAt = since(hubspotMembers);
    firm.hubspot = {
      id: String(HUBSPOT_COMPANY_BASE + c),
      name: head.company,
      domain: grouped ? `${slug}-group${c}.example` : head.domain,
      additionalDomains: grouped ? [head.domain] : [],
      createdAt,
      updatedAt: touched(createdAt, hubspotDraw),
      memberIndexes: hubspotMembers,
    };
  }
  if (salesforceMembers.length > 0) {
    const createdAt = since(salesforceMembers);
    const bare = head.company.replace(/ [^ ]+$/, '');
    firm.salesforce = {
      id: salesforceId('001', c),
      name: nameStyle === 'upper' ? head.company.toUpperCase() : nameStyle === 'bare' ? bare : head.company,
      website:
        websiteStyle === 'domain'
          ? head.domain
          : websiteStyle === 'www'
            ? `www.${head.domain}`
            : `https://www.${head.domain}/about`,
      createdAt,
      updatedAt: touched(createdAt, salesforceDraw),
      memberIndexes: salesforceMembers,
    };
  }
  return firm;
}

/** How many firms (company indexes) the world's people work at. */
export function firmCount(basis: WorldBasis): number {
  return Math.ceil(basis.people / COMPANY_SIZE);
}
