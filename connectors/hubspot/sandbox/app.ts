/**
 * The sandbox's HTTP surface: a hono app answering HubSpot's real paths with HubSpot's payloads, paging, batch caps,
 * Bearer auth, error bodies and rate limits (a ten-second rolling window, a daily budget and the search endpoints'
 * per-second limit, answered with HubSpot's 429 body and X-HubSpot-RateLimit headers), plus switchable faults.
 */
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import {
  ENGAGEMENT_TYPES,
  type EmailEvent,
  type EngagementType,
  type Portal,
  type StoredList,
  type StoredObject,
  tieOrder,
} from './portal.js';

/** HubSpot's limits, real values by default; every one can be changed for a test or a benchmark. */
export interface HubSpotLimits {
  /** Requests per rolling interval (100 per 10 s for a private app; 190 on Pro/Enterprise). */
  requestsPerInterval: number;
  intervalMs: number;
  /** Requests per day (250,000 on Free/Starter). */
  daily: number;
  /** Search requests per second (about 5). */
  searchPerSecond: number;
  /** Largest `limit` of a list page. */
  pageSize: number;
  /** Largest `limit` of a search page. */
  searchPageSize: number;
  /** Results one search query can page through; paging past it answers 400. */
  searchResultCap: number;
  /** Inputs per batch call. */
  batchSize: number;
  /** Record ids per membership call (undocumented by HubSpot). */
  membershipIdsPerCall: number;
  /** Largest `limit` of a list-memberships page. */
  membershipPageSize: number;
  /** Largest `limit` of an Email Events page. */
  emailEventsPageSize: number;
  /** Inputs per associations v4 batch read. */
  associationBatchSize: number;
  /**
   * Associations a batch read answers per object before paging the rest (`paging.next.after`, read on through
   * `GET /crm/v4/objects/{type}/{id}/associations/{to}`); also that route's largest page. Undocumented: 500 assumed.
   */
  associationsPerObject: number;
  /** Largest `limit` of a form-submissions page (50). */
  formSubmissionsPageSize: number;
  /** Largest `limit` of an Events API page (unconfirmed; 100 like the CRM list endpoints). */
  eventsPageSize: number;
}

export const HUBSPOT_LIMITS: HubSpotLimits = {
  requestsPerInterval: 100,
  intervalMs: 10_000,
  daily: 250_000,
  searchPerSecond: 5,
  pageSize: 100,
  searchPageSize: 200,
  searchResultCap: 10_000,
  batchSize: 100,
  membershipIdsPerCall: 100,
  membershipPageSize: 250,
  emailEventsPageSize: 1000,
  associationBatchSize: 1000,
  associationsPerObject: 500,
  formSubmissionsPageSize: 50,
  eventsPageSize: 100,
};

/** Faults a test switches on and off while the sandbox runs. */
export interface HubSpotFaults {
  /** Until this time (ms), every request answers 429 TEN_SECONDLY_ROLLING, as when other apps use up the limit. */
  stormUntil: number;
  /** The next N requests answer 429 TEN_SECONDLY_ROLLING. */
  rateLimitNext: number;
  /** The next N requests answer 502 with the HTML page HubSpot's edge serves (not JSON). */
  serverErrorNext: number;
  /** Every request waits this long before answering. */
  slowMs: number;
  /** OAuth access tokens issued before this time (ms) answer 401 as expired: "an expired token". */
  expireTokensIssuedBefore: number;
  /** Emails a batch upsert or create rejects (the "bad row"); invalid addresses are always rejected. */
  badEmails: Set<string>;
}

export function noFaults(): HubSpotFaults {
  return {
    stormUntil: 0,
    rateLimitNext: 0,
    serverErrorNext: 0,
    slowMs: 0,
    expireTokensIssuedBefore: 0,
    badEmails: new Set(),
  };
}

/** One request the sandbox received, as the recorder keeps it. */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  /** Requests the rolling window held when this one arrived (itself included, when it was let through). */
  windowCount: number;
  /** Why a 429 was answered: 'ours' (our own window was full), 'storm' (injected), 'secondly' or 'daily'. */
  limitedBy?: 'ours' | 'storm' | 'secondly' | 'daily';
  body?: unknown;
}

