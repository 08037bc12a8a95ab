/**
 * The sandbox's HTTP surface: a hono app answering Salesforce's real paths with its payloads — the OAuth token
 * endpoint (password and JWT bearer grants), query / queryAll with `nextRecordsUrl` paging, sObject collections
 * (200 records at most, per-row error arrays), single records, updated / deleted, limits — with Bearer auth and
 * `[{message, errorCode}]` error bodies. Traffic rules come from the kit (traffic.ts), mounted in the kit's order
 * before the session check and the route modules in routes/.
 */
import { Hono } from 'hono';
import { errorResponse } from './answers.js';
import { ApiError, type Org } from './org.js';
import { collectionRoutes } from './routes/collections.js';
import { limitRoutes } from './routes/limits.js';
import { oauthRoutes, sessionAuth, type OrgCredentials } from './routes/oauth.js';
import type { RouteOptions } from './routes/options.js';
import { queryRoutes } from './routes/query.js';
import { recordRoutes } from './routes/records.js';
import { replicationRoutes } from './routes/replication.js';
import type { SalesforceTraffic } from './traffic.js';

/**
 * What {@link createApp} is built from.
 *
 * @example
 * createApp({ org, credentials, sessions, traffic: salesforceTraffic({ limits: org.limits, sessions, now, seed }), baseUrl: () => url });
 */
export interface AppOptions {
  org: Org;
  credentials: OrgCredentials;
  /** The open sessions (the configured access token, and every token the token endpoint issued since). */
  sessions: Set<string>;
  traffic: SalesforceTraffic;
  /** The sandbox's URL, the instance URL the token endpoint answers with. */
  baseUrl: () => string;
}

/**
 * Builds the app. `startSandbox` serves it; tests may call `app.request()` directly.
 *
 * @example
 * const app = createApp(options);
 * await app.request('/services/data/v62.0/limits', { headers: { authorization: `Bearer ${token}` } });
 */
export function createApp(options: AppOptions): Hono {
  const { org, traffic, sessions } = options;
  const app = new Hono();
  app.use('*', traffic.recorder);
  // Salesforce: URI and headers together at most 16,384 bytes; 414 when the URI alone passes it, else 431.
  app.use('*', async (c, next) => {
    const uri = new URL(c.req.url);
    const length = uri.pathname.length + uri.search.length;
    let size = length;
    c.req.raw.headers.forEach((value, name) => {
      size += name.length + value.length + 4;
    });
    if (size > org.limits.requestBytes) return c.body('', length > org.limits.requestBytes ? 414 : 431);
    await next();
    return undefined;
  });
  oauthRoutes(app, org, options.credentials, sessions, options.baseUrl);

  const api = new Hono();
  api.use('*', traffic.faults);
  api.use('*', traffic.limiter);
  api.use('*', sessionAuth(sessions));
  const routes: RouteOptions = { org, limiter: traffic.limiter };
  queryRoutes(api, routes);
  collectionRoutes(api, routes);
  replicationRoutes(api, routes);
  recordRoutes(api, routes);
  limitRoutes(api, routes);
  api.notFound((c) => errorResponse(c, new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')));

  app.route('/services/data', api);
  app.notFound((c) => errorResponse(c, new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    return errorResponse(
      c,
      new ApiError(
        500,
        'UNKNOWN_EXCEPTION',
        'An unexpected error occurred. Please include this ErrorId if you contact support',
      ),
    );
  });
  return app;
}
