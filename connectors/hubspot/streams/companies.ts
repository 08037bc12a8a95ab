/**
 * Companies as account records, each with its associated contacts as members (associations v4, companies → contacts,
 * read per page of companies). Incremental on `hs_lastmodifieddate` like the engagement objects: the list endpoint
 * walk first, then search. A contact moved between companies without the company being modified is picked up when
 * the company next changes or on a full refresh (HubSpot bumps neither side's modification date for an association).
 */
import type { AccountRecord, StreamDefinition, StreamMessage, StreamState } from '../../../plugins/index.js';
import type { HubSpotConfig } from '../client.js';
import { contactsOf } from './engagements.js';
import {
  ASSOCIATION_BATCH,
  OVERLAP_MS,
  iso,
  modifiedAt,
  searchModified,
  walkList,
  type HubSpotObject,
} from './read.js';

/** The company properties read. */
export const COMPANY_PROPERTIES = [
  'name',
  'domain',
  'hs_additional_domains',
  'website',
  'industry',
  'numberofemployees',
  'annualrevenue',
  'country',
  'hubspot_owner_id',
  'createdate',
  'hs_lastmodifieddate',
];

const num = (value: string | null | undefined): number | null => {
  if (value === null || value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
};

/**
 * A company as an account record: its domain, additional domains and website are what accounts are matched on.
 *
 * @example
 * companyRecord({ id: '80000001', properties: { name: 'Acme', domain: 'acme.example' } }, ['1000001']);
 */
export function companyRecord(object: HubSpotObject, members: string[]): AccountRecord {
  const p = object.properties;
  const domains = (p.hs_additional_domains ?? '')
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);
  return {
    kind: 'account',
    source: 'hubspot',
    externalId: object.id,
    traits: {
      name: p.name ?? null,
      domain: p.domain ?? null,
      ...(domains.length > 0 ? { domains } : {}),
      website: p.website ?? null,
      industry: p.industry ?? null,
      employees: num(p.numberofemployees),
      annual_revenue: num(p.annualrevenue),
      country: p.country ?? null,
      owner: p.hubspot_owner_id ?? null,
      created_at: iso(p.createdate),
      updated_at: new Date(modifiedAt('companies', object)).toISOString(),
    },
    members,
    raw: { ...p },
  };
}

/** The companies stream; see the module comment. */
export function companiesStream(): StreamDefinition<HubSpotConfig> {
  return {
    name: 'companies',
    recordKind: 'account',
    primaryKey: 'externalId',
    cursorField: 'traits.updated_at',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const incremental = request.mode === 'incremental' && !!request.state?.cursor;
      const from = request.mode === 'incremental' ? request : { ...request, state: undefined };
      const pages = incremental
        ? searchModified('companies', COMPANY_PROPERTIES, from, ctx)
        : walkList('companies', COMPANY_PROPERTIES, from, ctx, ASSOCIATION_BATCH);
      let state: StreamState = { ...(from.state ?? {}) };
      for await (const { page, state: next } of pages) {
        const links = await contactsOf(
          'companies',
          page.map((o) => o.id),
          request,
          ctx,
        );
        for (const object of page) yield { type: 'record', record: companyRecord(object, links.get(object.id) ?? []) };
        state = next;
        yield { type: 'state', state };
      }
      yield { type: 'state', state };
    },
  };
}