export interface Credentials {
  /** The private-app token. */
  accessToken: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export interface AppOptions {
  portal: Portal;
  limits: HubSpotLimits;
  faults: HubSpotFaults;
  credentials: Credentials;
  /** Lifetime of OAuth access tokens the sandbox issues, in seconds (HubSpot: 1800). */
  tokenLifetimeSeconds: number;
  recorder: RecordedRequest[];
  /** Keep request bodies in the recorder (tests); off for benchmarks. */
  recordBodies: boolean;
  now: () => number;
  onWrite?: () => void;
}

type Ctx = Context;

/** What HubSpot's edge (Cloudflare) answers on a gateway fault: an HTML page, no JSON and no rate-limit headers. */
const GATEWAY_PAGE =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

/** Builds the app. `startSandbox` serves it; tests may call `app.request()` directly. */
export function createHubSpotApp(options: AppOptions): Hono {
  const { portal, limits, faults, credentials, recorder, now } = options;
  const app = new Hono();
  const oauthTokens = new Map<string, number>();
  const issuedAt = new Map<string, number>();
  const window: number[] = [];
  const searchWindow: number[] = [];
  let day = -1;
  let usedToday = 0;

  const rateHeaders = (c: Ctx) => {
    c.header('X-HubSpot-RateLimit-Max', String(limits.requestsPerInterval));
    c.header('X-HubSpot-RateLimit-Remaining', String(Math.max(0, limits.requestsPerInterval - window.length)));
    c.header('X-HubSpot-RateLimit-Interval-Milliseconds', String(limits.intervalMs));
    c.header('X-HubSpot-RateLimit-Daily', String(limits.daily));
    c.header('X-HubSpot-RateLimit-Daily-Remaining', String(Math.max(0, limits.daily - usedToday)));
  };

  const tooMany = (c: Ctx, policy: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY') => {
    const message =
      policy === 'DAILY'
        ? 'You have reached your daily limit.'
        : policy === 'SECONDLY'
          ? 'You have reached your secondly limit.'
          : 'You have reached your ten_secondly_rolling limit.';
    rateHeaders(c);
    return c.json(
      { status: 'error', message, errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName: policy },
      429,
    );
  };

  app.use('*', async (c, next) => {
    const at = now();
    const entry: RecordedRequest = { at, method: c.req.method, path: c.req.path, status: 0, windowCount: 0 };
    recorder.push(entry);
    if (options.recordBodies && c.req.method !== 'GET') {
      entry.body = await c.req.raw
        .clone()
        .text()
        .then((t) => (t ? safeJson(t) : undefined));
    }
    if (faults.slowMs > 0) await new Promise((r) => setTimeout(r, faults.slowMs));
    while (window.length > 0 && (window[0] ?? 0) <= at - limits.intervalMs) window.shift();
    const today = Math.floor(at / 86_400_000);
    if (today !== day) {
      day = today;
      usedToday = 0;
    }
    let limited: RecordedRequest['limitedBy'];
    let response: Response | undefined;
    if (c.req.path === '/oauth/v1/token') {
      // token requests are not counted against the API limits
    } else if (faults.stormUntil > at || faults.rateLimitNext > 0) {
      if (faults.rateLimitNext > 0) faults.rateLimitNext--;
      limited = 'storm';
      response = tooMany(c, 'TEN_SECONDLY_ROLLING');
    } else if (usedToday >= limits.daily) {
      limited = 'daily';
      response = tooMany(c, 'DAILY');
    } else if (window.length >= limits.requestsPerInterval) {
      limited = 'ours';
      response = tooMany(c, 'TEN_SECONDLY_ROLLING');
    } else if (c.req.path.endsWith('/search') && c.req.method === 'POST') {
      while (searchWindow.length > 0 && (searchWindow[0] ?? 0) <= at - 1000) searchWindow.shift();
      if (searchWindow.length >= limits.searchPerSecond) {
        limited = 'secondly';
        response = tooMany(c, 'SECONDLY');
      } else {
        searchWindow.push(at);
      }
    }
    if (!response && c.req.path !== '/oauth/v1/token') {
      window.push(at);
      usedToday++;
    }
    entry.windowCount = window.length;
    if (limited) entry.limitedBy = limited;
    if (response) {
      entry.status = response.status;
      return response;
    }
    if (faults.serverErrorNext > 0) {
      faults.serverErrorNext--;
      entry.status = 502;
      return c.html(GATEWAY_PAGE, 502);
    }
    if (c.req.path !== '/oauth/v1/token') {
      const auth = c.req.header('authorization') ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const expires = oauthTokens.get(token);
      if (!token || (token !== credentials.accessToken && expires === undefined)) {
        entry.status = 401;
        return c.json(
          hubspotError(
            'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
            'INVALID_AUTHENTICATION',
          ),
          401,
        );
      }
      if (expires !== undefined && (expires <= now() || (issuedAt.get(token) ?? 0) < faults.expireTokensIssuedBefore)) {
        entry.status = 401;
        const ago = Math.max(1, Math.round((now() - expires) / 60_000));
        return c.json(
          hubspotError(
            `The OAuth token used to make this call expired ${ago} minute(s) ago.`,
            'EXPIRED_AUTHENTICATION',
          ),
          401,
        );
      }
    }
    await next();
    rateHeaders(c);
    entry.status = c.res.status;
  });

  // ---- OAuth -------------------------------------------------------------------------------------------------
  app.post('/oauth/v1/token', async (c) => {
    const form = new URLSearchParams(await c.req.text());
    if (form.get('grant_type') !== 'refresh_token') {
      return c.json(
        { status: 'BAD_GRANT_TYPE', message: 'grant_type must be refresh_token', correlationId: randomUUID() },
        400,
      );
    }
    if (form.get('client_id') !== credentials.clientId || form.get('client_secret') !== credentials.clientSecret) {
      return c.json(
        { status: 'BAD_CLIENT_ID', message: 'missing or unknown client id', correlationId: randomUUID() },
        400,
      );
    }
    if (form.get('refresh_token') !== credentials.refreshToken) {
      return c.json(
        { status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token', correlationId: randomUUID() },
        400,
      );
    }
    const token = `oauth-${randomUUID()}`;
    oauthTokens.set(token, now() + options.tokenLifetimeSeconds * 1000);
    issuedAt.set(token, now());
    return c.json({
      token_type: 'bearer',
      refresh_token: credentials.refreshToken,
      access_token: token,
      expires_in: options.tokenLifetimeSeconds,
    });
  });

  // ---- CRM objects: list, read, search ------------------------------------------------------------------------
  const objectTypes = new Set<string>(['contacts', ...ENGAGEMENT_TYPES]);
  const recordsOf = (type: string) => portal.byId(type as 'contacts' | EngagementType);

  app.get('/crm/v3/objects/:type', (c) => {
    const type = c.req.param('type');
    if (!objectTypes.has(type)) return notFound(c, `Unable to infer object type from: ${type}`);
    const limit = intParam(c.req.query('limit'), 10);
    if (limit > limits.pageSize || limit < 1) return validation(c, `limit must be between 1 and ${limits.pageSize}`);
    const archived = c.req.query('archived') === 'true';
    const names = c.req.queries('properties') ?? [];
    const after = c.req.query('after');
    const rows = recordsOf(type);
    const start = after === undefined ? 0 : lowerBound(rows, Number(after));
    const results: StoredObject[] = [];
    let i = start;
    for (; i < rows.length && results.length < limit; i++) {
      const row = rows[i] as StoredObject;
      if (row.archived === archived) results.push(row);
    }
    while (i < rows.length && (rows[i] as StoredObject).archived !== archived) i++;
    const next = i < rows.length ? (rows[i] as StoredObject).id : undefined;
    return c.json({
      results: results.map((r) => render(r, names, type)),
      ...(next === undefined ? {} : { paging: { next: { after: next, link: `${c.req.path}?after=${next}` } } }),
    });
  });

  app.get('/crm/v3/objects/:type/:id', (c) => {
    const type = c.req.param('type');
    const id = c.req.param('id');
    if (!objectTypes.has(type)) return notFound(c, `Unable to infer object type from: ${type}`);
    const store = type === 'contacts' ? portal.contacts : portal.engagements[type as EngagementType];
    const record = store.get(type === 'contacts' ? (portal.mergedInto.get(id) ?? id) : id);
    if (!record || record.archived !== (c.req.query('archived') === 'true'))
      return notFound(c, 'Object not found.  objectId are usually numeric.');
    return c.json(render(record, c.req.queries('properties') ?? [], type));
  });

  app.post('/crm/v3/objects/:type/search', async (c) => {
    const type = c.req.param('type');
    if (!objectTypes.has(type)) return notFound(c, `Unable to infer object type from: ${type}`);
    const body = (await c.req.json().catch(() => ({}))) as SearchBody;
    const limit = body.limit ?? 10;
    if (limit > limits.searchPageSize || limit < 1)
      return validation(c, `limit must be between 1 and ${limits.searchPageSize}`);
    const after = Number(body.after ?? 0);
    if (!Number.isInteger(after) || after < 0) return validation(c, 'after must be a non-negative integer');
    if (after >= limits.searchResultCap) {
      return validation(
        c,
        `There was a problem with the request. Paging past ${limits.searchResultCap} results is not supported.`,
      );
    }
    const groups = body.filterGroups ?? [];
    const sorts = body.sorts ?? [];
    const modifiedName = type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
    // "Only one sorting rule can be applied to any search": a second sort is not applied, and records the first
    // sort ties come in no promised order (here a scramble of their ids, never the id order a client might expect).
    const sort = sorts.slice(0, 1);
    const plain =
      sort.length === 0 ||
      (sort[0]?.propertyName === modifiedName && (sort[0].direction ?? 'ASCENDING') === 'ASCENDING');
    let rows = (plain && sort.length > 0 ? portal.byModified(type as 'contacts') : recordsOf(type)).filter(
      (r) => !r.archived && (groups.length === 0 || groups.some((g) => (g.filters ?? []).every((f) => matches(r, f)))),
    );
    if (!plain) rows = [...rows].sort(comparator(sort));
    const page = rows.slice(after, Math.min(after + limit, limits.searchResultCap));
    const nextAfter = after + page.length;
    return c.json({
      total: rows.length,
      results: page.map((r) => render(r, body.properties ?? [], type)),
      ...(nextAfter < rows.length && nextAfter < limits.searchResultCap + 1 && page.length > 0
        ? { paging: { next: { after: String(nextAfter) } } }
        : {}),
    });
  });

  // ---- contacts batch, GDPR -----------------------------------------------------------------------------------
  app.post('/crm/v3/objects/contacts/batch/:action', async (c) => {
    const action = c.req.param('action');
    const body = (await c.req.json().catch(() => ({}))) as { inputs?: BatchInput[]; properties?: string[] };
    const inputs = body.inputs ?? [];
    if (inputs.length > limits.batchSize)
      return validation(c, `Batch input size (${inputs.length}) exceeds the limit of ${limits.batchSize}.`);
    const started = new Date(now()).toISOString();
    const results: unknown[] = [];
    const errors: unknown[] = [];
    const reject = (message: string, category: string, context: Record<string, string[]>) =>
      errors.push({ status: 'error', category, message, context });
    const refuseBatch = (kind: 'upsert' | 'create', all: BatchInput[]) => {
      const seen = new Set<string>();
      for (const input of all) {
        const email = kind === 'upsert' ? String(input.id ?? '') : (input.properties?.email ?? undefined);
        if (email !== undefined && email !== '' && (!EMAIL.test(email) || faults.badEmails.has(email.toLowerCase())))
          return { message: invalidEmail(email), category: 'VALIDATION_ERROR' };
        const unknown = Object.keys(input.properties ?? {}).find((p) => !portal.properties.has(p));
        if (unknown) return { message: missingProperty(unknown), category: 'VALIDATION_ERROR' };
        const key = (email ?? '').toLowerCase();
        if (kind === 'upsert' && seen.has(key))
          return {
            message: `Duplicate IDs found in batch input: [${email}]. IDs must be unique`,
            category: 'VALIDATION_ERROR',
          };
        seen.add(key);
        const existing = kind === 'create' && email ? portal.findContactByEmail(email) : undefined;
        if (existing) return { message: `Contact already exists. Existing ID: ${existing.id}`, category: 'CONFLICT' };
      }
      return undefined;
    };
    if (action === 'read') {
      for (const input of inputs) {
        const contact = portal.liveContact(String(input.id));
        if (contact) results.push(render(contact, body.properties ?? [], 'contacts'));
        else
          reject(
            `Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.`,
            'OBJECT_NOT_FOUND',
            { ids: [String(input.id)] },
          );
      }
    } else if (action === 'upsert' || action === 'create' || action === 'update') {
      // Create and upsert validate the whole request first: one invalid value or one conflict fails it with a 400
      // naming the first offender, and nothing is written (HubSpot/hubspot-api-python#51). Update answers 207.
      if (action !== 'update') {
        const refusal = refuseBatch(action, inputs);
        if (refusal) return c.json(hubspotError(refusal.message, refusal.category), 400);
      }
      for (const input of inputs) {
        const properties = { ...(input.properties ?? {}) };
        const email = action === 'upsert' ? String(input.id ?? '') : (properties.email ?? undefined);
        if (email !== undefined && email !== '' && (!EMAIL.test(email) || faults.badEmails.has(email.toLowerCase()))) {
          reject(invalidEmail(email), 'VALIDATION_ERROR', { email: [email] });
          continue;
        }
        const unknown = Object.keys(properties).filter((p) => !portal.properties.has(p));
        if (unknown.length > 0) {
          reject(missingProperty(String(unknown[0])), 'VALIDATION_ERROR', { properties: unknown });
          continue;
        }
        let contact =
          action === 'update'
            ? portal.liveContact(String(input.id))
            : email
              ? portal.findContactByEmail(email)
              : undefined;
        if (action === 'update' && !contact) {
          reject('Object not found.  objectId are usually numeric.', 'OBJECT_NOT_FOUND', { ids: [String(input.id)] });
          continue;
        }
        if (action === 'create' && contact) {
          reject(`Contact already exists. Existing ID: ${contact.id}`, 'CONFLICT', { email: [email ?? ''] });
          continue;
        }
        const isNew = !contact;
        if (!contact) {
          const at = now();
          contact = {
            id: portal.newId(),
            properties: { email: email ?? null },
            createdAt: at,
            updatedAt: at,
            archived: false,
          };
        }
        Object.assign(contact.properties, properties);
        contact.updatedAt = now();
        portal.putContact(contact);
        portal.written.add(contact.id);
        results.push({
          ...render(contact, Object.keys(properties), 'contacts'),
          ...(action === 'upsert' ? { new: isNew } : {}),
        });
      }
      options.onWrite?.();
    } else if (action === 'archive') {
      for (const input of inputs) portal.archiveContact(String(input.id));
      options.onWrite?.();
      return c.body(null, 204);
    } else {
      return notFound(c, `Unknown batch action ${action}`);
    }
    const payload = {
      status: 'COMPLETE',
      results,
      startedAt: started,
      completedAt: new Date(now()).toISOString(),
      ...(errors.length > 0 ? { numErrors: errors.length, errors } : {}),
    };
    return c.json(payload, errors.length > 0 ? 207 : action === 'create' ? 201 : 200);
  });

  app.post('/crm/v3/objects/contacts/gdpr-delete', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { objectId?: string; idProperty?: string };
    const id =
      body.idProperty === 'email' ? portal.findContactByEmail(String(body.objectId))?.id : String(body.objectId);
    if (!id || !portal.gdprDelete(id)) return notFound(c, 'Object not found.  objectId are usually numeric.');
    options.onWrite?.();
    return c.body(null, 204);
  });

  // ---- associations v4 ---------------------------------------------------------------------------------------
  app.post('/crm/v4/associations/:from/:to/batch/read', async (c) => {
    const from = c.req.param('from');
    const to = c.req.param('to');
    if (!ENGAGEMENT_TYPES.includes(from as EngagementType) || to !== 'contacts') {
      return validation(c, `Associations from ${from} to ${to} are not served by this sandbox`);
    }
    const body = (await c.req.json().catch(() => ({}))) as { inputs?: { id?: string }[] };
    const inputs = body.inputs ?? [];
    if (inputs.length > limits.associationBatchSize)
      return validation(c, `Batch input size exceeds the limit of ${limits.associationBatchSize}.`);
    const typeId = { meetings: 200, calls: 194, emails: 198, deals: 3 }[from as EngagementType];
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      const record = portal.engagements[from as EngagementType].get(String(input.id));
      const contactIds = (record?.contactIds ?? [])
        .map((id) => portal.liveContact(id)?.id)
        .filter((id): id is string => !!id);
      if (!record || contactIds.length === 0) {
        errors.push({
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
          message: `No contact is associated with ${from.replace(/s$/, '')} ${String(input.id)}.`,
          context: { fromObjectId: [String(input.id)] },
        });
        continue;
      }
      const linked = [...new Set(contactIds)];
      const first = linked.slice(0, limits.associationsPerObject);
      const more = linked.length > first.length ? encodeOffset(first.length) : undefined;
      results.push({
        from: { id: String(input.id) },
        to: first.map((id) => association(id, typeId)),
        ...(more
          ? {
              paging: {
                next: {
                  after: more,
                  link: `${new URL(c.req.url).origin}/crm/v4/objects/${from}/${String(input.id)}/associations/contacts?after=${more}`,
                },
              },
            }
          : {}),
      });
    }
    const payload = {
      status: 'COMPLETE',
      results,
      startedAt: new Date(now()).toISOString(),
      completedAt: new Date(now()).toISOString(),
      ...(errors.length ? { numErrors: errors.length, errors } : {}),
    };
    return c.json(payload, errors.length > 0 ? 207 : 200);
  });

