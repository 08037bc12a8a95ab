/**
 * One record: the sObject rows resource that jsforce `sobject().create/retrieve/update/destroy` uses.
 */
import type { Context, Hono } from 'hono';
import { ApiError, SCHEMA, type Row, type SaveResult } from '../org.js';
import { renderRows } from '../answers.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's REST API (under `/services/data`).
 *
 * @example
 * recordRoutes(api, { org, limiter });
 */
export function recordRoutes(api: Hono, { org }: RouteOptions): void {
  const single = (result: SaveResult, status: 200 | 201 | 204) => (c: Context) => {
    if (result.success) return status === 204 ? c.body(null, 204) : c.json(result, status);
    const [error] = result.errors;
    const code = error?.statusCode ?? 'UNKNOWN_EXCEPTION';
    return c.json(
      [{ message: error?.message ?? 'failed', errorCode: code, fields: error?.fields ?? [] }],
      code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED' ? 404 : 400,
    );
  };
  const sobjectType = (c: Context) => {
    const type = Object.keys(SCHEMA).find((t) => t === c.req.param('type'));
    if (!type) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return type;
  };
  api.post('/:version/sobjects/:type', async (c) => {
    const type = sobjectType(c);
    const fields = (await c.req.json().catch(() => undefined)) as Row | undefined;
    if (!fields || typeof fields !== 'object')
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    const [result] = org.create([{ ...fields, attributes: { type } as unknown as Row[string] }]);
    return single(result as SaveResult, 201)(c);
  });
  api.get('/:version/sobjects/:type/:id', (c) => {
    const type = sobjectType(c);
    const found = org.locate(c.req.param('id') ?? '');
    if (!found || found.type !== type || found.row.IsDeleted)
      throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return c.json(renderRows(c, [{ ...found.row, __type: type }])[0]);
  });
  api.patch('/:version/sobjects/:type/:id', async (c) => {
    const type = sobjectType(c);
    const fields = (await c.req.json().catch(() => undefined)) as Row | undefined;
    if (!fields || typeof fields !== 'object')
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    const [result] = org.update([
      { ...fields, Id: c.req.param('id') ?? '', attributes: { type } as unknown as Row[string] },
    ]);
    return single(result as SaveResult, 204)(c);
  });
  api.delete('/:version/sobjects/:type/:id', (c) => {
    sobjectType(c);
    const [result] = org.destroy([c.req.param('id') ?? '']);
    return single(result as SaveResult, 204)(c);
  });
}
