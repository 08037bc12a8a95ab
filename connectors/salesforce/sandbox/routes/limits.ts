/**
 * The limits resource: the daily API request allocation and what is left of it today.
 */
import type { Hono } from 'hono';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's REST API (under `/services/data`).
 *
 * @example
 * limitRoutes(api, { org, limiter });
 */
export function limitRoutes(api: Hono, { org, limiter }: RouteOptions): void {
  api.get('/:version/limits', (c) =>
    c.json({
      DailyApiRequests: {
        Max: org.limits.dailyRequests,
        Remaining: Math.max(0, org.limits.dailyRequests - limiter.counts().dailyUsed),
      },
    }),
  );
}