  app.get('/crm/v4/objects/:from/:id/associations/:to', (c) => {
    const from = c.req.param('from');
    if (!ENGAGEMENT_TYPES.includes(from as EngagementType) || c.req.param('to') !== 'contacts')
      return validation(c, `Associations from ${from} to ${c.req.param('to')} are not served by this sandbox`);
    const typeId = { meetings: 200, calls: 194, emails: 198, deals: 3 }[from as EngagementType];
    const record = portal.engagements[from as EngagementType].get(c.req.param('id'));
    const linked = [
      ...new Set((record?.contactIds ?? []).map((id) => portal.liveContact(id)?.id).filter((id): id is string => !!id)),
    ];
    const limit = Math.min(
      Math.max(1, intParam(c.req.query('limit'), limits.associationsPerObject)),
      limits.associationsPerObject,
    );
    const start = decodeOffset(c.req.query('after'));
    if (start === undefined) return validation(c, 'invalid after');
    const page = linked.slice(start, start + limit);
    const next = start + limit < linked.length ? encodeOffset(start + limit) : undefined;
    return c.json({
      results: page.map((id) => association(id, typeId)),
      ...(next
        ? { paging: { next: { after: next, link: `${new URL(c.req.url).origin}${c.req.path}?after=${next}` } } }
        : {}),
    });
  });

