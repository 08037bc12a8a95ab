/**
 * The contacts stream: the list endpoint for a full refresh and a first incremental read, the search on lastmodifieddate after that; merged ids as linked ids.
 */
import type { ContactRecord, StreamDefinition, StreamMessage, StreamState } from '../../../plugins/index.js';
import type { HubSpotConfig } from '../client.js';
import {
  LIST_PAGE,
  OVERLAP_MS,
  type HubSpotObject,
  modifiedAt,
  searchModified,
  walkList,
  listAll,
  iso,
} from './read.js';

export const CONTACT_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'company',
  'jobtitle',
  'country',
  'city',
  'lifecyclestage',
  'hubspot_owner_id',
  'createdate',
  'lastmodifieddate',
  'hs_merged_object_ids',
  'hs_email_optout',
];

/** Maps a HubSpot contact into the canonical contact record. */
export function contactRecord(object: HubSpotObject, extra: string[]): ContactRecord {
  const p = object.properties;
  const linked = (p.hs_merged_object_ids ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  const traits: ContactRecord['traits'] = {
    email: p.email ?? null,
    first_name: p.firstname ?? null,
    last_name: p.lastname ?? null,
    phone: p.phone ?? null,
    company: p.company ?? null,
    job_title: p.jobtitle ?? null,
    country: p.country ?? null,
    city: p.city ?? null,
    lifecycle_stage: p.lifecyclestage ?? null,
    owner: p.hubspot_owner_id ?? null,
    created_at: iso(p.createdate) ?? object.createdAt?.toISOString() ?? null,
    updated_at: iso(p.lastmodifieddate) ?? object.updatedAt?.toISOString() ?? null,
  };
  if (p.hs_email_optout === 'true') traits.email_consent = 'unsubscribed';
  for (const name of extra) if (!(name in traits) && p[name] !== undefined) traits[name] = p[name] ?? null;
  if (object.archived) traits.updated_at = object.archivedAt?.toISOString() ?? traits.updated_at ?? null;
  return {
    kind: 'contact',
    source: 'hubspot',
    externalId: object.id,
    traits,
    ...(linked.length > 0 ? { linkedIds: linked } : {}),
    ...(object.archived ? { deleted: true } : {}),
    raw: { ...p },
  };
}

export function contactsStream(config: HubSpotConfig): StreamDefinition<HubSpotConfig> {
  const properties = [...new Set([...CONTACT_PROPERTIES, ...config.properties])];
  return {
    name: 'contacts',
    recordKind: 'contact',
    primaryKey: 'externalId',
    cursorField: 'traits.updated_at',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      if (request.mode === 'incremental') {
        let state: StreamState = { ...(request.state ?? {}) };
        const pages = request.state?.cursor
          ? searchModified('contacts', properties, request, ctx)
          : walkList('contacts', properties, request, ctx);
        for await (const { page, state: next } of pages) {
          for (const object of page) yield { type: 'record', record: contactRecord(object, config.properties) };
          state = next;
          yield { type: 'state', state };
        }
        yield { type: 'state', state };
        return;
      }
      // A full refresh reads by id, not by time: collect the page's cursor maximum and checkpoint it at the end.
      let max = 0;
      const seen: ContactRecord[] = [];
      for await (const { page } of listAll('contacts', properties, false, request, ctx)) {
        for (const object of page) {
          max = Math.max(max, modifiedAt('contacts', object));
          seen.push(contactRecord(object, config.properties));
        }
      }
      seen.sort(
        (a, b) =>
          String(a.traits.updated_at).localeCompare(String(b.traits.updated_at)) ||
          Number(a.externalId) - Number(b.externalId),
      );
      for (let i = 0; i < seen.length; i += LIST_PAGE) {
        for (const record of seen.slice(i, i + LIST_PAGE)) yield { type: 'record', record };
        yield {
          type: 'state',
          state: { cursor: seen[Math.min(i + LIST_PAGE, seen.length) - 1]?.traits.updated_at ?? null },
        };
      }
      yield { type: 'state', state: { cursor: max > 0 ? new Date(max).toISOString() : null } };
    },
  };
}
