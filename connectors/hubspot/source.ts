/**
 * The HubSpot source: contacts (list endpoint for full refresh and for the first incremental read; search on
 * lastmodifieddate for later incremental reads, a fresh query after each timestamp and a crowd sharing one millisecond
 * walked by id, so neither the 10,000-result cap nor a tie can stall or lose it), archived contacts as deletions,
 * merged ids as linked ids, marketing email
 * events from the Email Events API, and meetings, calls, logged emails and deals linked to their contacts through
 * the associations API, form submissions, and custom behavioural events from the Events API where the portal has
 * them; plus the webhook hook (v3 signatures, see webhook.ts).
 */
import type { Client } from '@hubspot/api-client';
import {
  defineSource,
  type ConnectorContext,
  type ContactRecord,
  type EventRecord,
  type EventType,
  type ReadRequest,
  type StreamDefinition,
  type StreamMessage,
  type StreamState,
} from '../../plugins/index.js';
import {
  checkHubSpot,
  classifyHubSpotError,
  connectionFor,
  HUBSPOT_BUDGET,
  hubspotSpec,
  observeDaily,
  statusOf,
  type HubSpotConfig,
} from './client.js';
import { hubspotWebhook } from './webhook.js';

const CONTACT_PROPERTIES = [
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

const SEARCH_PAGE = 200;
const LIST_PAGE = 100;
/** Objects whose contacts one associations v4 batch read asks for. */
const ASSOCIATION_BATCH = 1000;
/** How far an incremental read starts behind its cursor: records written late with an older timestamp. */
const OVERLAP_MS = 5 * 60_000;

interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: Date;
  updatedAt?: Date;
  archived?: boolean;
  archivedAt?: Date;
}

type CrmType = 'contacts' | 'meetings' | 'calls' | 'emails' | 'deals';

/** The SDK's API for an object type (contacts and deals have their own; engagements are under `objects`). */
function apiOf(client: Client, type: CrmType) {
  switch (type) {
    case 'contacts':
      return client.crm.contacts;
    case 'deals':
      return client.crm.deals;
    default:
      return client.crm.objects[type];
  }
}

function modifiedName(type: CrmType): string {
  return type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
}

function modifiedAt(type: CrmType, object: HubSpotObject): number {
  const value = object.properties[modifiedName(type)];
  const parsed = value ? Date.parse(value) : NaN;
  return Number.isNaN(parsed) ? (object.updatedAt?.getTime() ?? 0) : parsed;
}

interface SearchState {
  cursor?: string | null;
  lastId?: string;
  [key: string]: unknown;
}

/**
 * Reads objects modified at or after the state's cursor (minus the overlap, never before `startDate`), ascending by
 * modification. HubSpot applies one sort rule per search and orders the records it ties in no promised way, so each
 * query starts afresh at the last timestamp read (no query pages near the 10,000 cap): records at that timestamp sort
 * first and come whole in the next page, those already read skipped. A timestamp shared by a full page or more is
 * walked on its own, filtered to that millisecond and sorted by id.
 */