  // ---- marketing email events (legacy API) -------------------------------------------------------------------
  app.get('/email/public/v1/events', (c) => {
    const log = portal.emailEvents;
    const start = c.req.query('startTimestamp') === undefined ? -Infinity : Number(c.req.query('startTimestamp'));
    const end = c.req.query('endTimestamp') === undefined ? Infinity : Number(c.req.query('endTimestamp'));
    const limit = Math.min(intParam(c.req.query('limit'), 100), limits.emailEventsPageSize);
    const eventType = c.req.query('eventType');
    const recipient = c.req.query('recipient');
    let index = firstAtOrAfter(log.count, log.createdAt, start);
    const offset = c.req.query('offset');
    if (offset) {
      const decoded = Number(Buffer.from(offset, 'base64url').toString());
      if (!Number.isInteger(decoded)) return validation(c, 'invalid offset');
      index = Math.max(index, decoded);
    }
    const events: EmailEvent[] = [];
    for (; index < log.count && events.length < limit; index++) {
      if (log.createdAt(index) > end) break;
      const event = log.at(index);
      if (eventType && event.type !== eventType) continue;
      if (recipient && event.recipient.toLowerCase() !== recipient.toLowerCase()) continue;
      events.push(event);
    }
    const hasMore = index < log.count && log.createdAt(index) <= end;
    return c.json({ events, hasMore, offset: Buffer.from(String(index)).toString('base64url') });
  });

