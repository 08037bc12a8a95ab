/**
 * The replication resources: ids updated, and rows deleted, between two dates.
 */
import type { Context, Hono } from 'hono';
import { ApiError, SCHEMA } from '../org.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's REST API (under `/services/data`).
 *
 * @example
 * replicationRoutes(api, { org, limiter });
 */
export function replicationRoutes(api: Hono, { org }: RouteOptions): void {
  const window = (c: Context) => {
    const start = Date.parse(c.req.query('start') ?? '');
    const end = Date.parse(c.req.query('end') ?? '');
    if (Number.isNaN(start) || Number.isNaN(end))
      throw new ApiError(400, 'INVALID_REPLICATION_DATE', 'start and end must be dates');
    const type = Object.keys(SCHEMA).find((t) => t === c.req.param('type'));
    if (!type) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return { type, start, end };
  };
  api.get('/:version/sobjects/:type/updated', (c) => {
    const { type, start, end } = window(c);
    return c.json(org.updated(type, start, end));
  });
  api.get('/:version/sobjects/:type/deleted', (c) => {
    const { type, start, end } = window(c);
    return c.json(org.deleted(type, start, end));
  });
}
