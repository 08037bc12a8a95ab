/**
 * Campaigns and their reports: email activity, sent-to and unsubscribes, rendered from the world.
 */
import type { Context, Hono } from 'hono';
import { paging, problem, timeParam } from '../answers.js';
import { mailchimpTime, type CampaignActivity } from '../account.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * reportRoutes(app, { account, limits, written });
 */
export function reportRoutes(app: Hono, { account, limits }: RouteOptions): void {
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