  // ---- forms and their submissions ----------------------------------------------------------------------------
  const listForms = (c: Ctx) => {
    const limit = Math.min(Math.max(1, intParam(c.req.query('limit'), 20)), limits.pageSize);
    // Only HubSpot forms unless `formTypes` asks for others (`captured`, `flow`, `blog_comment`) or `all`.
    const types = c.req.queries('formTypes') ?? ['hubspot'];
    const forms = [...portal.forms.values()]
      .filter((f) => types.includes('all') || types.includes(f.formType ?? 'hubspot'))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const from = decodeOffset(c.req.query('after'));
    if (from === undefined) return validation(c, 'invalid after');
    const page = forms.slice(from, from + limit);
    const next = from + limit < forms.length ? encodeOffset(from + limit) : undefined;
    return c.json({
      results: page.map((f) => ({
        id: f.id,
        name: f.name,
        formType: f.formType ?? 'hubspot',
        createdAt: new Date(f.createdAt).toISOString(),
        updatedAt: new Date(f.updatedAt).toISOString(),
        archived: false,
      })),
      ...(next
        ? { paging: { next: { after: next, link: `${new URL(c.req.url).origin}/marketing/v3/forms/?after=${next}` } } }
        : {}),
    });
  };
  app.get('/marketing/v3/forms', listForms);
  app.get('/marketing/v3/forms/', listForms);

  // Newest first, as HubSpot answers; `after` walks towards older submissions.
  app.get('/form-integrations/v1/submissions/forms/:formId', (c) => {
    const formId = c.req.param('formId');
    if (!portal.forms.has(formId)) return notFound(c, `Form ${formId} does not exist`);
    const all = portal.formSubmissions.get(formId) ?? [];
    const limit = Math.min(Math.max(1, intParam(c.req.query('limit'), 20)), limits.formSubmissionsPageSize);
    const from = decodeOffset(c.req.query('after'));
    if (from === undefined) return validation(c, 'invalid after');
    const results: unknown[] = [];
    for (let k = from; k < from + limit && k < all.length; k++) {
      const submission = all[all.length - 1 - k] as (typeof all)[number];
      results.push({
        conversionId: submission.conversionId,
        submittedAt: submission.submittedAt,
        values: submission.values,
        pageUrl: submission.pageUrl,
      });
    }
    const next = from + limit < all.length ? encodeOffset(from + limit) : undefined;
    return c.json({
      results,
      ...(next
        ? {
            paging: {
              next: {
                after: next,
                link: `${new URL(c.req.url).origin}/form-integrations/v1/submissions/forms/${formId}?after=${next}`,
              },
            },
          }
        : {}),
    });
  });