async function* searchModified(
  type: CrmType,
  properties: string[],
  request: ReadRequest<HubSpotConfig>,
  ctx: ConnectorContext,
): AsyncGenerator<{ page: HubSpotObject[]; state: SearchState }> {
  const name = modifiedName(type);
  const state = request.state as SearchState | undefined;
  const floor = request.config.startDate ? Date.parse(request.config.startDate) : 0;
  const start = state?.cursor ? Math.max(floor, Date.parse(String(state.cursor)) - OVERLAP_MS) : floor;
  const search = async (filters: object[], sortBy: string): Promise<HubSpotObject[]> => {
    const body = {
      filterGroups: [{ filters }],
      sorts: [{ propertyName: sortBy, direction: 'ASCENDING' }],
      properties,
      limit: SEARCH_PAGE,
      after: '0',
    };
    const info = await connectionFor(request.config).run(ctx, `${type}.search`, (client) =>
      apiOf(client, type).searchApi.doSearchWithHttpInfo(body as never),
    );
    observeDaily(ctx, info.headers);
    return info.data.results as HubSpotObject[];
  };
  const checkpoint = (at: number): SearchState => ({ cursor: new Date(at).toISOString() });
  let since = { at: Math.max(0, start), inclusive: true };
  let readAtSince = new Set<string>();
  for (;;) {
    const page = await search(
      [{ propertyName: name, operator: since.inclusive ? 'GTE' : 'GT', value: String(since.at) }],
      name,
    );
    if (page.length === 0) return;
    const edge = modifiedAt(type, page[page.length - 1] as HubSpotObject);
    if (page.length === SEARCH_PAGE && modifiedAt(type, page[0] as HubSpotObject) === edge) {
      // A full page of one timestamp: walk that millisecond by id, then go on after it.
      let lastId = '0';
      for (;;) {
        const tied = await search(
          [
            { propertyName: name, operator: 'EQ', value: String(edge) },
            { propertyName: 'hs_object_id', operator: 'GT', value: lastId },
          ],
          'hs_object_id',
        );
        if (tied.length === 0) break;
        lastId = (tied[tied.length - 1] as HubSpotObject).id;
        yield { page: tied, state: checkpoint(edge) };
        if (tied.length < SEARCH_PAGE) break;
      }
      since = { at: edge, inclusive: false };
      readAtSince = new Set();
      continue;
    }
    const fresh = page.filter((o) => !(modifiedAt(type, o) === since.at && readAtSince.has(o.id)));
    if (fresh.length > 0) yield { page: fresh, state: checkpoint(edge) };
    if (page.length < SEARCH_PAGE) return;
    readAtSince = new Set(page.filter((o) => modifiedAt(type, o) === edge).map((o) => o.id));
    since = { at: edge, inclusive: true };
  }
}

/** A first incremental read's checkpoint while it walks the list endpoint (see {@link walkList}). */
interface WalkState {
  /** The list position the walk resumes at. */
  listAfter?: string;
  /** The newest modification when the walk started: the cursor the walk ends with. */
  cursorAtStart?: string | null;
  [key: string]: unknown;
}

/** The newest modification of a type's objects (one search sorted descending, limit 1); null when there are none. */
async function newestModified(
  type: CrmType,
  request: ReadRequest<HubSpotConfig>,
  ctx: ConnectorContext,
): Promise<string | null> {
  const name = modifiedName(type);
  const body = {
    filterGroups: [],
    sorts: [{ propertyName: name, direction: 'DESCENDING' }],
    properties: [name],
    limit: 1,
    after: '0',
  };
  const info = await connectionFor(request.config).run(ctx, `${type}.search`, (client) =>
    apiOf(client, type).searchApi.doSearchWithHttpInfo(body as never),
  );
  observeDaily(ctx, info.headers);
  const newest = info.data.results[0] as HubSpotObject | undefined;
  return newest ? new Date(modifiedAt(type, newest)).toISOString() : null;
}

/**
 * The first incremental read of a type, before it has a cursor: every object through the list endpoint (100 per
 * page, counted against the general budget only) instead of search (about 4 requests a second). It ends with the
 * newest modification as it was when the walk started (asked once, up front), not the newest it saw: an object
 * modified during the walk behind its position is then read by the next run's search. Until then its checkpoints
 * hold the list position and that cursor, so a stopped walk resumes at its last committed page. Objects modified
 * before `startDate` are dropped. Pages are yielded `objectsPerPage` list objects at a time.
 */
async function* walkList(
  type: CrmType,
  properties: string[],
  request: ReadRequest<HubSpotConfig>,
  ctx: ConnectorContext,
  objectsPerPage = LIST_PAGE,
): AsyncGenerator<{ page: HubSpotObject[]; state: StreamState }> {
  const state = (request.state ?? {}) as WalkState;
  const cursorAtStart =
    'cursorAtStart' in state ? (state.cursorAtStart ?? null) : await newestModified(type, request, ctx);
  const since = request.config.startDate ? Date.parse(request.config.startDate) : -Infinity;
  let group: HubSpotObject[] = [];
  let listed = 0;
  for await (const { page, after } of listAll(type, properties, false, request, ctx, state.listAfter)) {
    listed += page.length;
    for (const object of page) if (modifiedAt(type, object) >= since) group.push(object);
    if (after && listed + LIST_PAGE <= objectsPerPage) continue;
    yield { page: group, state: after ? { listAfter: after, cursorAtStart } : { cursor: cursorAtStart } };
    group = [];
    listed = 0;
  }
}

