/**
 * Meetings, calls, logged emails and deals as events, one per contact associated through the associations API.
 */
import type {
  ConnectorContext,
  EventRecord,
  EventType,
  ReadRequest,
  StreamDefinition,
  StreamMessage,
  StreamState,
} from '../../../plugins/index.js';
import { connectionFor, type HubSpotConfig } from '../client.js';
import {
  ASSOCIATION_BATCH,
  OVERLAP_MS,
  type HubSpotObject,
  type CrmType,
  type EngagementCrmType,
  modifiedAt,
  searchModified,
  walkList,
  listAll,
  iso,
} from './read.js';

export const ENGAGEMENT_PROPERTIES: Record<EngagementCrmType, string[]> = {
  meetings: [
    'hs_meeting_title',
    'hs_timestamp',
    'hs_meeting_start_time',
    'hs_meeting_end_time',
    'hs_meeting_outcome',
    'hs_lastmodifieddate',
  ],
  calls: ['hs_call_title', 'hs_timestamp', 'hs_call_duration', 'hs_call_status', 'hs_lastmodifieddate'],
  emails: ['hs_email_subject', 'hs_timestamp', 'hs_email_direction', 'hs_lastmodifieddate'],
  deals: [
    'dealname',
    'amount',
    'deal_currency_code',
    'dealstage',
    'pipeline',
    'closedate',
    'createdate',
    'hs_is_closed_won',
    'hs_lastmodifieddate',
  ],
};

/**
 * Contacts of each object (an engagement or a company), through the associations v4 batch read (search and list
 * results carry none), and the per-object associations listing for an object whose batch answer pages.
 */
export async function contactsOf(
  type: Exclude<CrmType, 'contacts'>,
  ids: string[],
  request: ReadRequest<HubSpotConfig>,
  ctx: ConnectorContext,
): Promise<Map<string, string[]>> {
  const links = new Map<string, string[]>();
  if (ids.length === 0) return links;
  const connection = connectionFor(request.config);
  const response = await connection.run(ctx, `${type}.associations`, (client) =>
    client.crm.associations.v4.batchApi.getPage(type, 'contacts', { inputs: ids.map((id) => ({ id })) }),
  );
  for (const result of response.results) {
    const id = String(result._from.id);
    const contacts = result.to.map((to) => String(to.toObjectId));
    // A batch read answers a limited number of associations per object; the rest are paged per object.
    let after = result.paging?.next?.after;
    while (after) {
      const page = await connection.run(ctx, `${type}.associations_page`, (client) =>
        client.crm.associations.v4.basicApi.getPage(type, id, 'contacts', after, 500),
      );
      contacts.push(...page.results.map((to) => String(to.toObjectId)));
      after = page.paging?.next?.after;
    }
    links.set(id, contacts);
  }
  return links;
}

export function engagementEvents(type: EngagementCrmType, object: HubSpotObject, contactIds: string[]): EventRecord[] {
  const p = object.properties;
  const updated = new Date(modifiedAt(type, object)).toISOString();
  const base = (
    contactId: string,
    kind: EventType,
    suffix: string,
    at: string | null,
    value: number | null,
  ): EventRecord => ({
    kind: 'event',
    source: 'hubspot',
    sourceEventId: `${type}:${object.id}:${suffix}:${contactId}`,
    type: kind,
    occurredAt: at ?? updated,
    contact: { externalId: contactId },
    ...(value === null ? {} : { value }),
    properties: { ...p, object_id: object.id, updated_at: updated },
  });
  const events: EventRecord[] = [];
  for (const contactId of contactIds) {
    if (type === 'deals') {
      const amount = p.amount ? Number(p.amount) : null;
      const value = amount !== null && Number.isFinite(amount) ? amount : null;
      events.push(
        base(contactId, 'deal_created', 'created', iso(p.createdate) ?? object.createdAt?.toISOString() ?? null, value),
      );
      if (p.dealstage === 'closedwon' || p.hs_is_closed_won === 'true') {
        events.push(base(contactId, 'deal_won', 'won', iso(p.closedate), value));
        events.push({
          ...base(contactId, 'purchase', 'purchase', iso(p.closedate), value),
          properties: {
            ...p,
            object_id: object.id,
            updated_at: updated,
            currency: p.deal_currency_code ?? null,
            order_id: `deal-${object.id}`,
          },
        });
      }
    } else {
      const kind: EventType = type === 'meetings' ? 'meeting' : type === 'calls' ? 'call' : 'custom';
      const record = base(contactId, kind, 'logged', iso(p.hs_timestamp), null);
      if (type === 'emails') record.properties = { ...record.properties, name: 'crm_email' };
      events.push(record);
    }
  }
  return events;
}

/**
 * A stream of events made from one CRM object type, one event per associated contact: an incremental read searches by
 * modification time (or walks the list the first time), a full refresh reads by id and yields in cursor order with a
 * checkpoint per 500 events. Engagements, tickets and feedback submissions read this way.
 */
export function associatedEventStream(
  type: Exclude<CrmType, 'contacts'>,
  properties: string[],
  toEvents: (object: HubSpotObject, contactIds: string[]) => EventRecord[],
): StreamDefinition<HubSpotConfig> {
  return {
    name: type,
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'properties.updated_at',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const eventsOf = async (page: HubSpotObject[]): Promise<EventRecord[]> => {
        const links = await contactsOf(
          type,
          page.map((o) => o.id),
          request,
          ctx,
        );
        return page.flatMap((object) => toEvents(object, links.get(object.id) ?? []));
      };
      if (request.mode === 'incremental') {
        let state: StreamState = { ...(request.state ?? {}) };
        const pages = request.state?.cursor
          ? searchModified(type, properties, request, ctx)
          : walkList(type, properties, request, ctx, ASSOCIATION_BATCH);
        for await (const { page, state: next } of pages) {
          for (const record of await eventsOf(page)) yield { type: 'record', record };
          state = next;
          yield { type: 'state', state };
        }
        yield { type: 'state', state };
        return;
      }
      const all: EventRecord[] = [];
      for await (const { page } of listAll(type, properties, false, request, ctx)) all.push(...(await eventsOf(page)));
      const cursorOf = (e: EventRecord | undefined) => String(e?.properties?.updated_at ?? '');
      all.sort((a, b) => cursorOf(a).localeCompare(cursorOf(b)));
      for (let i = 0; i < all.length; i += 500) {
        for (const record of all.slice(i, i + 500)) yield { type: 'record', record };
        yield { type: 'state', state: { cursor: cursorOf(all[Math.min(i + 500, all.length) - 1]) } };
      }
      yield { type: 'state', state: { cursor: all.length > 0 ? cursorOf(all[all.length - 1]) : null } };
    },
  };
}

/** Meetings, calls, logged emails or deals as canonical events, one per associated contact. */
export function engagementStream(type: EngagementCrmType): StreamDefinition<HubSpotConfig> {
  return associatedEventStream(type, ENGAGEMENT_PROPERTIES[type], (object, contactIds) =>
    engagementEvents(type, object, contactIds),
  );
}