  // ---- Events API (custom behavioural events; Enterprise) ------------------------------------------------------
  const noCustomEvents = (c: Ctx) =>
    c.json(
      hubspotError(
        'This portal has no custom behavioral events (Marketing Hub Enterprise is required).',
        'MISSING_SCOPES',
      ),
      403,
    );
  app.get('/events/v3/events/event-types', (c) => {
    if (!portal.customEvents) return noCustomEvents(c);
    const custom = [...new Set(portal.behaviouralEvents.map((e) => e.eventType))].sort();
    return c.json({ eventTypes: ['e_visited_page', 'e_submitted_form', ...custom] });
  });
  const listEvents = (c: Ctx) => {
    if (!portal.customEvents) return noCustomEvents(c);
    const objectType = c.req.query('objectType');
    if (objectType !== undefined && objectType !== 'contact' && objectType !== '0-1') return c.json({ results: [] });
    const eventType = c.req.query('eventType');
    const objectId = c.req.query('objectId');
    const after =
      c.req.query('occurredAfter') === undefined ? -Infinity : Date.parse(String(c.req.query('occurredAfter')));
    const before =
      c.req.query('occurredBefore') === undefined ? Infinity : Date.parse(String(c.req.query('occurredBefore')));
    if (Number.isNaN(after) || Number.isNaN(before))
      return validation(c, 'occurredAfter and occurredBefore must be ISO-8601 date-times');
    // The real API names one sort field and nothing else: `ASCENDING`, `DESCENDING` or a second field is a 400
    // (HubSpot/hubspot-api-python#333). `-occurredAt` for newest first is an assumption; newest first is the default.
    const sorts = c.req.queries('sort') ?? [];
    if (sorts.length > 1 || sorts.some((v) => v !== 'occurredAt' && v !== '-occurredAt'))
      return validation(c, "Only a single sort field 'occurredAt' is supported");
    const ascending = sorts[0] === 'occurredAt';
    const limit = Math.min(Math.max(1, intParam(c.req.query('limit'), 100)), limits.eventsPageSize);
    const from = decodeOffset(c.req.query('after'));
    if (from === undefined) return validation(c, 'invalid after');
    const matching = portal.behaviouralEvents.filter(
      (e) =>
        (!eventType || e.eventType === eventType) &&
        (!objectId || e.objectId === objectId) &&
        e.occurredAt > after &&
        e.occurredAt < before,
    );
    if (!ascending) matching.reverse();
    const page = matching.slice(from, from + limit);
    const next = from + limit < matching.length ? encodeOffset(from + limit) : undefined;
    return c.json({
      results: page.map((e) => ({
        id: e.id,
        eventType: e.eventType,
        objectType: e.objectType,
        objectId: e.objectId,
        occurredAt: new Date(e.occurredAt).toISOString(),
        properties: e.properties,
      })),
      ...(next
        ? { paging: { next: { after: next, link: `${new URL(c.req.url).origin}/events/v3/events/?after=${next}` } } }
        : {}),
    });
  };
  app.get('/events/v3/events', listEvents);
  app.get('/events/v3/events/', listEvents);

  // ---- Lists v3 -----------------------------------------------------------------------------------------------
  const renderList = (list: StoredList) => ({
    listId: list.listId,
    listVersion: 1,
    name: list.name,
    objectTypeId: list.objectTypeId,
    processingType: list.processingType,
    processingStatus: 'COMPLETE',
    createdAt: new Date(list.createdAt).toISOString(),
    updatedAt: new Date(list.updatedAt).toISOString(),
    size: list.members.size,
  });

  const createList = async (c: Ctx) => {
    const body = (await c.req.json().catch(() => ({}))) as {
      name?: string;
      objectTypeId?: string;
      processingType?: string;
    };
    if (!body.name || !body.objectTypeId || !body.processingType)
      return validation(c, 'name, objectTypeId and processingType are required');
    if (!['MANUAL', 'SNAPSHOT', 'DYNAMIC'].includes(body.processingType))
      return validation(c, `Unknown processingType ${body.processingType}`);
    for (const list of portal.lists.values()) {
      if (list.name === body.name && list.objectTypeId === body.objectTypeId)
        return validation(c, `A list named '${body.name}' already exists.`);
    }
    const at = now();
    const list: StoredList = {
      listId: portal.newListId(),
      name: body.name,
      objectTypeId: body.objectTypeId,
      processingType: body.processingType,
      createdAt: at,
      updatedAt: at,
      members: new Map(),
    };
    portal.lists.set(list.listId, list);
    options.onWrite?.();
    return c.json({ list: renderList(list) });
  };
  app.post('/crm/v3/lists', createList);
  app.post('/crm/v3/lists/', createList);

  app.get('/crm/v3/lists/object-type-id/:objectTypeId/name/:name', (c) => {
    const name = decodeURIComponent(c.req.param('name'));
    for (const list of portal.lists.values()) {
      if (list.name === name && list.objectTypeId === c.req.param('objectTypeId'))
        return c.json({ list: renderList(list) });
    }
    return notFound(c, `List does not exist with name ${name}.`);
  });

  app.get('/crm/v3/lists/:listId', (c) => {
    const list = portal.lists.get(c.req.param('listId'));
    return list
      ? c.json({ list: renderList(list) })
      : notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
  });