/** Reads every object of a type through the list endpoint, 100 per page; resumable from `after`. */
async function* listAll(
  type: CrmType,
  properties: string[],
  archived: boolean,
  request: ReadRequest<HubSpotConfig>,
  ctx: ConnectorContext,
  resumeAfter?: string,
): AsyncGenerator<{ page: HubSpotObject[]; after: string | undefined }> {
  const connection = connectionFor(request.config);
  let after = resumeAfter;
  for (;;) {
    const info = await connection.run(ctx, `${type}.list`, (client) =>
      apiOf(client, type).basicApi.getPageWithHttpInfo(LIST_PAGE, after, properties, undefined, undefined, archived),
    );
    observeDaily(ctx, info.headers);
    after = info.data.paging?.next?.after;
    yield { page: info.data.results as HubSpotObject[], after };
    if (!after) return;
  }
}

function iso(value: string | null | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? value : new Date(t).toISOString();
}

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

function contactsStream(config: HubSpotConfig): StreamDefinition<HubSpotConfig> {
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

/**
 * Contact ids as a checkpoint keeps them: ascending, each the difference from the previous one in base 36, so the
 * ids of 100,000 contacts take a few hundred kilobytes of state rather than megabytes.
 *
 * @example
 * unpackIds(packIds(['1000003', '1000001'])); // ['1000001', '1000003']
 */
export function packIds(ids: Iterable<string>): string {
  const sorted = [...new Set(ids)]
    .filter((id) => /^\d+$/.test(id))
    .map(Number)
    .sort((a, b) => a - b);
  let previous = 0;
  return sorted
    .map((id) => {
      const delta = id - previous;
      previous = id;
      return delta.toString(36);
    })
    .join(',');
}

/** The ids {@link packIds} packed. */
export function unpackIds(packed: string): string[] {
  if (!packed) return [];
  let previous = 0;
  return packed.split(',').map((delta) => String((previous += parseInt(delta, 36))));
}

interface DeletionState {
  cursor?: string | null;
  /** When the last id reconciliation listed every live contact. */
  reconciledAt?: string;
  /** The live contact ids that listing found, packed. */
  knownIds?: string;
  [key: string]: unknown;
}

/**
 * Deleted contacts: archived ones, read through `archived=true` (search never shows them), and GDPR-deleted ones,
 * which vanish without a trace and are found by an id reconciliation: every `reconcileEveryHours` the stream lists
 * every live contact id and reads each id the previous listing found, and that is now neither live, archived nor
 * merged into a live contact, as deleted. The checkpoint holds the previous listing's ids (a source cannot see the
 * store), so a contact created and GDPR-deleted between two reconciliations is not seen.
 */
function archivedContactsStream(config: HubSpotConfig): StreamDefinition<HubSpotConfig> {
  return {
    name: 'archived_contacts',
    recordKind: 'contact',
    primaryKey: 'externalId',
    cursorField: 'traits.updated_at',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const state = (request.mode === 'incremental' ? request.state : undefined) as DeletionState | undefined;
      const since = state?.cursor ? Date.parse(String(state.cursor)) - OVERLAP_MS : -Infinity;
      const found: ContactRecord[] = [];
      const archived = new Set<string>();
      for await (const { page } of listAll('contacts', CONTACT_PROPERTIES, true, request, ctx)) {
        for (const object of page) {
          archived.add(object.id);
          const record = contactRecord({ ...object, archived: true }, config.properties);
          if (Date.parse(String(record.traits.updated_at)) >= since) found.push(record);
        }
      }
      found.sort((a, b) => String(a.traits.updated_at).localeCompare(String(b.traits.updated_at)));
      for (const record of found) yield { type: 'record', record };
      let cursor = found[found.length - 1]?.traits.updated_at ?? state?.cursor ?? null;

      const now = ctx.clock.now();
      const last = state?.reconciledAt ? Date.parse(state.reconciledAt) : NaN;
      let { reconciledAt, knownIds } = state ?? {};
      if (knownIds === undefined || Number.isNaN(last) || now - last >= config.reconcileEveryHours * 3_600_000) {
        const live = new Set<string>();
        const merged = new Set<string>();
        for await (const { page } of listAll('contacts', ['hs_merged_object_ids'], false, request, ctx)) {
          for (const object of page) {
            live.add(object.id);
            for (const id of (object.properties.hs_merged_object_ids ?? '').split(';'))
              if (id.trim()) merged.add(id.trim());
          }
        }
        const at = new Date(now).toISOString();
        const vanished =
          knownIds === undefined
            ? []
            : unpackIds(knownIds).filter((id) => !live.has(id) && !archived.has(id) && !merged.has(id));
        for (const id of vanished) {
          yield {
            type: 'record',
            record: {
              kind: 'contact',
              source: 'hubspot',
              externalId: id,
              traits: { updated_at: at },
              deleted: true,
              raw: { gdpr_deleted: true },
            },
          };
        }
        if (vanished.length > 0) {
          cursor = cursor && String(cursor) > at ? cursor : at;
          ctx.logger.info('HubSpot contacts no longer listed read as deleted', {
            connection: ctx.connection,
            count: vanished.length,
          });
        }
        reconciledAt = at;
        knownIds = packIds(live);
      }
      yield {
        type: 'state',
        state: {
          cursor,
          ...(reconciledAt === undefined ? {} : { reconciledAt }),
          ...(knownIds === undefined ? {} : { knownIds }),
        },
      };
    },
  };
}

