/**
 * The sandbox's HTTP surface: a hono app answering Mailchimp Marketing API 3.0 paths with Mailchimp's payloads,
 * offset paging (count up to 1000), `since_last_changed` (strictly after), batch subscribe with per-row errors in a
 * 200, static segments (500 emails per side, Mailchimp's 400 beyond), member tags (204), campaign reports, Basic
 * auth with the data-centre suffix, problem+json errors, the 10-simultaneous-connection limit (429, or a bare 403),
 * the permanent-delete rule, and switchable faults.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import {
  mailchimpTime,
  subscriberHash,
  type CampaignActivity,
  type ListEntry,
  type MailchimpAccount,
  type MemberStatus,
  type StoredMember,
  type StoredSegment,
} from './account.js';

/** Mailchimp's limits, real values by default; each can be changed for a test or a benchmark. */
export interface MailchimpLimits {
  /** Largest `count` of a page. */
  pageSize: number;
  /** Emails per side (`members_to_add`, `members_to_remove`) of one static-segment call. */
  segmentItemsPerSide: number;
  /** Members per batch-subscribe call. */
  batchSubscribeSize: number;
  /** Simultaneous connections per API key. */
  connections: number;
  /** Every request waits this long before answering (gives concurrency something to overlap). */
  latencyMs: number;
}

export const MAILCHIMP_LIMITS: MailchimpLimits = {
  pageSize: 1000,
  segmentItemsPerSide: 500,
  batchSubscribeSize: 500,
  connections: 10,
  latencyMs: 0,
};

/** Faults a test switches on and off while the sandbox runs. */
export interface MailchimpFaults {
  /** The next N requests answer 429. */
  rateLimitNext: number;
  /** The next N requests answer a bare 403 (no problem+json body), as Mailchimp's edge sometimes throttles. */
  bare403Next: number;
  /** Over the connection limit, answer a bare 403 instead of 429. */
  throttleAsBare403: boolean;
  /** The next N requests answer 503. */
  serverErrorNext: number;
  /** Emails batch subscribe refuses with an ERROR_GENERIC row error (the "bad row"). */
  badEmails: Set<string>;
}

export function noFaults(): MailchimpFaults {
  return { rateLimitNext: 0, bare403Next: 0, throttleAsBare403: false, serverErrorNext: 0, badEmails: new Set() };
}

/** One request the sandbox received. */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: string;
  status: number;
  /** Requests of the same API key in flight when this one arrived, itself included. */
  inFlight: number;
  /** The API key's account (the part before the data-centre suffix is not kept). */
  account: string;
}

/** What the sandbox remembers of the requests it answered. */
export class RequestRecorder {
  readonly requests: RecordedRequest[] = [];
  /** The most requests of one API key seen in flight at once. */
  maxInFlight = 0;
  /** Requests answered 429 or 403 because too many were in flight. */
  throttled = 0;
  record(request: RecordedRequest): void {
    this.requests.push(request);
  }
  count(method: string, pattern: RegExp): number {
    return this.requests.filter((r) => r.method === method && pattern.test(r.path)).length;
  }
  clear(): void {
    this.requests.length = 0;
    this.maxInFlight = 0;
    this.throttled = 0;
  }
}

export interface AppOptions {
  /** API keys the account accepts, `<key>-<dc>`. */
  apiKeys: string[];
  /** The data centre the sandbox plays (`us21`): keys for another one are refused, as Mailchimp does. */
  dataCenter: string;
  limits: MailchimpLimits;
  faults: MailchimpFaults;
  recorder: RequestRecorder;
}

const ERROR_DOC = 'https://mailchimp.com/developer/marketing/docs/errors/';

function problem(c: Context, status: number, title: string, detail: string, extra: Record<string, unknown> = {}) {
  return c.body(
    JSON.stringify({ type: ERROR_DOC, title, status, detail, instance: randomUUID(), ...extra }),
    status as 400,
    {
      'Content-Type': 'application/problem+json; charset=utf-8',
    },
  );
}

