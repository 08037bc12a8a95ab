/**
 * What every route module of the Salesforce sandbox is given: the org it answers from, and the kit's limiter that
 * keeps the daily request allocation.
 */
import type { RateLimiter } from '../../../../plugins/sandbox/index.js';
import type { Org } from '../org.js';

/**
 * The org and its daily limiter, as a route module gets them.
 *
 * @example
 * queryRoutes(api, { org, limiter });
 */
export interface RouteOptions {
  org: Org;
  limiter: RateLimiter;
}