interface EmailEventsPage {
  events: {
    id: string;
    type: string;
    recipient: string;
    created: number;
    emailCampaignId?: number;
    url?: string;
    subscriptions?: { status?: string }[];
    category?: string;
  }[];
  hasMore: boolean;
  offset?: string;
}

function emailEventType(event: EmailEventsPage['events'][number]): EventType | undefined {
  switch (event.type) {
    case 'SENT':
      return 'email_sent';
    case 'OPEN':
      return 'email_open';
    case 'CLICK':
      return 'email_click';
    case 'BOUNCE':
      return 'email_bounce';
    case 'STATUSCHANGE':
      return (event.subscriptions ?? []).some((s) => s.status === 'UNSUBSCRIBED') ? 'email_unsubscribe' : undefined;
    default:
      return undefined;
  }
}

/** Marketing email events from the legacy Email Events API, through `client.apiRequest` (not in the SDK). */
function emailEventsStream(): StreamDefinition<HubSpotConfig> {
  return {
    name: 'email_events',
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'occurredAt',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const connection = connectionFor(request.config);
      const state = request.mode === 'incremental' ? request.state : undefined;
      const saved = state?.window as { start: number; end: number; offset?: string } | undefined;
      // A window belongs to the cursor it was read under: a cursor moved past its end starts afresh.
      const window = saved && (!state?.cursor || Date.parse(String(state.cursor)) <= saved.end) ? saved : undefined;
      const start =
        window?.start ??
        (state?.cursor
          ? Date.parse(String(state.cursor)) - OVERLAP_MS
          : request.config.startDate
            ? Date.parse(request.config.startDate)
            : 0);
      const end = window?.end ?? ctx.clock.now();
      let offset = window?.offset;
      let cursor = state?.cursor ?? null;
      for (;;) {
        const qs: Record<string, string> = { startTimestamp: String(start), endTimestamp: String(end), limit: '1000' };
        if (offset) qs.offset = offset;
        const page = await connection.raw<EmailEventsPage>(ctx, 'email_events.list', '/email/public/v1/events', qs);
        for (const event of page.events) {
          const type = emailEventType(event);
          const occurredAt = new Date(event.created).toISOString();
          if (!cursor || occurredAt > String(cursor)) cursor = occurredAt;
          if (!type) continue;
          const record: EventRecord = {
            kind: 'event',
            source: 'hubspot',
            sourceEventId: `email:${event.id}`,
            type,
            occurredAt,
            contact: { email: event.recipient },
            properties: {
              campaign_id: event.emailCampaignId === undefined ? null : String(event.emailCampaignId),
              ...(event.url ? { url: event.url } : {}),
              ...(event.category ? { bounce_category: event.category } : {}),
              hubspot_type: event.type,
            },
          };
          yield { type: 'record', record };
        }
        offset = page.offset;
        if (!page.hasMore || !offset) break;
        yield { type: 'state', state: { cursor, window: { start, end, offset } } };
      }
      yield { type: 'state', state: { cursor } };
    },
  };
}

interface Paged<T> {
  results: T[];
  paging?: { next?: { after?: string } };
}

interface FormSubmissionResult {
  conversionId: string;
  submittedAt: number;
  pageUrl?: string;
  values: { name: string; value: string }[];
}

/**
 * The cursor a read leaves when it yields events out of time order (and so checkpoints only at its end): the newest
 * event seen, never older than the previous cursor.
 */