  app.delete('/crm/v3/lists/:listId', (c) => {
    if (!portal.lists.delete(c.req.param('listId')))
      return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    options.onWrite?.();
    return c.body(null, 204);
  });

  const changeMembers = (c: Ctx, list: StoredList, add: string[], remove: string[]) => {
    if (add.length + remove.length > limits.membershipIdsPerCall) {
      return validation(
        c,
        `At most ${limits.membershipIdsPerCall} record ids can be changed in one call; got ${add.length + remove.length}.`,
      );
    }
    if (list.processingType !== 'MANUAL' && list.processingType !== 'SNAPSHOT') {
      return validation(
        c,
        `List ${list.listId} has processing type ${list.processingType}; memberships can only be changed on MANUAL or SNAPSHOT lists.`,
      );
    }
    const added: string[] = [];
    const removed: string[] = [];
    const missing: string[] = [];
    const at = now();
    for (const raw of add) {
      const contact = portal.liveContact(String(raw));
      if (!contact) {
        missing.push(String(raw));
        continue;
      }
      if (!list.members.has(contact.id)) {
        list.members.set(contact.id, at);
        added.push(contact.id);
      }
    }
    for (const raw of remove) {
      const id = portal.mergedInto.get(String(raw)) ?? String(raw);
      if (list.members.delete(id)) removed.push(id);
      else if (!portal.liveContact(id)) missing.push(String(raw));
    }
    list.updatedAt = at;
    options.onWrite?.();
    return c.json({ recordsIdsAdded: added, recordIdsRemoved: removed, recordIdsMissing: missing });
  };

  const listOr404 = (c: Ctx) => portal.lists.get(c.req.param('listId') ?? '');

  app.put('/crm/v3/lists/:listId/memberships/add-and-remove', async (c) => {
    const list = listOr404(c);
    if (!list) return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    const body = (await c.req.json().catch(() => ({}))) as { recordIdsToAdd?: string[]; recordIdsToRemove?: string[] };
    return changeMembers(c, list, body.recordIdsToAdd ?? [], body.recordIdsToRemove ?? []);
  });
  app.put('/crm/v3/lists/:listId/memberships/add', async (c) => {
    const list = listOr404(c);
    if (!list) return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    return changeMembers(c, list, ((await c.req.json().catch(() => [])) as string[]) ?? [], []);
  });
  app.put('/crm/v3/lists/:listId/memberships/remove', async (c) => {
    const list = listOr404(c);
    if (!list) return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    return changeMembers(c, list, [], ((await c.req.json().catch(() => [])) as string[]) ?? []);
  });

  app.get('/crm/v3/lists/:listId/memberships', (c) => {
    const list = listOr404(c);
    if (!list) return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    const limit = intParam(c.req.query('limit'), 100);
    if (limit > limits.membershipPageSize || limit < 1)
      return validation(c, `limit must be between 1 and ${limits.membershipPageSize}`);
    const ids = [...list.members.keys()].sort((a, b) => Number(a) - Number(b));
    const after = c.req.query('after');
    const start = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
    const page = ids.slice(start, start + limit);
    const next = start + page.length;
    return c.json({
      total: ids.length,
      results: page.map((recordId) => ({
        recordId,
        membershipTimestamp: new Date(list.members.get(recordId) ?? 0).toISOString(),
      })),
      ...(next < ids.length ? { paging: { next: { after: Buffer.from(String(next)).toString('base64url') } } } : {}),
    });
  });

  // The v1 contact-lists API is gone.
  app.all('/contacts/v1/*', (c) =>
    c.json(hubspotError('This API has been sunset. Use the Lists v3 API.', 'OBJECT_NOT_FOUND'), 404),
  );

  // ---- properties -----------------------------------------------------------------------------------------------
  const renderProperty = (p: {
    name: string;
    label: string;
    type: string;
    fieldType: string;
    groupName: string;
    createdAt: number;
  }) => ({
    name: p.name,
    label: p.label,
    type: p.type,
    fieldType: p.fieldType,
    groupName: p.groupName,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.createdAt).toISOString(),
    archived: false,
    hasUniqueValue: false,
    hidden: false,
    formField: true,
    description: '',
    displayOrder: -1,
    options: [],
    modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
  });
  app.get('/crm/v3/properties/contacts', (c) =>
    c.json({ results: [...portal.properties.values()].map(renderProperty) }),
  );
  app.get('/crm/v3/properties/contacts/:name', (c) => {
    const property = portal.properties.get(c.req.param('name'));
    return property ? c.json(renderProperty(property)) : notFound(c, `Unable to find property ${c.req.param('name')}`);
  });
  app.post('/crm/v3/properties/contacts', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as {
      name?: string;
      label?: string;
      type?: string;
      fieldType?: string;
      groupName?: string;
    };
    if (!body.name || !body.label || !body.type || !body.fieldType || !body.groupName)
      return validation(c, 'name, label, type, fieldType and groupName are required');
    if (portal.properties.has(body.name)) {
      return c.json(hubspotError(`Property named '${body.name}' already exists.`, 'OBJECT_ALREADY_EXISTS'), 409);
    }
    const property = {
      name: body.name,
      label: body.label,
      type: body.type,
      fieldType: body.fieldType,
      groupName: body.groupName,
      createdAt: now(),
    };
    portal.properties.set(body.name, property);
    options.onWrite?.();
    return c.json(renderProperty(property), 201);
  });

  app.notFound((c) => c.json(hubspotError(`No route for ${c.req.method} ${c.req.path}`, 'OBJECT_NOT_FOUND'), 404));
  app.onError((error, c) => c.json(hubspotError(`Internal error: ${error.message}`, 'INTERNAL_ERROR'), 500));
  return app;
}

