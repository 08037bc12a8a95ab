/**
 * SOQL queries: `query` and `queryAll` (deleted rows too, with IsDeleted) with `nextRecordsUrl` paging and the `Sforce-Query-Options` batch size.
 */
import type { Context, Hono } from 'hono';
import { ApiError, type Org } from '../org.js';
import { renderRows, version } from '../answers.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's REST API (under `/services/data`).
 *
 * @example
 * queryRoutes(api, { org, limiter });
 */
export function queryRoutes(api: Hono, { org }: RouteOptions): void {
  const answer = (c: Context, includeDeleted: boolean, page: ReturnType<Org['queryMore']>) =>
    c.json({
      totalSize: page.totalSize,
      done: page.done,
      ...(page.locator
        ? { nextRecordsUrl: `/services/data/${version(c)}/${includeDeleted ? 'queryAll' : 'query'}/${page.locator}` }
        : {}),
      records: renderRows(c, page.records),
    });
  const runQuery = (includeDeleted: boolean) => (c: Context) => {
    const q = c.req.query('q');
    if (!q) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    const batch = /batchSize=(\d+)/.exec(c.req.header('sforce-query-options') ?? '')?.[1];
    return answer(c, includeDeleted, org.query(q, includeDeleted, batch === undefined ? undefined : Number(batch)));
  };
  const more = (includeDeleted: boolean) => (c: Context) =>
    answer(c, includeDeleted, org.queryMore(c.req.param('locator') ?? ''));
  api.get('/:version/query', runQuery(false));
  api.get('/:version/queryAll', runQuery(true));
  api.get('/:version/query/:locator', more(false));
  api.get('/:version/queryAll/:locator', more(true));
}
