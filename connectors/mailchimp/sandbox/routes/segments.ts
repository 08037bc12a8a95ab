/**
 * Static segments: list, create, change members (at most segmentItemsPerSide emails per side, 400 beyond), read members.
 */
import type { Context, Hono } from 'hono';
import { jsonBody, paging, problem, missingList } from '../answers.js';
import { subscriberHash, type MemberStatus, type StoredMember, type StoredSegment } from '../account.js';
import { renderMember, renderSegment } from '../shapes.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * segmentRoutes(app, { account, limits, written });
 */
export function segmentRoutes(app: Hono, { account, limits, written }: RouteOptions): void {
  app.get('/3.0/lists/:list/segments', (c) => {
    const listId = c.req.param('list');
    const missing = missingList(c, account, listId);
    if (missing) return missing;
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const type = c.req.query('type');
    const all = [...account.segments.values()].filter((s) => s.listId === listId && (!type || type === 'static'));
    return c.json({
      segments: all.slice(page.offset, page.offset + page.count).map(renderSegment),
      list_id: listId,
      total_items: all.length,
    });
  });

  app.post('/3.0/lists/:list/segments', async (c) => {
    const listId = c.req.param('list');
    const missing = missingList(c, account, listId);
    if (missing) return missing;
    const body = await jsonBody(c);
    const name = typeof body?.name === 'string' ? body.name.trim() : '';
    if (!name)
      return problem(c, 400, 'Invalid Resource', 'The resource submitted could not be validated.', {
        errors: [{ field: 'name', message: 'This value should not be blank.' }],
      });
    if (account.segmentByName(listId, name))
      return problem(c, 400, 'Invalid Resource', `Sorry, a segment or tag named "${name}" already exists.`);
    const emails = Array.isArray(body?.static_segment) ? (body.static_segment as unknown[]).map(String) : [];
    if (emails.length > limits.segmentItemsPerSide)
      return problem(c, 400, 'Invalid Resource', 'Maximum allowed member items exceeded.');
    const segment = account.createSegment(listId, name);
    for (const email of emails) {
      const hash = subscriberHash(email);
      if (account.member(listId, hash)) segment.members.add(hash);
    }
    written();
    return c.json(renderSegment(segment));
  });

  const segmentOr404 = (c: Context): StoredSegment | Response => {
    const segment = account.segments.get(Number(c.req.param('seg')));
    if (!segment || segment.listId !== c.req.param('list'))
      return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    return segment;
  };

  app.get('/3.0/lists/:list/segments/:seg', (c) => {
    const segment = segmentOr404(c);
    return segment instanceof Response ? segment : c.json(renderSegment(segment));
  });

  app.post('/3.0/lists/:list/segments/:seg', async (c) => {
    const segment = segmentOr404(c);
    if (segment instanceof Response) return segment;
    const body = await jsonBody(c);
    const toAdd = Array.isArray(body?.members_to_add) ? (body.members_to_add as unknown[]).map(String) : [];
    const toRemove = Array.isArray(body?.members_to_remove) ? (body.members_to_remove as unknown[]).map(String) : [];
    const cap = limits.segmentItemsPerSide;
    if (toAdd.length > cap || toRemove.length > cap) {
      return problem(
        c,
        400,
        'Invalid Resource',
        `Maximum allowed member items exceeded. You may add or remove at most ${cap} members per request.`,
      );
    }
    const listId = segment.listId;
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const notMembers: string[] = [];
    for (const email of toAdd) {
      const member = account.member(listId, subscriberHash(email));
      if (!member) {
        notMembers.push(email);
        continue;
      }
      if (!segment.members.has(member.hash)) {
        segment.members.add(member.hash);
        added.push(renderMember(account, member));
      }
    }
    for (const email of toRemove) {
      const member = account.member(listId, subscriberHash(email));
      if (!member) {
        notMembers.push(email);
        continue;
      }
      if (segment.members.delete(member.hash)) removed.push(renderMember(account, member));
    }
    segment.updatedAt = account.now();
    written();
    const errors =
      notMembers.length > 0
        ? [{ email_addresses: notMembers, error: 'Email addresses are not subscribed to the list.' }]
        : [];
    return c.json({
      members_added: added,
      members_removed: removed,
      errors,
      total_added: added.length,
      total_removed: removed.length,
      error_count: notMembers.length,
    });
  });

  app.get('/3.0/lists/:list/segments/:seg/members', (c) => {
    const segment = segmentOr404(c);
    if (segment instanceof Response) return segment;
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const include = (s: MemberStatus) =>
      (s !== 'unsubscribed' || c.req.query('include_unsubscribed') === 'true') &&
      (s !== 'cleaned' || c.req.query('include_cleaned') === 'true') &&
      (s !== 'transactional' || c.req.query('include_transactional') === 'true');
    const members = [...segment.members]
      .sort()
      .map((hash) => account.member(segment.listId, hash))
      .filter((m): m is StoredMember => m !== undefined && include(m.status));
    return c.json({
      members: members.slice(page.offset, page.offset + page.count).map((m) => renderMember(account, m)),
      total_items: members.length,
    });
  });
}
