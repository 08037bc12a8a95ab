/**
 * Salesforce's answers every route shares: the `[{ message, errorCode }]` error body, and rows rendered with their
 * `attributes` (type and URL).
 */
import type { Context } from 'hono';
import type { ApiError, Row } from './org.js';

/**
 * The API version of the request (`v62.0`), from its `:version` path parameter.
 *
 * @example
 * `/services/data/${version(c)}/query/${locator}`;
 */
export function version(c: Context): string {
  return c.req.param('version') ?? '';
}

/**
 * Salesforce's error body: an array of `{ message, errorCode }`.
 *
 * @example
 * return errorResponse(c, new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid'));
 */
export function errorResponse(c: Context, error: ApiError): Response {
  return c.json([{ message: error.message, errorCode: error.errorCode }], error.status as 400);
}

/**
 * Rows as the REST API answers them, each with its `attributes`.
 *
 * @example
 * c.json(renderRows(c, page.records));
 */
export function renderRows(c: Context, rows: Row[]): Record<string, unknown>[] {
  return rows.map((row) => {
    const { __type, ...fields } = row;
    return {
      attributes: {
        type: __type,
        url: `/services/data/${version(c)}/sobjects/${String(__type)}/${String(fields.Id ?? '')}`,
      },
      ...fields,
    };
  });
}