function newestCursor(newest: string | null, previous: string | null): StreamMessage {
  return { type: 'state', state: { cursor: newest && (!previous || newest > previous) ? newest : previous } };
}

function eventsSince(request: ReadRequest<HubSpotConfig>): number {
  const cursor = request.mode === 'incremental' ? request.state?.cursor : undefined;
  if (cursor) return Date.parse(String(cursor)) - OVERLAP_MS;
  return request.config.startDate ? Date.parse(request.config.startDate) : -Infinity;
}

/**
 * Form submissions as `form_submit` events, attributed by the email submitted. The submissions API has no time
 * filter and answers newest first, so each form is paged until a submission older than the cursor less the overlap.
 */
function formSubmissionsStream(): StreamDefinition<HubSpotConfig> {
  return {
    name: 'form_submissions',
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'occurredAt',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const connection = connectionFor(request.config);
      const since = eventsSince(request);
      const forms: { id: string; name: string }[] = [];
      let after: string | undefined;
      do {
        const page = await connection.raw<Paged<{ id: string; name: string }>>(
          ctx,
          'forms.list',
          '/marketing/v3/forms/',
          // Every form type: without it HubSpot lists only its own forms, leaving out pop-ups and captured forms.
          { limit: '100', formTypes: 'all', ...(after ? { after } : {}) },
        );
        forms.push(...page.results);
        after = page.paging?.next?.after;
      } while (after);
      // Yielded as they come, newest first, so a form with a million submissions is never held in memory; the
      // checkpoint comes at the end (a run stopped midway reads the forms again, and the load skips what it has).
      const previous =
        request.mode === 'incremental' ? ((request.state?.cursor as string | null | undefined) ?? null) : null;
      let newest: string | null = null;
      let unattributed = 0;
      for (const form of forms) {
        let next: string | undefined;
        let older = false;
        do {
          const page = await connection.raw<Paged<FormSubmissionResult>>(
            ctx,
            'forms.submissions',
            `/form-integrations/v1/submissions/forms/${encodeURIComponent(form.id)}`,
            { limit: '50', ...(next ? { after: next } : {}) },
          );
          for (const submission of page.results) {
            if (submission.submittedAt < since) {
              older = true;
              break;
            }
            const values = Object.fromEntries(submission.values.map((v) => [v.name, v.value]));
            if (!values.email) {
              unattributed++;
              continue;
            }
            const occurredAt = new Date(submission.submittedAt).toISOString();
            if (!newest || occurredAt > newest) newest = occurredAt;
            const record: EventRecord = {
              kind: 'event',
              source: 'hubspot',
              sourceEventId: `form:${submission.conversionId}`,
              type: 'form_submit',
              occurredAt,
              contact: { email: values.email },
              properties: {
                form_id: form.id,
                form_name: form.name,
                ...(submission.pageUrl ? { url: submission.pageUrl } : {}),
                values,
              },
            };
            yield { type: 'record', record };
          }
          next = page.paging?.next?.after;
        } while (next && !older);
      }
      if (unattributed > 0)
        ctx.logger.warn('HubSpot form submissions without an email skipped', {
          connection: ctx.connection,
          count: unattributed,
        });
      yield newestCursor(newest, previous);
    },
  };
}

/**
 * Custom behavioural events (`custom`, named by their event type) from the Events API, for portals that have them
 * (Enterprise); a portal without them answers 403 and the stream reads nothing.
 */
