/**
 * The sandbox's HTTP surface: a hono app answering Mailchimp Marketing API 3.0 paths with Mailchimp's payloads,
 * offset paging (count up to 1000), `since_last_changed` (strictly after), batch subscribe with per-row errors in a
 * 200, static segments (500 emails per side, Mailchimp's 400 beyond), member tags (204), campaign reports, Basic
 * auth with the data-centre suffix, problem+json errors and the permanent-delete rule. Traffic rules come from the
 * kit (traffic.ts), mounted in the kit's order, before the key check and the route modules in routes/.
 */
import { Hono } from 'hono';
import type { MailchimpAccount } from './account.js';
import { apiKeyOf, problem } from './answers.js';
import type { MailchimpLimits } from './limits.js';
import { ecommerceRoutes } from './routes/ecommerce.js';
import { listRoutes } from './routes/lists.js';
import { memberRoutes } from './routes/members.js';
import type { RouteOptions } from './routes/options.js';
import { reportRoutes } from './routes/reports.js';
import { segmentRoutes } from './routes/segments.js';
import type { MailchimpTraffic } from './traffic.js';

/**
 * What {@link createApp} is built from.
 *
 * @example
 * createApp(account, { apiKeys: [key], dataCenter: 'us21', limits, traffic: mailchimpTraffic({ limits, seed: 1 }) });
 */
export interface AppOptions {
  /** API keys the account accepts, `<key>-<dc>`. */
  apiKeys: string[];
  /** The data centre the sandbox plays (`us21`): keys for another one are refused, as Mailchimp does. */
  dataCenter: string;
  limits: MailchimpLimits;
  traffic: MailchimpTraffic;
}

/**
 * Builds the app. `startSandbox` serves it; tests may call `app.request()` directly.
 *
 * @example
 * const app = createApp(account, options);
 * await app.request('/3.0/ping', { headers: { authorization: `Basic ${btoa(`any:${key}`)}` } });
 */
export function createApp(account: MailchimpAccount, options: AppOptions): Hono {
  const { traffic } = options;
  const app = new Hono();
  app.use('*', traffic.recorder);
  app.use('/3.0/*', traffic.connections);
  app.use('/3.0/*', traffic.latency);
  app.use('/3.0/*', async (c, next) => {
    const key = apiKeyOf(c.req.header('authorization'));
    if (key === undefined) return problem(c, 401, 'API Key Missing', 'Your request did not include an API key.');
    if (!options.apiKeys.includes(key)) {
      return problem(
        c,
        401,
        'API Key Invalid',
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
      );
    }
    await next();
    return undefined;
  });
  app.use('/3.0/*', traffic.faults);

  app.notFound((c) => problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.'));
  app.onError((error, c) => problem(c, 500, 'Internal Server Error', error.message));

  const routes: RouteOptions = { account, limits: options.limits, written: () => account.save() };
  listRoutes(app, routes);
  memberRoutes(app, routes);
  segmentRoutes(app, routes);
  reportRoutes(app, routes);
  ecommerceRoutes(app, routes);
  return app;
}
