/**
 * sObject Collections: create, update and delete up to collectionSize records a call, answered with per-row results.
 */
import type { Context, Hono } from 'hono';
import { ApiError, type Row } from '../org.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's REST API (under `/services/data`).
 *
 * @example
 * collectionRoutes(api, { org, limiter });
 */
export function collectionRoutes(api: Hono, { org }: RouteOptions): void {
  const collection = (records: unknown): Row[] => {
    if (!Array.isArray(records)) throw new ApiError(400, 'JSON_PARSER_ERROR', 'records: expected an array');
    if (records.length > org.limits.collectionSize) {
      throw new ApiError(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${org.limits.collectionSize} records into this call`,
      );
    }
    return records as Row[];
  };
  const body = async (c: Context): Promise<{ allOrNone?: boolean; records?: unknown }> => {
    try {
      return (await c.req.json()) as { allOrNone?: boolean; records?: unknown };
    } catch {
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    }
  };
  api.post('/:version/composite/sobjects', async (c) => {
    const input = await body(c);
    const records = collection(input.records);
    if (input.allOrNone) throw new ApiError(400, 'INVALID_OPERATION', 'allOrNone is not supported by this sandbox');
    return c.json(org.create(records));
  });
  api.patch('/:version/composite/sobjects', async (c) => {
    const input = await body(c);
    const records = collection(input.records);
    if (input.allOrNone) throw new ApiError(400, 'INVALID_OPERATION', 'allOrNone is not supported by this sandbox');
    return c.json(org.update(records));
  });
  api.delete('/:version/composite/sobjects', (c) => {
    const ids = (c.req.query('ids') ?? '').split(',').filter((id) => id !== '');
    if (ids.length === 0) throw new ApiError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
    collection(ids);
    if (c.req.query('allOrNone') === 'true')
      throw new ApiError(400, 'INVALID_OPERATION', 'allOrNone is not supported by this sandbox');
    return c.json(org.destroy(ids));
  });
}