function behaviouralEventsStream(): StreamDefinition<HubSpotConfig> {
  return {
    name: 'behavioral_events',
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'occurredAt',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const connection = connectionFor(request.config);
      const previous =
        request.mode === 'incremental' ? ((request.state?.cursor as string | null | undefined) ?? null) : null;
      const since = eventsSince(request);
      // Event types are read one after the other, each in time order: one cursor for all comes only at the end.
      let newest: string | null = null;
      try {
        let types = request.config.customEventTypes;
        if (types.length === 0) {
          const listed = await connection.run(ctx, 'events.types', (client) => client.events.eventsApi.getTypes());
          types = listed.eventTypes.filter((t) => t.startsWith('pe'));
        }
        for (const eventType of types) {
          let after: string | undefined;
          do {
            const page = await connection.run(ctx, 'events.list', (client) =>
              client.events.eventsApi.getPage(
                'contact',
                eventType,
                after,
                undefined,
                100,
                // No sort: HubSpot accepts only the field occurredAt (`ASCENDING` is a 400), and the cursor is the
                // newest event seen, checkpointed at the end, so the order does not matter.
                undefined,
                Number.isFinite(since) ? new Date(since) : undefined,
              ),
            );
            for (const event of page.results) {
              const occurredAt = new Date(event.occurredAt).toISOString();
              if (!newest || occurredAt > newest) newest = occurredAt;
              const record: EventRecord = {
                kind: 'event',
                source: 'hubspot',
                sourceEventId: `behavioral:${event.id}`,
                type: 'custom',
                occurredAt,
                contact: { externalId: String(event.objectId) },
                properties: { ...(event.properties ?? {}), name: event.eventType },
              };
              yield { type: 'record', record };
            }
            after = page.paging?.next?.after;
          } while (after);
        }
      } catch (error) {
        if (statusOf(error) !== 403) throw error;
        ctx.logger.info('HubSpot portal has no custom behavioural events (the Events API answered 403)', {
          connection: ctx.connection,
        });
        yield { type: 'state', state: { cursor: previous } };
        return;
      }
      yield newestCursor(newest, previous);
    },
  };
}

const ENGAGEMENT_PROPERTIES: Record<Exclude<CrmType, 'contacts'>, string[]> = {
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
 * Contacts of each object, through the associations v4 batch read (search and list results carry none), and the
 * per-object associations listing for an object whose batch answer pages.
 */
async function contactsOf(
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

function engagementEvents(
  type: Exclude<CrmType, 'contacts'>,
  object: HubSpotObject,
  contactIds: string[],
): EventRecord[] {
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

/** Meetings, calls, logged emails or deals as canonical events, one per associated contact. */
function engagementStream(type: Exclude<CrmType, 'contacts'>): StreamDefinition<HubSpotConfig> {
  const properties = ENGAGEMENT_PROPERTIES[type];
  return {
    name: type,
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'properties.updated_at',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      if (request.mode === 'incremental') {
        let state: StreamState = { ...(request.state ?? {}) };
        const pages = request.state?.cursor
          ? searchModified(type, properties, request, ctx)
          : walkList(type, properties, request, ctx, ASSOCIATION_BATCH);
        for await (const { page, state: next } of pages) {
          const links = await contactsOf(
            type,
            page.map((o) => o.id),
            request,
            ctx,
          );
          for (const object of page)
            for (const record of engagementEvents(type, object, links.get(object.id) ?? []))
              yield { type: 'record', record };
          state = next;
          yield { type: 'state', state };
        }
        yield { type: 'state', state };
        return;
      }
      const all: EventRecord[] = [];
      for await (const { page } of listAll(type, properties, false, request, ctx)) {
        const links = await contactsOf(
          type,
          page.map((o) => o.id),
          request,
          ctx,
        );
        for (const object of page) all.push(...engagementEvents(type, object, links.get(object.id) ?? []));
      }
      all.sort((a, b) => String(a.properties?.updated_at).localeCompare(String(b.properties?.updated_at)));
      for (let i = 0; i < all.length; i += 500) {
        for (const record of all.slice(i, i + 500)) yield { type: 'record', record };
        yield {
          type: 'state',
          state: { cursor: String(all[Math.min(i + 500, all.length) - 1]?.properties?.updated_at) },
        };
      }
      yield {
        type: 'state',
        state: { cursor: all.length > 0 ? String(all[all.length - 1]?.properties?.updated_at) : null },
      };
    },
  };
}

/**
 * The HubSpot source.
 *
 * @example
 * const streams = source.streams(hubspotSpec.parse({ accessToken: process.env.HUBSPOT_TOKEN }));
 */
export const source = defineSource({
  name: 'hubspot',
  spec: hubspotSpec,
  rateBudget: HUBSPOT_BUDGET,
  classifyError: classifyHubSpotError,
  check: checkHubSpot,
  // The largest stream first: the engine loads streams in this order while later ones only fetch ahead, so the
  // marketing email events (most of a portal's records) load while the CRM streams are still being fetched.
  streams: (config) => [
    emailEventsStream(),
    contactsStream(config),
    archivedContactsStream(config),
    engagementStream('meetings'),
    engagementStream('calls'),
    engagementStream('deals'),
    formSubmissionsStream(),
    behaviouralEventsStream(),
    ...(config.loggedEmails ? [engagementStream('emails')] : []),
  ],
  webhook: hubspotWebhook,
});