interface SearchFilter {
  propertyName?: string;
  operator?: string;
  value?: string | number;
  values?: (string | number)[];
}
interface SearchBody {
  filterGroups?: { filters?: SearchFilter[] }[];
  sorts?: { propertyName?: string; direction?: string }[];
  properties?: string[];
  limit?: number;
  after?: string | number;
}
interface BatchInput {
  id?: string | number;
  idProperty?: string;
  properties?: Record<string, string | null>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function invalidEmail(email: string): string {
  return `Property values were not valid: [{"isValid":false,"message":"Email address ${email} is invalid","error":"INVALID_EMAIL","name":"email"}]`;
}

function missingProperty(name: string): string {
  return `Property values were not valid: [{"isValid":false,"message":"Property \\"${name}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${name}"}]`;
}
const DATE_PROPERTIES = new Set([
  'lastmodifieddate',
  'hs_lastmodifieddate',
  'createdate',
  'hs_createdate',
  'closedate',
  'hs_timestamp',
]);

/** A property value as search compares it: dates as epoch ms, numbers as numbers, the rest as strings. */
function comparable(record: StoredObject, name: string): number | string | null {
  if (name === 'hs_object_id') return Number(record.id);
  if (name === 'lastmodifieddate' || name === 'hs_lastmodifieddate') return record.updatedAt;
  const value = record.properties[name];
  if (value === null || value === undefined) return null;
  if (DATE_PROPERTIES.has(name)) return Date.parse(value);
  const n = Number(value);
  return value !== '' && Number.isFinite(n) ? n : value.toLowerCase();
}

function filterValue(name: string, value: string | number | undefined): number | string | null {
  if (value === undefined) return null;
  if (typeof value === 'number') return value;
  const n = Number(value);
  if (value !== '' && Number.isFinite(n)) return n;
  if (DATE_PROPERTIES.has(name)) return Date.parse(value);
  return value.toLowerCase();
}

function matches(record: StoredObject, filter: SearchFilter): boolean {
  const name = filter.propertyName ?? '';
  const actual = comparable(record, name);
  const wanted = filterValue(name, filter.value);
  switch (filter.operator) {
    case 'EQ':
      return actual === wanted;
    case 'NEQ':
      return actual !== wanted;
    case 'GT':
      return actual !== null && wanted !== null && actual > wanted;
    case 'GTE':
      return actual !== null && wanted !== null && actual >= wanted;
    case 'LT':
      return actual !== null && wanted !== null && actual < wanted;
    case 'LTE':
      return actual !== null && wanted !== null && actual <= wanted;
    case 'HAS_PROPERTY':
      return actual !== null;
    case 'NOT_HAS_PROPERTY':
      return actual === null;
    case 'IN':
      return (filter.values ?? []).some((v) => filterValue(name, v) === actual);
    default:
      return false;
  }
}

function comparator(sorts: { propertyName?: string; direction?: string }[]) {
  return (a: StoredObject, b: StoredObject): number => {
    for (const sort of sorts) {
      const x = comparable(a, sort.propertyName ?? '');
      const y = comparable(b, sort.propertyName ?? '');
      if (x === y) continue;
      const order = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return sort.direction === 'DESCENDING' ? -order : order;
    }
    return tieOrder(a.id) - tieOrder(b.id);
  };
}

function render(record: StoredObject, names: string[], type: string) {
  const system =
    type === 'contacts'
      ? ['hs_object_id', 'createdate', 'lastmodifieddate']
      : ['hs_object_id', 'hs_createdate', 'hs_lastmodifieddate'];
  const wanted =
    names.length > 0
      ? [...new Set([...names, ...system])]
      : type === 'contacts'
        ? [...system, 'email', 'firstname', 'lastname']
        : system;
  const properties: Record<string, string | null> = {};
  for (const name of wanted) {
    properties[name] =
      name === 'hs_createdate'
        ? new Date(record.createdAt).toISOString()
        : name === 'hs_lastmodifieddate'
          ? new Date(record.updatedAt).toISOString()
          : (record.properties[name] ?? null);
  }
  return {
    id: record.id,
    properties,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archived,
    ...(record.archived && record.archivedAt !== undefined
      ? { archivedAt: new Date(record.archivedAt).toISOString() }
      : {}),
  };
}

/** HubSpot's error body. */
function association(id: string, typeId: number) {
  return { toObjectId: Number(id), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId, label: null }] };
}

export function hubspotError(message: string, category: string) {
  return { status: 'error', message, correlationId: randomUUID(), category };
}

function validation(c: Ctx, message: string) {
  return c.json(hubspotError(message, 'VALIDATION_ERROR'), 400);
}

function notFound(c: Ctx, message: string) {
  return c.json(hubspotError(message, 'OBJECT_NOT_FOUND'), 404);
}

function intParam(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isInteger(n) ? n : fallback;
}

function lowerBound(rows: StoredObject[], id: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number((rows[mid] as StoredObject).id) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstAtOrAfter(count: number, createdAt: (i: number) => number, start: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (createdAt(mid) < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeOffset(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

/** The offset an `after` token carries; 0 without one, undefined when it is not ours. */
function decodeOffset(token: string | undefined): number | undefined {
  if (!token) return 0;
  const n = Number(Buffer.from(token, 'base64url').toString());
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
