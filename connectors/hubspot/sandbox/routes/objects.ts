/**
 * CRM objects: list, read one, and search (one sort rule per query, HubSpot's 10,000-result cap).
 */
import type { Hono } from 'hono';
import { ASSOCIATED_TYPES, type AssociatedType, type StoredObject } from '../portal.js';
import { intParam, lowerBound, notFound, validation } from '../answers.js';
import { comparator, matches, renderObject, type SearchBody } from '../search.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * objectRoutes(app, { portal, limits, now, written });
 */
export function objectRoutes(app: Hono, { portal, limits }: RouteOptions): void {
  const objectTypes = new Set<string>(['contacts', ...ASSOCIATED_TYPES]);
  const recordsOf = (type: string) => portal.byId(type as 'contacts' | AssociatedType);

  app.get('/crm/v3/objects/:type', (c) => {
    const type = c.req.param('type');
    if (!objectTypes.has(type)) return notFound(c, `Unable to infer object type from: ${type}`);
    const limit = intParam(c.req.query('limit'), 10);
    if (limit > limits.pageSize || limit < 1) return validation(c, `limit must be between 1 and ${limits.pageSize}`);
    const archived = c.req.query('archived') === 'true';
    const names = c.req.queries('properties') ?? [];
    const after = c.req.query('after');
    const rows = recordsOf(type);
    const start = after === undefined ? 0 : lowerBound(rows, Number(after));
    const results: StoredObject[] = [];
    let i = start;
    for (; i < rows.length && results.length < limit; i++) {
      const row = rows[i] as StoredObject;
      if (row.archived === archived) results.push(row);
    }
    while (i < rows.length && (rows[i] as StoredObject).archived !== archived) i++;
    const next = i < rows.length ? (rows[i] as StoredObject).id : undefined;
    return c.json({
      results: results.map((r) => renderObject(r, names, type)),
      ...(next === undefined ? {} : { paging: { next: { after: next, link: `${c.req.path}?after=${next}` } } }),
    });
  });

  app.get('/crm/v3/objects/:type/:id', (c) => {
    const type = c.req.param('type');
    const id = c.req.param('id');
    if (!objectTypes.has(type)) return notFound(c, `Unable to infer object type from: ${type}`);
    const store = type === 'contacts' ? portal.contacts : portal.engagements[type as AssociatedType];
    const record = store.get(type === 'contacts' ? (portal.mergedInto.get(id) ?? id) : id);
    if (!record || record.archived !== (c.req.query('archived') === 'true'))
      return notFound(c, 'Object not found.  objectId are usually numeric.');
    return c.json(renderObject(record, c.req.queries('properties') ?? [], type));
  });

  app.post('/crm/v3/objects/:type/search', async (c) => {
    const type = c.req.param('type');
    if (!objectTypes.has(type)) return notFound(c, `Unable to infer object type from: ${type}`);
    const body = (await c.req.json().catch(() => ({}))) as SearchBody;
    const limit = body.limit ?? 10;
    if (limit > limits.searchPageSize || limit < 1)
      return validation(c, `limit must be between 1 and ${limits.searchPageSize}`);
    const after = Number(body.after ?? 0);
    if (!Number.isInteger(after) || after < 0) return validation(c, 'after must be a non-negative integer');
    if (after >= limits.searchResultCap) {
      return validation(
        c,
        `There was a problem with the request. Paging past ${limits.searchResultCap} results is not supported.`,
      );
    }
    const groups = body.filterGroups ?? [];
    const sorts = body.sorts ?? [];
    const modifiedName = type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
    // "Only one sorting rule can be applied to any search": a second sort is not applied, and records the first
    // sort ties come in no promised order (here a scramble of their ids, never the id order a client might expect).
    const sort = sorts.slice(0, 1);
    const plain =
      sort.length === 0 ||
      (sort[0]?.propertyName === modifiedName && (sort[0].direction ?? 'ASCENDING') === 'ASCENDING');
    let rows = (plain && sort.length > 0 ? portal.byModified(type as 'contacts') : recordsOf(type)).filter(
      (r) => !r.archived && (groups.length === 0 || groups.some((g) => (g.filters ?? []).every((f) => matches(r, f)))),
    );
    if (!plain) rows = [...rows].sort(comparator(sort));
    const page = rows.slice(after, Math.min(after + limit, limits.searchResultCap));
    const nextAfter = after + page.length;
    return c.json({
      total: rows.length,
      results: page.map((r) => renderObject(r, body.properties ?? [], type)),
      ...(nextAfter < rows.length && nextAfter < limits.searchResultCap + 1 && page.length > 0
        ? { paging: { next: { after: String(nextAfter) } } }
        : {}),
    });
  });
}
