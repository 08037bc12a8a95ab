/**
 * The sandbox's HTTP surface: a hono app answering HubSpot's real paths with HubSpot's payloads, paging, batch caps,
 * Bearer auth and error bodies. Traffic rules come from the kit (see traffic.ts), mounted in the kit's order —
 * recorder, latency, faults, limiters — before the Bearer check and the route modules in routes/.
 */
import { Hono } from 'hono';
import { hubspotError } from './answers.js';
import type { HubSpotLimits } from './limits.js';
import type { Portal } from './portal.js';
import { associationRoutes } from './routes/associations.js';
import { contactRoutes } from './routes/contacts.js';
import { emailEventRoutes } from './routes/email-events.js';
import { eventRoutes } from './routes/events.js';
import { formRoutes } from './routes/forms.js';
import { listRoutes } from './routes/lists.js';
import { bearerAuth, oauthRoutes, TOKEN_PATH, type Credentials, type OAuthTokens } from './routes/oauth.js';
import { objectRoutes } from './routes/objects.js';
import type { RouteOptions } from './routes/options.js';
import { propertyRoutes } from './routes/properties.js';
import type { HubSpotTraffic } from './traffic.js';

/**
 * What {@link createHubSpotApp} is built from.
 *
 * @example
 * createHubSpotApp({ portal, limits, credentials, tokens, traffic: hubspotTraffic({ limits, tokens, now, seed }), now });
 */
export interface AppOptions {
  portal: Portal;
  limits: HubSpotLimits;
  credentials: Credentials;
  tokens: OAuthTokens;
  traffic: HubSpotTraffic;
  now: () => number;
  /** Called after each change to the portal (persists it when the sandbox has a state file). */
  written?: () => void;
}

/**
 * Builds the app. `startSandbox` serves it; tests may call `app.request()` directly.
 *
 * @example
 * const app = createHubSpotApp(options);
 * const res = await app.request('/crm/v3/objects/contacts?limit=1', { headers: { authorization: 'Bearer pat' } });
 */
export function createHubSpotApp(options: AppOptions): Hono {
  const { traffic } = options;
  const app = new Hono();
  app.use('*', traffic.recorder);
  app.use('*', traffic.latency);
  app.use('*', (c, next) => (c.req.path === TOKEN_PATH ? next() : traffic.faults(c, next)));
  app.use('*', traffic.limiter);
  app.use('*', traffic.searchLimiter);
  app.use('*', bearerAuth(options.credentials, options.tokens, options.now));

  oauthRoutes(app, options.credentials, options.tokens);
  const routes: RouteOptions = {
    portal: options.portal,
    limits: options.limits,
    now: options.now,
    written: options.written ?? (() => {}),
  };
  objectRoutes(app, routes);
  contactRoutes(app, routes);
  associationRoutes(app, routes);
  emailEventRoutes(app, routes);
  formRoutes(app, routes);
  eventRoutes(app, routes);
  listRoutes(app, routes);
  propertyRoutes(app, routes);

  app.notFound((c) => c.json(hubspotError(`No route for ${c.req.method} ${c.req.path}`, 'OBJECT_NOT_FOUND'), 404));
  app.onError((error, c) => c.json(hubspotError(`Internal error: ${error.message}`, 'INTERNAL_ERROR'), 500));
  return app;
}
