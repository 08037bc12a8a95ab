/**
 * What every HubSpot stream reads through: the SDK API of an object type, the search on the modification date (a fresh query after each timestamp, a crowd sharing one millisecond walked by id), the list endpoint walk of a first incremental read, and the small shared shapes.
 */
import type { Client } from '@hubspot/api-client';
import type { ConnectorContext, ReadRequest, StreamMessage, StreamState } from '../../../plugins/index.js';
import { connectionFor, observeDaily, type HubSpotConfig } from '../client.js';

export const SEARCH_PAGE = 200;
export const LIST_PAGE = 100;
/** Objects whose contacts one associations v4 batch read asks for. */
export const ASSOCIATION_BATCH = 1000;
/** How far an incremental read starts behind its cursor: records written late with an older timestamp. */
export const OVERLAP_MS = 5 * 60_000;

export interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: Date;
  updatedAt?: Date;
  archived?: boolean;
  archivedAt?: Date;
}

export type CrmType =
  'contacts' | 'meetings' | 'calls' | 'emails' | 'deals' | 'companies' | 'tickets' | 'feedback_submissions';

/** The CRM objects read as engagement events. */
export type EngagementCrmType = Exclude<CrmType, 'contacts' | 'companies' | 'tickets' | 'feedback_submissions'>;

/** The SDK's API for an object type (contacts and deals have their own; engagements are under `objects`). */
export function apiOf(client: Client, type: CrmType) {
  switch (type) {
    case 'contacts':
      return client.crm.contacts;
    case 'deals':
      return client.crm.deals;
    case 'companies':
      return client.crm.companies;
    case 'tickets':
      return client.crm.tickets;
    case 'feedback_submissions':
      return client.crm.objects.feedbackSubmissions;
    default:
      return client.crm.objects[type];
  }
}

export function modifiedName(type: CrmType): string {
  return type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
}

export function modifiedAt(type: CrmType, object: HubSpotObject): number {
  const value = object.properties[modifiedName(type)];
  const parsed = value ? Date.parse(value) : NaN;
  return Number.isNaN(parsed) ? (object.updatedAt?.getTime() ?? 0) : parsed;
}

export interface SearchState {
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
export async function* searchModified(
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
export interface WalkState {
  /** The list position the walk resumes at. */
  listAfter?: string;
  /** The newest modification when the walk started: the cursor the walk ends with. */
  cursorAtStart?: string | null;
  [key: string]: unknown;
}

/** The newest modification of a type's objects (one search sorted descending, limit 1); null when there are none. */
export async function newestModified(
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
export async function* walkList(
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
export async function* listAll(
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

export function iso(value: string | null | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? value : new Date(t).toISOString();
}

export interface Paged<T> {
  results: T[];
  paging?: { next?: { after?: string } };
}

export interface FormSubmissionResult {
  conversionId: string;
  submittedAt: number;
  pageUrl?: string;
  values: { name: string; value: string }[];
}

/**
 * The cursor a read leaves when it yields events out of time order (and so checkpoints only at its end): the newest
 * event seen, never older than the previous cursor.
 */
export function newestCursor(newest: string | null, previous: string | null): StreamMessage {
  return { type: 'state', state: { cursor: newest && (!previous || newest > previous) ? newest : previous } };
}

export function eventsSince(request: ReadRequest<HubSpotConfig>): number {
  const cursor = request.mode === 'incremental' ? request.state?.cursor : undefined;
  if (cursor) return Date.parse(String(cursor)) - OVERLAP_MS;
  return request.config.startDate ? Date.parse(request.config.startDate) : -Infinity;
}