function bare403(c: Context) {
  return c.body('<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>', 403, {
    'Content-Type': 'text/html',
  });
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function intParam(c: Context, name: string, fallback: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

function timeParam(c: Context, name: string): number | undefined | null {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? null : ms;
}

/** Builds the app. `startSandbox` serves it; tests may call `app.request()` directly. */
export function createApp(account: MailchimpAccount, options: AppOptions): Hono {
  const { limits, faults, recorder } = options;
  const app = new Hono();
  const inFlight = new Map<string, number>();

  app.use('*', async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const query = new URL(c.req.url).search;
    const key = apiKeyOf(c.req.header('authorization'));
    const accountKey = key ?? '-';
    const now = (inFlight.get(accountKey) ?? 0) + 1;
    inFlight.set(accountKey, now);
    recorder.maxInFlight = Math.max(recorder.maxInFlight, now);
    try {
      if (limits.latencyMs > 0) await new Promise((r) => setTimeout(r, limits.latencyMs));
      if (!path.startsWith('/3.0/')) {
        await next();
      } else if (key === undefined) {
        c.res = problem(c, 401, 'API Key Missing', 'Your request did not include an API key.');
      } else if (!options.apiKeys.includes(key)) {
        c.res = problem(
          c,
          401,
          'API Key Invalid',
          "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
        );
      } else if (now > limits.connections) {
        recorder.throttled++;
        c.res = faults.throttleAsBare403
          ? bare403(c)
          : problem(
              c,
              429,
              'Too Many Requests',
              `You have exceeded the limit of ${limits.connections} simultaneous connections.`,
            );
      } else if (faults.rateLimitNext > 0) {
        faults.rateLimitNext--;
        c.res = problem(
          c,
          429,
          'Too Many Requests',
          `You have exceeded the limit of ${limits.connections} simultaneous connections.`,
        );
      } else if (faults.bare403Next > 0) {
        faults.bare403Next--;
        c.res = bare403(c);
      } else if (faults.serverErrorNext > 0) {
        faults.serverErrorNext--;
        c.res = problem(c, 503, 'Service Unavailable', 'The service is temporarily unavailable; try again later.');
      } else {
        await next();
      }
    } finally {
      inFlight.set(accountKey, (inFlight.get(accountKey) ?? 1) - 1);
      recorder.record({
        at: Date.now(),
        method: c.req.method,
        path,
        query,
        status: c.res.status,
        inFlight: now,
        account: accountKey.split('-')[0] ?? '',
      });
    }
  });

  app.notFound((c) => problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.'));
  app.onError((error, c) => problem(c, 500, 'Internal Server Error', error.message));

  app.get('/3.0/ping', (c) => c.json({ health_status: "Everything's Chimpy!" }));

  app.get('/3.0/lists', (c) => {
    const lists = account.lists().map((l) => renderList(account, l.id, l.name));
    return c.json({
      lists,
      total_items: lists.length,
      constraints: { may_create: false, max_instances: 2, current_total_instances: 2 },
    });
  });

  const listOr404 = (c: Context, listId: string) =>
    account.hasList(listId)
      ? undefined
      : problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');

  app.get('/3.0/lists/:list', (c) => {
    const listId = c.req.param('list');
    const missing = listOr404(c, listId);
    if (missing) return missing;
    const list = account.lists().find((l) => l.id === listId);
    return c.json(renderList(account, listId, list?.name ?? ''));
  });

  app.get('/3.0/lists/:list/members', (c) => {
    const listId = c.req.param('list');
    const missing = listOr404(c, listId);
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
    if (sortField === 'last_changed' && sortDir === 'DESC') members = [...members].reverse();
    else if (sortField === 'timestamp_opt') {
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
    const missing = listOr404(c, listId);
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
    account.save();
    return c.body(null, 204);
  });

  app.post('/3.0/lists/:list', async (c) => {
    const listId = c.req.param('list');
    const missing = listOr404(c, listId);
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
      if (!EMAIL.test(email.trim()) || faults.badEmails.has(email.trim().toLowerCase())) {
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
    account.save();
    return c.json({
      ...result,
      total_created: result.new_members.length,
      total_updated: result.updated_members.length,
      error_count: result.errors.length,
    });
  });

  app.get('/3.0/lists/:list/segments', (c) => {
    const listId = c.req.param('list');
    const missing = listOr404(c, listId);
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
    const missing = listOr404(c, listId);
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
    account.save();
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
    account.save();
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

  const campaigns = () => account.world.campaigns;
  const mainList = () => account.world.audiences[0]?.id ?? '';

  app.get('/3.0/campaigns', (c) => {
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const since = timeParam(c, 'since_send_time');
    if (since === null) return problem(c, 400, 'Invalid Resource', 'since_send_time must be an ISO 8601 timestamp.');
    const status = c.req.query('status');
    let all = campaigns().filter((k) => since === undefined || k.sentAt > since);
    if (status && status !== 'sent') all = [];
    if ((c.req.query('sort_dir') ?? '').toUpperCase() === 'DESC') all = [...all].reverse();
    const render = (k: (typeof all)[number]) => ({
      id: k.mailchimpId,
      web_id: 100_000 + k.index,
      type: 'regular',
      create_time: mailchimpTime(k.sentAt - 86_400_000),
      status: 'sent',
      emails_sent: account.campaignActivity(k.mailchimpId).filter((a) => a.type === 'email_sent').length,
      send_time: mailchimpTime(k.sentAt),
      content_type: 'template',
      recipients: { list_id: mainList(), list_is_active: true, list_name: account.world.audiences[0]?.name ?? '' },
      settings: { subject_line: k.subject, title: k.subject, from_name: 'Shop', reply_to: 'news@shop.example' },
    });
    return c.json({ campaigns: all.slice(page.offset, page.offset + page.count).map(render), total_items: all.length });
  });

  const campaignOr404 = (c: Context) => {
    const id = c.req.param('campaign');
    return campaigns().find((k) => k.mailchimpId === id);
  };

  app.get('/3.0/reports/:campaign/email-activity', (c) => {
    const campaign = campaignOr404(c);
    if (!campaign) return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const since = timeParam(c, 'since');
    if (since === null) return problem(c, 400, 'Invalid Resource', 'since must be an ISO 8601 timestamp.');
    const emails = activityByEmail(account.campaignActivity(campaign.mailchimpId), since);
    const slice = emails.slice(page.offset, page.offset + page.count).map(([person, activity]) => {
      const m = account.fromWorld(mainList(), person);
      return {
        campaign_id: campaign.mailchimpId,
        list_id: mainList(),
        list_is_active: true,
        email_id: m?.hash ?? '',
        email_address: m?.email ?? '',
        activity,
      };
    });
    return c.json({ emails: slice, campaign_id: campaign.mailchimpId, total_items: emails.length });
  });

  app.get('/3.0/reports/:campaign/sent-to', (c) => {
    const campaign = campaignOr404(c);
    if (!campaign) return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const { sent, opens, bounces } = recipients(account.campaignActivity(campaign.mailchimpId));
    const slice = sent.slice(page.offset, page.offset + page.count).map((a) => {
      const m = account.fromWorld(mainList(), a.person);
      const o = opens.get(a.person);
      return {
        email_id: m?.hash ?? '',
        email_address: m?.email ?? '',
        merge_fields: { FNAME: m?.mergeFields.FNAME ?? '', LNAME: m?.mergeFields.LNAME ?? '' },
        vip: false,
        status: bounces.get(a.person) ?? 'sent',
        open_count: o?.count ?? 0,
        last_open: o ? mailchimpTime(o.last) : '',
        absplit_group: '',
        gmt_offset: 0,
        campaign_id: campaign.mailchimpId,
        list_id: mainList(),
        list_is_active: true,
      };
    });
    return c.json({ sent_to: slice, campaign_id: campaign.mailchimpId, total_items: sent.length });
  });

  app.get('/3.0/reports/:campaign/unsubscribed', (c) => {
    const campaign = campaignOr404(c);
    if (!campaign) return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const unsubs = account
      .campaignActivity(campaign.mailchimpId)
      .filter((a) => a.type === 'email_unsubscribe')
      .sort((x, y) => x.at - y.at || x.person - y.person);
    const slice = unsubs.slice(page.offset, page.offset + page.count).map((a) => {
      const m = account.fromWorld(mainList(), a.person);
      return {
        email_id: m?.hash ?? '',
        email_address: m?.email ?? '',
        merge_fields: { FNAME: m?.mergeFields.FNAME ?? '', LNAME: m?.mergeFields.LNAME ?? '' },
        vip: false,
        timestamp: mailchimpTime(a.at),
        reason: 'N/A (Unsubscribed from campaign)',
        campaign_id: campaign.mailchimpId,
        list_id: mainList(),
        list_is_active: true,
      };
    });
    return c.json({ unsubscribes: slice, campaign_id: campaign.mailchimpId, total_items: unsubs.length });
  });

  const STORE_ID = 'segflow_shop';
  app.get('/3.0/ecommerce/stores', (c) =>
    c.json({
      stores: [
        {
          id: STORE_ID,
          list_id: mainList(),
          name: 'Shop',
          platform: 'custom',
          currency_code: 'USD',
          created_at: mailchimpTime(account.world.start),
        },
      ],
      total_items: 1,
    }),
  );

  app.get('/3.0/ecommerce/stores/:store/orders', (c) => {
    if (c.req.param('store') !== STORE_ID)
      return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const orders = account.storeOrders();
    const slice = orders.slice(page.offset, page.offset + page.count).map((o) => {
      const m =
        account.fromWorld(mainList(), o.person) ?? account.fromWorld(account.world.audiences[1]?.id ?? '', o.person);
      return {
        id: o.id,
        customer: {
          id: m?.hash ?? String(o.person),
          email_address: m?.email ?? '',
          opt_in_status: m?.status === 'subscribed',
        },
        campaign_id: o.campaignId ?? '',
        financial_status: 'paid',
        currency_code: o.currency,
        order_total: o.value,
        discount_total: o.discount > 0 ? Math.round(o.value * o.discount * 100) / 100 : 0,
        processed_at_foreign: mailchimpTime(o.at),
        updated_at_foreign: mailchimpTime(o.at),
        lines: [{ id: `${o.id}-1`, product_id: o.category, product_title: o.category, quantity: 1, price: o.value }],
      };
    });
    return c.json({ store_id: STORE_ID, orders: slice, total_items: orders.length });
  });

  return app;
}

const STATUSES = new Set(['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional']);

/** A list's members with one status (not archived, without one), kept per member list and status: pages share it (a
 * `since`/`before` slice is a new list each time, and its memo goes with it). */
const byStatusMemo = new WeakMap<ListEntry[], Map<string, ListEntry[]>>();
function withStatus(entries: ListEntry[], status: string | undefined): ListEntry[] {
  let memo = byStatusMemo.get(entries);
  if (!memo) byStatusMemo.set(entries, (memo = new Map()));
  let members = memo.get(status ?? '');
  if (!members)
    memo.set(status ?? '', (members = entries.filter((m) => (status ? m.status === status : m.status !== 'archived'))));
  return members;
}

/**
 * A campaign's activity grouped by recipient, in recipient order, for email-activity. The activity is fixed once built,
 * so the grouping is kept for the last `since` asked of it: paging through a report costs one grouping, not one a page.
 */
const byEmailMemo = new WeakMap<
  CampaignActivity[],
  { since: number | undefined; emails: [number, Record<string, unknown>[]][] }
>();
function activityByEmail(
  activity: CampaignActivity[],
  since: number | undefined,
): [number, Record<string, unknown>[]][] {
  const memo = byEmailMemo.get(activity);
  if (memo && memo.since === since) return memo.emails;
  const byPerson = new Map<number, Record<string, unknown>[]>();
  for (const a of activity) {
    if (a.type === 'email_sent' || a.type === 'email_unsubscribe') continue;
    if (since !== undefined && a.at <= since) continue;
    const action = a.type === 'email_open' ? 'open' : a.type === 'email_click' ? 'click' : 'bounce';
    const row: Record<string, unknown> = { action, timestamp: mailchimpTime(a.at), ip: '' };
    if (a.url) row.url = a.url;
    if (action === 'bounce') row.type = a.bounceType ?? 'hard';
    let list = byPerson.get(a.person);
    if (!list) byPerson.set(a.person, (list = []));
    list.push(row);
  }
  const emails = [...byPerson.entries()].sort((x, y) => x[0] - y[0]);
  byEmailMemo.set(activity, { since, emails });
  return emails;
}

interface Recipients {
  sent: CampaignActivity[];
  opens: Map<number, { count: number; last: number }>;
  bounces: Map<number, string>;
}
/** A campaign's recipients in recipient order with their opens and bounces, for sent-to; built once per campaign. */
const recipientsMemo = new WeakMap<CampaignActivity[], Recipients>();
function recipients(activity: CampaignActivity[]): Recipients {
  const memo = recipientsMemo.get(activity);
  if (memo) return memo;
  const sent = activity.filter((a) => a.type === 'email_sent').sort((x, y) => x.person - y.person);
  const opens = new Map<number, { count: number; last: number }>();
  const bounces = new Map<number, string>();
  for (const a of activity) {
    if (a.type === 'email_open') {
      const o = opens.get(a.person) ?? { count: 0, last: 0 };
      opens.set(a.person, { count: o.count + 1, last: Math.max(o.last, a.at) });
    } else if (a.type === 'email_bounce') bounces.set(a.person, a.bounceType ?? 'hard');
  }
  const built = { sent, opens, bounces };
  recipientsMemo.set(activity, built);
  return built;
}

function newMember(
  listId: string,
  email: string,
  status: MemberStatus,
  row: Record<string, unknown>,
): Omit<StoredMember, 'lastChanged'> {
  return {
    listId,
    hash: subscriberHash(email),
    email,
    status,
    mergeFields: (row.merge_fields as Record<string, unknown> | undefined) ?? {},
    createdAt: Date.now(),
    person: null,
    language: typeof row.language === 'string' ? row.language : '',
  };
}

function tagMember(account: MailchimpAccount, listId: string, hash: string, tags: unknown): void {
  if (!Array.isArray(tags)) return;
  for (const name of tags.map(String)) {
    const segment = account.segmentByName(listId, name) ?? account.createSegment(listId, name);
    segment.members.add(hash);
  }
}

/** The member path segment: a subscriber hash, or (as Mailchimp also accepts) an email address. */
function hashOf(raw: string): string {
  const value = decodeURIComponent(raw);
  return value.includes('@') ? subscriberHash(value) : value.toLowerCase();
}

function apiKeyOf(header: string | undefined): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function paging(c: Context, limits: MailchimpLimits): { count: number; offset: number } | { error: Response } {
  const count = intParam(c, 'count', 10);
  const offset = intParam(c, 'offset', 0);
  if (Number.isNaN(count) || Number.isNaN(offset)) {
    return { error: problem(c, 400, 'Invalid Resource', 'count and offset must be non-negative integers.') };
  }
  if (count > limits.pageSize) {
    return {
      error: problem(c, 400, 'Invalid Resource', `The resource submitted could not be validated.`, {
        errors: [{ field: 'count', message: `Must be less than or equal to ${limits.pageSize}` }],
      }),
    };
  }
  return { count, offset };
}

/** First index whose lastChanged is > at (strict) or >= at. */
function lowerBound(entries: { lastChanged: number }[], at: number, strict: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = (entries[mid] as { lastChanged: number }).lastChanged;
    if (strict ? v <= at : v < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await c.req.json();
    return body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function renderList(account: MailchimpAccount, id: string, name: string) {
  const members = account.listMembers(id);
  return {
    id,
    web_id: parseInt(id.slice(0, 6), 16),
    name,
    date_created: mailchimpTime(account.world.start),
    list_rating: 4,
    stats: { member_count: members.length },
  };
}

function renderSegment(s: StoredSegment) {
  return {
    id: s.id,
    name: s.name,
    member_count: s.members.size,
    type: 'static',
    created_at: mailchimpTime(s.createdAt),
    updated_at: mailchimpTime(s.updatedAt),
    options: {},
    list_id: s.listId,
  };
}

function renderMember(account: MailchimpAccount, m: StoredMember) {
  const tags = account.tagsOf(m.listId, m.hash).map((s) => ({ id: s.id, name: s.name }));
  const seed = parseInt(m.hash.slice(0, 8), 16);
  const address = m.mergeFields.ADDRESS as { country?: string } | undefined;
  return {
    id: m.hash,
    email_address: m.email,
    unique_email_id: createHash('md5').update(`unique:${m.hash}`).digest('hex').slice(0, 10),
    contact_id: createHash('md5').update(`contact:${m.hash}`).digest('hex'),
    full_name: [m.mergeFields.FNAME, m.mergeFields.LNAME].filter(Boolean).join(' '),
    web_id: seed % 100_000_000,
    email_type: 'html',
    status: m.status,
    merge_fields: m.mergeFields,
    stats: { avg_open_rate: (seed % 100) / 100, avg_click_rate: (seed % 37) / 100 },
    ip_signup: '',
    timestamp_signup: mailchimpTime(m.createdAt),
    ip_opt: '',
    timestamp_opt: mailchimpTime(m.createdAt),
    member_rating: 1 + (seed % 5),
    last_changed: mailchimpTime(m.lastChanged),
    language: m.language,
    vip: false,
    email_client: '',
    location: {
      latitude: 0,
      longitude: 0,
      gmtoff: 0,
      dstoff: 0,
      country_code: address?.country ?? '',
      timezone: '',
      region: '',
    },
    source: m.person === null ? 'API - Generic' : 'Import',
    tags_count: tags.length,
    tags,
    list_id: m.listId,
  };
}
