/**
 * Audience members: the listing (offset paging, `since_last_changed` strictly after, status filter, sorts), one member, add or update, permanent delete, member tags, and batch subscribe (per-row errors in a 200).
 */
import type { Hono } from 'hono';
import { EMAIL, hashOf, jsonBody, lowerBound, paging, problem, timeParam, missingList } from '../answers.js';
import { Rng } from '../../../../plugins/sandbox/index.js';
import { mailchimpTime, subscriberHash, type ListEntry, type MemberStatus, type StoredMember } from '../account.js';
import { newMember, renderMember, tagMember, withStatus, STATUSES } from '../shapes.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * memberRoutes(app, { account, limits, written });
 */
export function memberRoutes(app: Hono, { account, limits, written }: RouteOptions): void {
  let listings = 0;
  app.get('/3.0/lists/:list/members', (c) => {
    const listId = c.req.param('list');
    const missing = missingList(c, account, listId);
    if (missing) return missing;
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const since = timeParam(c, 'since_last_changed');
    const before = timeParam(c, 'before_last_changed');
    if (since === null || before === null)
      return problem(c, 400, 'Invalid Resource', 'The time parameters must be ISO 8601 timestamps.');
    const status = c.req.query('status');
    const sortField = c.req.query('sort_field');
    const sortDir = (c.req.query('sort_dir') ?? 'DESC').toUpperCase();
    let entries = account.listMembers(listId);
    if (since !== undefined) entries = entries.slice(lowerBound(entries, since, true));
    if (before !== undefined) entries = entries.slice(0, lowerBound(entries, before, false));
    let members = withStatus(entries, status);
    if (sortField === 'last_changed') {
      members = shuffleTies(members, new Rng(++listings));
      if (sortDir === 'DESC') members.reverse();
    } else if (sortField === 'timestamp_opt') {
      members = [...members].sort((a, b) =>
        sortDir === 'ASC' ? a.createdAt - b.createdAt : b.createdAt - a.createdAt,
      );
    } else if (sortField !== 'last_changed') {
      members = [...members].sort((a, b) => b.createdAt - a.createdAt || (a.hash < b.hash ? -1 : 1));
    }
    const slice = members
      .slice(page.offset, page.offset + page.count)
      .map((e) => account.member(listId, e.hash))
      .filter((m): m is StoredMember => m !== undefined);
    return c.json({
      members: slice.map((m) => renderMember(account, m)),
      list_id: listId,
      total_items: members.length,
    });
  });

  app.get('/3.0/lists/:list/members/:hash', (c) => {
    const listId = c.req.param('list');
    const member = account.member(listId, hashOf(c.req.param('hash')));
    if (!account.hasList(listId) || !member)
      return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    return c.json(renderMember(account, member));
  });

  app.put('/3.0/lists/:list/members/:hash', async (c) => {
    const listId = c.req.param('list');
    const missing = missingList(c, account, listId);
    if (missing) return missing;
    const body = await jsonBody(c);
    if (!body) return problem(c, 400, 'Invalid Resource', 'The request body must be JSON.');
    const email = String(body.email_address ?? '');
    const hash = hashOf(c.req.param('hash'));
    if (email && subscriberHash(email) !== hash) {
      return problem(c, 400, 'Invalid Resource', 'The subscriber hash does not match the email address.');
    }
    const existing = account.member(listId, hash);
    if (!existing && account.forgotten.has(`${listId}:${hash}`)) {
      return problem(
        c,
        400,
        'Forgotten Email Not Subscribed',
        `${email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`,
      );
    }
    if (!existing) {
      const status = (body.status_if_new ?? body.status) as MemberStatus | undefined;
      if (!status)
        return problem(c, 400, 'Invalid Resource', 'The resource submitted could not be validated.', {
          errors: [{ field: 'status_if_new', message: 'This value should not be blank.' }],
        });
      if (!EMAIL.test(email))
        return problem(
          c,
          400,
          'Invalid Resource',
          `${email} looks fake or invalid, please enter a real email address.`,
        );
      return c.json(renderMember(account, account.put(newMember(listId, email, status, body))));
    }
    const status = (body.status as MemberStatus | undefined) ?? existing.status;
    const merge = { ...existing.mergeFields, ...((body.merge_fields as Record<string, unknown> | undefined) ?? {}) };
    return c.json(renderMember(account, account.put({ ...existing, status, mergeFields: merge })));
  });

  app.post('/3.0/lists/:list/members/:hash/actions/delete-permanent', (c) => {
    const listId = c.req.param('list');
    const hash = hashOf(c.req.param('hash'));
    if (!account.hasList(listId) || !account.member(listId, hash))
      return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    account.forget(listId, hash);
    return c.body(null, 204);
  });

  app.get('/3.0/lists/:list/members/:hash/tags', (c) => {
    const listId = c.req.param('list');
    const hash = hashOf(c.req.param('hash'));
    if (!account.hasList(listId) || !account.member(listId, hash))
      return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    const tags = account
      .tagsOf(listId, hash)
      .map((s) => ({ id: s.id, name: s.name, date_added: mailchimpTime(s.updatedAt) }));
    return c.json({ tags, total_items: tags.length });
  });

  app.post('/3.0/lists/:list/members/:hash/tags', async (c) => {
    const listId = c.req.param('list');
    const hash = hashOf(c.req.param('hash'));
    if (!account.hasList(listId) || !account.member(listId, hash))
      return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    const body = await jsonBody(c);
    const tags = body?.tags;
    if (!Array.isArray(tags))
      return problem(c, 400, 'Invalid Resource', 'The resource submitted could not be validated.', {
        errors: [{ field: 'tags', message: 'Schema describes array, object found instead' }],
      });
    for (const tag of tags as { name?: unknown; status?: unknown }[]) {
      const name = String(tag.name ?? '').trim();
      if (!name) continue;
      let segment = account.segmentByName(listId, name);
      if (tag.status === 'inactive') {
        segment?.members.delete(hash);
      } else {
        segment ??= account.createSegment(listId, name);
        segment.members.add(hash);
      }
      if (segment) segment.updatedAt = account.now();
    }
    written();
    return c.body(null, 204);
  });

  app.post('/3.0/lists/:list', async (c) => {
    const listId = c.req.param('list');
    const missing = missingList(c, account, listId);
    if (missing) return missing;
    const body = await jsonBody(c);
    const rows = body?.members;
    if (!Array.isArray(rows))
      return problem(c, 400, 'Invalid Resource', 'The resource submitted could not be validated.', {
        errors: [{ field: 'members', message: 'This value should not be blank.' }],
      });
    if (rows.length > limits.batchSubscribeSize) {
      return problem(
        c,
        400,
        'Invalid Resource',
        `You may only batch subscribe ${limits.batchSubscribeSize} members at a time.`,
      );
    }
    const updateExisting = body?.update_existing === true;
    const result = { new_members: [] as unknown[], updated_members: [] as unknown[], errors: [] as unknown[] };
    for (const row of rows as Record<string, unknown>[]) {
      const email = String(row.email_address ?? '');
      const hash = subscriberHash(email);
      const fail = (error: string, code: string) =>
        result.errors.push({ email_address: email, error, error_code: code, field: '', field_message: '' });
      if (!EMAIL.test(email.trim()) || account.badEmails.has(email.trim().toLowerCase())) {
        fail(`${email} looks fake or invalid, please enter a real email address.`, 'ERROR_GENERIC');
        continue;
      }
      const existing = account.member(listId, hash);
      if (!existing) {
        if (account.forgotten.has(`${listId}:${hash}`)) {
          fail(
            `${email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`,
            'ERROR_GENERIC',
          );
          continue;
        }
        const status = (row.status ?? row.status_if_new) as MemberStatus | undefined;
        if (!status || !STATUSES.has(status)) {
          fail(
            'Status is required and must be one of subscribed, unsubscribed, cleaned, pending, transactional.',
            'ERROR_GENERIC',
          );
          continue;
        }
        const created = account.put(newMember(listId, email.trim(), status, row));
        tagMember(account, listId, hash, row.tags);
        result.new_members.push(renderMember(account, created));
      } else if (!updateExisting) {
        fail(`${email} is already a list member. Use PUT to insert or update list members.`, 'ERROR_CONTACT_EXISTS');
      } else {
        const status = (row.status as MemberStatus | undefined) ?? existing.status;
        const merge = { ...existing.mergeFields, ...((row.merge_fields as Record<string, unknown> | undefined) ?? {}) };
        const updated = account.put({ ...existing, status, mergeFields: merge });
        tagMember(account, listId, hash, row.tags);
        result.updated_members.push(renderMember(account, updated));
      }
    }
    written();
    return c.json({
      ...result,
      total_created: result.new_members.length,
      total_updated: result.updated_members.length,
      error_count: result.errors.length,
    });
  });
}

/**
 * Members sharing one `last_changed` second, in a different order on every request: Mailchimp keeps `last_changed` to
 * the second and promises no order among ties, so offset paging through a tie group can skip or repeat a member.
 */
function shuffleTies(members: ListEntry[], rng: Rng): ListEntry[] {
  const out = [...members];
  for (let start = 0; start < out.length;) {
    const second = Math.floor((out[start] as ListEntry).lastChanged / 1000);
    let end = start + 1;
    while (end < out.length && Math.floor((out[end] as ListEntry).lastChanged / 1000) === second) end++;
    for (let i = end - 1; i > start; i--) {
      const j = start + rng.int(i - start + 1);
      [out[i], out[j]] = [out[j] as ListEntry, out[i] as ListEntry];
    }
    start = end;
  }
  return out;
}
