/**
 * Lists v3: create, find by name, read, delete, change and page memberships (MANUAL and SNAPSHOT lists only).
 */
import type { Context, Hono } from 'hono';
import type { StoredList } from '../portal.js';
import { hubspotError, intParam, notFound, validation } from '../answers.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * listRoutes(app, { portal, limits, now, written });
 */
export function listRoutes(app: Hono, { portal, limits, now, written }: RouteOptions): void {
  const renderList = (list: StoredList) => ({
    listId: list.listId,
    listVersion: 1,
    name: list.name,
    objectTypeId: list.objectTypeId,
    processingType: list.processingType,
    processingStatus: 'COMPLETE',
    createdAt: new Date(list.createdAt).toISOString(),
    updatedAt: new Date(list.updatedAt).toISOString(),
    size: list.members.size,
  });

  const createList = async (c: Context) => {
    const body = (await c.req.json().catch(() => ({}))) as {
      name?: string;
      objectTypeId?: string;
      processingType?: string;
    };
    if (!body.name || !body.objectTypeId || !body.processingType)
      return validation(c, 'name, objectTypeId and processingType are required');
    if (!['MANUAL', 'SNAPSHOT', 'DYNAMIC'].includes(body.processingType))
      return validation(c, `Unknown processingType ${body.processingType}`);
    for (const list of portal.lists.values()) {
      if (list.name === body.name && list.objectTypeId === body.objectTypeId)
        return validation(c, `A list named '${body.name}' already exists.`);
    }
    const at = now();
    const list: StoredList = {
      listId: portal.newListId(),
      name: body.name,
      objectTypeId: body.objectTypeId,
      processingType: body.processingType,
      createdAt: at,
      updatedAt: at,
      members: new Map(),
    };
    portal.lists.set(list.listId, list);
    written();
    return c.json({ list: renderList(list) });
  };
  app.post('/crm/v3/lists', createList);
  app.post('/crm/v3/lists/', createList);

  app.get('/crm/v3/lists/object-type-id/:objectTypeId/name/:name', (c) => {
    const name = decodeURIComponent(c.req.param('name'));
    for (const list of portal.lists.values()) {
      if (list.name === name && list.objectTypeId === c.req.param('objectTypeId'))
        return c.json({ list: renderList(list) });
    }
    return notFound(c, `List does not exist with name ${name}.`);
  });

  app.get('/crm/v3/lists/:listId', (c) => {
    const list = portal.lists.get(c.req.param('listId'));
    return list
      ? c.json({ list: renderList(list) })
      : notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
  });

  app.delete('/crm/v3/lists/:listId', (c) => {
    if (!portal.lists.delete(c.req.param('listId')))
      return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    written();
    return c.body(null, 204);
  });

  const changeMembers = (c: Context, list: StoredList, add: string[], remove: string[]) => {
    if (add.length + remove.length > limits.membershipIdsPerCall) {
      return validation(
        c,
        `At most ${limits.membershipIdsPerCall} record ids can be changed in one call; got ${add.length + remove.length}.`,
      );
    }
    if (list.processingType !== 'MANUAL' && list.processingType !== 'SNAPSHOT') {
      return validation(
        c,
        `List ${list.listId} has processing type ${list.processingType}; memberships can only be changed on MANUAL or SNAPSHOT lists.`,
      );
    }
    const added: string[] = [];
    const removed: string[] = [];
    const missing: string[] = [];
    const at = now();
    // A company list (object type 0-2) holds companies; a contact list contacts, merged ids answering as the survivor.
    const companies = list.objectTypeId === '0-2';
    const live = (id: string) =>
      companies
        ? (() => {
            const company = portal.engagements.companies.get(id);
            return company && !company.archived ? company : undefined;
          })()
        : portal.liveContact(id);
    for (const raw of add) {
      const record = live(String(raw));
      if (!record) {
        missing.push(String(raw));
        continue;
      }
      if (!list.members.has(record.id)) {
        list.members.set(record.id, at);
        added.push(record.id);
      }
    }
    for (const raw of remove) {
      const id = companies ? String(raw) : (portal.mergedInto.get(String(raw)) ?? String(raw));
      if (list.members.delete(id)) removed.push(id);
      else if (!live(id)) missing.push(String(raw));
    }
    list.updatedAt = at;
    written();
    return c.json({ recordsIdsAdded: added, recordIdsRemoved: removed, recordIdsMissing: missing });
  };

  const listOr404 = (c: Context) => portal.lists.get(c.req.param('listId') ?? '');

  app.put('/crm/v3/lists/:listId/memberships/add-and-remove', async (c) => {
    const list = listOr404(c);
    if (!list) return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    const body = (await c.req.json().catch(() => ({}))) as { recordIdsToAdd?: string[]; recordIdsToRemove?: string[] };
    return changeMembers(c, list, body.recordIdsToAdd ?? [], body.recordIdsToRemove ?? []);
  });
  app.put('/crm/v3/lists/:listId/memberships/add', async (c) => {
    const list = listOr404(c);
    if (!list) return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    return changeMembers(c, list, ((await c.req.json().catch(() => [])) as string[]) ?? [], []);
  });
  app.put('/crm/v3/lists/:listId/memberships/remove', async (c) => {
    const list = listOr404(c);
    if (!list) return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    return changeMembers(c, list, [], ((await c.req.json().catch(() => [])) as string[]) ?? []);
  });

  app.get('/crm/v3/lists/:listId/memberships', (c) => {
    const list = listOr404(c);
    if (!list) return notFound(c, `List does not exist with id ${c.req.param('listId')}.`);
    const limit = intParam(c.req.query('limit'), 100);
    if (limit > limits.membershipPageSize || limit < 1)
      return validation(c, `limit must be between 1 and ${limits.membershipPageSize}`);
    const ids = [...list.members.keys()].sort((a, b) => Number(a) - Number(b));
    const after = c.req.query('after');
    const start = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
    const page = ids.slice(start, start + limit);
    const next = start + page.length;
    return c.json({
      total: ids.length,
      results: page.map((recordId) => ({
        recordId,
        membershipTimestamp: new Date(list.members.get(recordId) ?? 0).toISOString(),
      })),
      ...(next < ids.length ? { paging: { next: { after: Buffer.from(String(next)).toString('base64url') } } } : {}),
    });
  });

  // The v1 contact-lists API is gone.
  app.all('/contacts/v1/*', (c) =>
    c.json(hubspotError('This API has been sunset. Use the Lists v3 API.', 'OBJECT_NOT_FOUND'), 404),
  );
}
