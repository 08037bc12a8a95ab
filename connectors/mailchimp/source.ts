/**
 * The Mailchimp source: audience members as contacts, and campaign engagement (email activity, sends,
 * unsubscribes) and store orders as events, read through the official SDK; plus the webhook hook.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import {
  defineSource,
  secret,
  type ConnectorContext,
  type ContactRecord,
  type EmailConsent,
  type EventRecord,
  type SourceRecord,
  type StreamDefinition,
  type StreamMessage,
  type StreamState,
  type WebhookRequest,
} from '../../plugins/index.js';
import {
  classifyMailchimpError,
  connectionSpec,
  describe,
  MAILCHIMP_BUDGET,
  mailchimpCall,
  statusOf,
  type CampaignInfo,
  type ConnectionConfig,
  type MailchimpMember,
} from './client.js';

export const sourceSpec = connectionSpec.extend({
  /** Audiences (list ids) to read; all of the account's audiences when omitted. */
  audienceIds: z.array(z.string().min(1)).min(1).optional(),
  /** How long a campaign keeps collecting opens and clicks: incremental reads revisit campaigns sent this recently. */
  activityWindowDays: z.number().int().min(1).max(365).default(30),
  /** Records per request (Mailchimp's maximum is 1000). */
  pageSize: z.number().int().min(1).max(1000).default(1000),
  /** The token Mailchimp must put in the webhook URL (`?token=…`); webhooks are refused without it. */
  webhookSecret: secret(z.string().min(8)).optional(),
});
export type SourceConfig = z.infer<typeof sourceSpec>;

const SOURCE = 'mailchimp';
const SECOND = 1000;
/** Members re-read behind the committed cursor: last_changed has second precision and rows can land late. */
export const MEMBERS_OVERLAP_MS = 5 * 60 * SECOND;
/** The most (membership, last_changed) pairs a checkpoint remembers to drop the overlap's duplicates. */
const SEEN_CAP = 5_000;
/** The most first-audience statuses a members read remembers for the records of other audiences. */
const PRIMARY_STATUS_CAP = 200_000;
/** Page size, and most passes, for reading the members that share one last_changed second. */
const TIE_PAGE = 1000;
const TIE_PASSES = 20;

/** Subscriber hash: md5 of the lower-cased email (trimmed, as Mailchimp trims what it stores). */
export function subscriberHash(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}

/** Mailchimp's `+00:00` timestamps (and webhook `YYYY-MM-DD HH:MM:SS`) as ISO-8601 UTC. */
function iso(value: string | undefined | null): string | null {
  if (!value) return null;
  const text = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** A millisecond time as Mailchimp's query format. */
function mailchimpTime(ms: number): string {
  return new Date(Math.floor(ms / SECOND) * SECOND).toISOString().replace('.000Z', '+00:00');
}

const CONSENT: Record<string, EmailConsent> = {
  subscribed: 'subscribed',
  unsubscribed: 'unsubscribed',
  cleaned: 'cleaned',
  pending: 'pending',
};

async function audiencesOf(config: SourceConfig, ctx: ConnectorContext): Promise<string[]> {
  if (config.audienceIds) return config.audienceIds;
  const lists = await mailchimpCall(ctx, config, 'lists.list', (mc) =>
    mc.lists.getAllLists({ count: 1000, fields: ['lists.id', 'total_items'] }),
  );
  return lists.lists.map((l) => l.id);
}

/**
 * Maps one audience membership into a contact. The contact's id is the subscriber hash, the same on every audience,
 * so identity resolution makes one contact of a person on several audiences; each audience's status, tags and
 * rating are kept as `mailchimp_<audience>_…` traits, and `email_consent` is the status on the first configured
 * audience. A record carries the whole identity (the store replaces it), so a membership of another audience
 * carries the first audience's status too when `primaryStatus` gives it. An archived member comes through marked
 * `deleted`, keeping its email and id.
 */
export function memberToContact(
  member: MailchimpMember,
  primaryAudience: string | undefined,
  primaryStatus?: string,
): ContactRecord {
  const merge = member.merge_fields ?? {};
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
  const address = merge.ADDRESS && typeof merge.ADDRESS === 'object' ? (merge.ADDRESS as Record<string, unknown>) : {};
  const list = member.list_id;
  const traits: ContactRecord['traits'] = {
    email: member.email_address,
    first_name: text(merge.FNAME),
    last_name: text(merge.LNAME),
    phone: text(merge.PHONE),
    company: text(merge.COMPANY),
    country: text(member.location?.country_code) ?? text(address.country),
    city: text(address.city),
    created_at: iso(member.timestamp_opt || member.timestamp_signup),
    updated_at: iso(member.last_changed),
    language: text(member.language),
    mailchimp_member_rating: typeof member.member_rating === 'number' ? member.member_rating : null,
    [`mailchimp_${list}_status`]: member.status,
    [`mailchimp_${list}_tags`]: (member.tags ?? []).map((t) => t.name).join(','),
  };
  const consentFrom = list === primaryAudience ? member.status : primaryStatus;
  if (consentFrom !== undefined) traits.email_consent = CONSENT[consentFrom] ?? 'unknown';
  return {
    kind: 'contact',
    source: SOURCE,
    externalId: member.id,
    traits,
    ...(member.status === 'archived' ? { deleted: true } : {}),
    raw: { ...member, membership_id: `${list}:${member.id}` },
  };
}

interface AudienceReader {
  listId: string;
  /** 'archived' reads the archived members, which Mailchimp leaves out of a list unless asked by status. */
  status: 'archived' | undefined;
  buffer: MailchimpMember[];
  /** `since_last_changed` of the next request (strictly after), ms; undefined reads from the start. */
  anchor: number | undefined;
  done: boolean;
}

function membersStream(): StreamDefinition<SourceConfig> {
  return {
    name: 'members',
    recordKind: 'contact',
    primaryKey: 'raw.membership_id',
    cursorField: 'traits.updated_at',
    modes: ['full_refresh', 'incremental'],
    overlap: MEMBERS_OVERLAP_MS,
    async *read({ config, mode, state }, ctx): AsyncGenerator<StreamMessage> {
      const audiences = await audiencesOf(config, ctx);
      const incremental = mode === 'incremental' && typeof state?.cursor === 'string';
      let cursor = incremental ? Date.parse(state.cursor as string) : -Infinity;
      const seen = new Map<string, number>(
        incremental ? Object.entries((state?.seen as Record<string, number> | undefined) ?? {}) : [],
      );
      const start = incremental ? cursor - MEMBERS_OVERLAP_MS : undefined;
      // The first audience's status of members read so far, so another audience's record carries it too. A full read
      // needs no lookups (a first-audience record not read yet comes later and wins); an incremental one asks
      // Mailchimp for the members it has not read on the first audience.
      const primary = audiences[0];
      const primaryStatuses = new Map<string, string | null>();
      const remember = (hash: string, status: string | null) => {
        if (primaryStatuses.size >= PRIMARY_STATUS_CAP)
          primaryStatuses.delete(primaryStatuses.keys().next().value as string);
        primaryStatuses.set(hash, status);
      };
      const primaryStatusOf = async (member: MailchimpMember): Promise<string | undefined> => {
        if (primary === undefined || member.list_id === primary) return undefined;
        const known = primaryStatuses.get(member.id);
        if (known !== undefined) return known ?? undefined;
        if (!incremental) return undefined;
        try {
          const found = await mailchimpCall(ctx, config, 'members.get', (mc) =>
            mc.lists.getListMember(primary, member.id, { fields: ['status'] }),
          );
          remember(member.id, found.status);
          return found.status;
        } catch (error) {
          if (statusOf(error) !== 404) throw error;
          remember(member.id, null);
          return undefined;
        }
      };
      const readers: AudienceReader[] = audiences.flatMap((listId) =>
        ([undefined, 'archived'] as const).map((status) => ({
          listId,
          status,
          buffer: [],
          anchor: start,
          done: false,
        })),
      );

      const checkpoint = (): StreamMessage => {
        for (const [key, at] of seen) if (at < cursor - MEMBERS_OVERLAP_MS) seen.delete(key);
        const kept = [...seen.entries()].sort((a, b) => b[1] - a[1]).slice(0, SEEN_CAP);
        const out: StreamState = {
          cursor: Number.isFinite(cursor) ? new Date(cursor).toISOString() : (state?.cursor ?? null),
          seen: Object.fromEntries(kept),
        };
        return { type: 'state', state: out };
      };

      const listMembers = (
        reader: AudienceReader,
        opts: { count: number; offset: number; since?: number | undefined; before?: number },
      ) =>
        mailchimpCall(ctx, config, 'members.list', (mc) =>
          mc.lists.getListMembersInfo(reader.listId, {
            count: opts.count,
            offset: opts.offset,
            sort_field: 'last_changed',
            sort_dir: 'ASC',
            ...(reader.status ? { status: reader.status } : {}),
            ...(opts.since === undefined ? {} : { since_last_changed: mailchimpTime(opts.since) }),
            ...(opts.before === undefined ? {} : { before_last_changed: mailchimpTime(opts.before) }),
          }),
        );
      // Every member whose last_changed is the second `at`. Mailchimp keeps no order among them, so offset paging
      // through a large group can skip or repeat one: page the group again until every member was seen.
      const wholeSecond = async (reader: AudienceReader, at: number): Promise<MailchimpMember[]> => {
        const found = new Map<string, MailchimpMember>();
        for (let pass = 0; pass < TIE_PASSES; pass++) {
          let total = 0;
          for (let offset = 0; offset === 0 || offset < total; offset += TIE_PAGE) {
            const page = await listMembers(reader, {
              count: TIE_PAGE,
              offset,
              since: at - SECOND,
              before: at + SECOND,
            });
            for (const m of page.members) found.set(m.id, m);
            total = page.total_items;
          }
          if (found.size >= total) return [...found.values()];
        }
        throw new Error(
          `Mailchimp audience ${reader.listId}: the members changed at ${mailchimpTime(at)} could not all be read in ${TIE_PASSES} passes`,
        );
      };
      const fill = async (reader: AudienceReader) => {
        const page = await listMembers(reader, { count: config.pageSize, offset: 0, since: reader.anchor });
        const last = page.members.at(-1);
        if (!last || page.members.length < config.pageSize) {
          reader.buffer = page.members;
          reader.done = true;
          return;
        }
        // The page's last second may go on past the page. Keep what came before it and start the next page at that
        // second, which then arrives whole at its head. Only a page that is one second from end to end cannot move on
        // that way: read that second whole (several requests), then go on strictly after it.
        const lastAt = Date.parse(last.last_changed);
        const before = page.members.filter((m) => Date.parse(m.last_changed) < lastAt);
        if (before.length > 0) {
          reader.buffer = before;
          reader.anchor = lastAt - SECOND;
        } else {
          reader.buffer = await wholeSecond(reader, lastAt);
          reader.anchor = lastAt;
        }
      };

      for (const reader of readers) await fill(reader);
      for (;;) {
        let next: AudienceReader | undefined;
        for (const reader of readers) {
          const head = reader.buffer[0];
          if (!head) continue;
          if (!next || Date.parse(head.last_changed) < Date.parse((next.buffer[0] as MailchimpMember).last_changed))
            next = reader;
        }
        if (!next) break;
        const member = next.buffer.shift() as MailchimpMember;
        const at = Date.parse(member.last_changed);
        const key = `${member.list_id}:${member.id}`;
        if (seen.get(key) !== at) {
          seen.set(key, at);
          cursor = Math.max(cursor, at);
          if (member.list_id === primary) remember(member.id, member.status);
          yield { type: 'record', record: memberToContact(member, primary, await primaryStatusOf(member)) };
        }
        if (next.buffer.length === 0 && !next.done) {
          yield checkpoint();
          await fill(next);
        }
      }
      yield checkpoint();
    },
  };
}

/** Campaigns sent to the configured audiences, ascending by send time, sent after `sinceMs`. */
async function* campaignsSince(
  config: SourceConfig,
  ctx: ConnectorContext,
  audiences: Set<string>,
  sinceMs: number | undefined,
): AsyncGenerator<CampaignInfo> {
  for (let offset = 0; ;) {
    const page = await mailchimpCall(ctx, config, 'campaigns.list', (mc) =>
      mc.campaigns.list({
        status: 'sent',
        sort_field: 'send_time',
        sort_dir: 'ASC',
        count: 1000,
        offset,
        ...(sinceMs === undefined ? {} : { since_send_time: mailchimpTime(sinceMs) }),
      }),
    );
    for (const campaign of page.campaigns) {
      if (!campaign.send_time) continue;
      if (campaign.recipients?.list_id && !audiences.has(campaign.recipients.list_id)) continue;
      yield campaign;
    }
    offset += page.campaigns.length;
    if (page.campaigns.length === 0 || offset >= page.total_items) return;
  }
}

type ReportPage = { events: EventRecord[]; fetched: number; total: number; latest: number };

/**
 * A stream of one campaign report. Records carry the campaign's send time as their cursor
 * (`properties.campaign_sent_at`): campaigns are read in send order, so the cursor only grows; an incremental read
 * revisits the campaigns sent within the activity window, where opens and clicks still arrive.
 */
function reportStream(
  name: string,
  fetchPage: (
    config: SourceConfig,
    ctx: ConnectorContext,
    campaign: CampaignInfo,
    offset: number,
    since: number | undefined,
  ) => Promise<ReportPage>,
): (config: SourceConfig) => StreamDefinition<SourceConfig> {
  return (streamConfig) => ({
    name,
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'properties.campaign_sent_at',
    modes: ['full_refresh', 'incremental'],
    overlap: streamConfig.activityWindowDays * 86_400_000,
    async *read({ config, mode, state }, ctx): AsyncGenerator<StreamMessage> {
      const window = config.activityWindowDays * 86_400_000;
      const incremental = mode === 'incremental' && typeof state?.cursor === 'string';
      const committed = incremental ? Date.parse(state.cursor as string) : undefined;
      const resume =
        incremental && typeof state?.campaign === 'string'
          ? { campaign: state.campaign, offset: Number(state.offset ?? 0) }
          : undefined;
      const previousLatest = incremental && typeof state?.latest === 'string' ? Date.parse(state.latest) : undefined;
      let latest = previousLatest ?? -Infinity;
      let cursor = state?.cursor ?? null;
      const audiences = new Set(await audiencesOf(config, ctx));
      const since = committed === undefined ? undefined : committed - window - SECOND;
      // Only a finished read moves `latest` on: a resumed one must still fetch what its campaigns gathered before it.
      const out = (extra: Record<string, unknown>, final = false): StreamMessage => {
        const seenUpTo = final ? latest : (previousLatest ?? -Infinity);
        return {
          type: 'state',
          state: {
            cursor,
            ...(Number.isFinite(seenUpTo) ? { latest: new Date(seenUpTo).toISOString() } : {}),
            ...extra,
          },
        };
      };
      for await (const campaign of campaignsSince(config, ctx, audiences, since)) {
        const sentAt = iso(campaign.send_time) as string;
        let offset = resume && resume.campaign === campaign.id ? resume.offset : 0;
        // Activity older than what the last run saw (less an hour of slack) was already read.
        const activitySince = previousLatest === undefined ? undefined : previousLatest - 3_600_000;
        for (;;) {
          const page = await fetchPage(config, ctx, campaign, offset, activitySince);
          for (const event of page.events) yield { type: 'record', record: event };
          latest = Math.max(latest, page.latest);
          offset += page.fetched;
          if (cursor === null || Date.parse(String(cursor)) < Date.parse(sentAt)) cursor = sentAt;
          if (page.fetched === 0 || offset >= page.total) break;
          yield out({ campaign: campaign.id, offset });
        }
        yield out({});
      }
      yield out({}, true);
    },
  });
}

function event(
  campaign: CampaignInfo,
  type: EventRecord['type'],
  id: string,
  occurredAt: string,
  email: string,
  hash: string,
  properties: Record<string, unknown> = {},
): EventRecord {
  return {
    kind: 'event',
    source: SOURCE,
    sourceEventId: id,
    type,
    occurredAt,
    contact: { email, externalId: hash },
    properties: {
      campaign_id: campaign.id,
      campaign_sent_at: iso(campaign.send_time),
      subject: campaign.settings?.subject_line ?? null,
      ...properties,
    },
  };
}

const ACTIVITY_TYPE: Record<string, EventRecord['type']> = {
  open: 'email_open',
  click: 'email_click',
  bounce: 'email_bounce',
};

const emailActivityStream = reportStream('email_activity', async (config, ctx, campaign, offset, since) => {
  const page = await mailchimpCall(ctx, config, 'reports.email_activity', (mc) =>
    mc.reports.getEmailActivityForCampaign(campaign.id, {
      count: config.pageSize,
      offset,
      ...(since === undefined ? {} : { since: mailchimpTime(since) }),
    }),
  );
  const events: EventRecord[] = [];
  let latest = -Infinity;
  for (const row of page.emails) {
    for (const a of row.activity) {
      const type = ACTIVITY_TYPE[a.action];
      const at = iso(a.timestamp);
      if (!type || !at) continue;
      latest = Math.max(latest, Date.parse(at));
      const props: Record<string, unknown> = {};
      if (a.url) props.url = a.url;
      if (a.type) props.bounce_type = a.type;
      const id = `${campaign.id}:${row.email_id}:${a.action}:${Date.parse(at) / SECOND}${a.url ? `:${createHash('md5').update(a.url).digest('hex').slice(0, 8)}` : ''}`;
      events.push(event(campaign, type, id, at, row.email_address, row.email_id, props));
    }
  }
  return { events, fetched: page.emails.length, total: page.total_items, latest };
});

const sendsStream = reportStream('sends', async (config, ctx, campaign, offset) => {
  const page = await mailchimpCall(ctx, config, 'reports.sent_to', (mc) =>
    mc.reports.getCampaignRecipients(campaign.id, { count: config.pageSize, offset }),
  );
  const at = iso(campaign.send_time) as string;
  const events = page.sent_to.map((row) =>
    event(campaign, 'email_sent', `${campaign.id}:${row.email_id}:sent`, at, row.email_address, row.email_id, {
      delivery_status: row.status,
    }),
  );
  return { events, fetched: page.sent_to.length, total: page.total_items, latest: -Infinity };
});

const unsubscribesStream = reportStream('unsubscribes', async (config, ctx, campaign, offset) => {
  const page = await mailchimpCall(ctx, config, 'reports.unsubscribed', (mc) =>
    mc.reports.getUnsubscribedListForCampaign(campaign.id, { count: config.pageSize, offset }),
  );
  const events = page.unsubscribes.flatMap((row) => {
    const at = iso(row.timestamp);
    return at
      ? [
          event(
            campaign,
            'email_unsubscribe',
            `${campaign.id}:${row.email_id}:unsubscribe`,
            at,
            row.email_address,
            row.email_id,
            { reason: row.reason ?? null },
          ),
        ]
      : [];
  });
  return { events, fetched: page.unsubscribes.length, total: page.total_items, latest: -Infinity };
});

/**
 * Store orders as purchases. Mailchimp cannot filter orders by time, so each read pages every order and keeps the new
 * ones, yielded as their pages arrive (a store's orders are never all held in memory) with one checkpoint at the end.
 */
function ordersStream(): StreamDefinition<SourceConfig> {
  return {
    name: 'orders',
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'occurredAt',
    modes: ['full_refresh', 'incremental'],
    overlap: 86_400_000,
    async *read({ config, mode, state }, ctx): AsyncGenerator<StreamMessage> {
      const from =
        mode === 'incremental' && typeof state?.cursor === 'string' ? Date.parse(state.cursor) - 86_400_000 : -Infinity;
      const audiences = new Set(await audiencesOf(config, ctx));
      const stores = await mailchimpCall(ctx, config, 'stores.list', (mc) => mc.ecommerce.stores({ count: 1000 }));
      let newest = typeof state?.cursor === 'string' ? state.cursor : null;
      for (const store of stores.stores.filter((s) => audiences.has(s.list_id))) {
        for (let offset = 0; ;) {
          const page = await mailchimpCall(ctx, config, 'orders.list', (mc) =>
            mc.ecommerce.getStoreOrders(store.id, { count: config.pageSize, offset }),
          );
          for (const order of page.orders) {
            const at = iso(order.processed_at_foreign);
            if (!at || Date.parse(at) < from) continue;
            const email = order.customer.email_address ?? null;
            if (!newest || Date.parse(at) > Date.parse(newest)) newest = at;
            const record: EventRecord = {
              kind: 'event',
              source: SOURCE,
              sourceEventId: `${store.id}:${order.id}`,
              type: 'purchase',
              occurredAt: at,
              contact: { email, externalId: email ? subscriberHash(email) : null },
              value: order.order_total,
              properties: {
                store_id: store.id,
                order_id: order.id,
                currency: order.currency_code,
                discount: order.discount_total ?? 0,
                category: order.lines?.[0]?.product_title ?? null,
                campaign_id: order.campaign_id || null,
                financial_status: order.financial_status ?? null,
              },
            };
            yield { type: 'record', record };
          }
          offset += page.orders.length;
          if (page.orders.length === 0 || offset >= page.total_items) break;
        }
      }
      yield { type: 'state', state: { cursor: newest } };
    },
  };
}

/** Parses `a=1&data[merges][FNAME]=Ada` into a flat map keyed by the bracketed path. */
function formFields(body: string): Map<string, string> {
  return new Map(new URLSearchParams(body).entries());
}

function tokenOf(url: string): string | null {
  try {
    return new URL(url, 'http://localhost').searchParams.get('token');
  } catch {
    return null;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Turns one form-encoded Mailchimp webhook into contact and event records. */
export function webhookRecords(body: string): SourceRecord[] {
  const form = formFields(body);
  const type = form.get('type');
  const firedAt = iso(form.get('fired_at')) ?? new Date().toISOString();
  const list = form.get('data[list_id]') ?? '';
  const email = form.get('data[email]') ?? form.get('data[new_email]') ?? '';
  if (!email) return [];
  const hash = subscriberHash(email);
  const merge = (key: string) => form.get(`data[merges][${key}]`) ?? undefined;
  const contact = (extra: { email_consent?: EmailConsent }, linkedIds?: string[]): ContactRecord => {
    const traits: ContactRecord['traits'] = { email, updated_at: firedAt };
    if (extra.email_consent) traits.email_consent = extra.email_consent;
    for (const [k, v] of [
      ['first_name', merge('FNAME')],
      ['last_name', merge('LNAME')],
      ['phone', merge('PHONE')],
    ] as const)
      if (v) traits[k] = v;
    if (list && typeof extra.email_consent === 'string') traits[`mailchimp_${list}_status`] = extra.email_consent;
    return {
      kind: 'contact',
      source: SOURCE,
      externalId: hash,
      traits,
      ...(linkedIds ? { linkedIds } : {}),
      raw: Object.fromEntries(form),
    };
  };
  const hookEvent = (kind: EventRecord['type'], properties: Record<string, unknown>): EventRecord => ({
    kind: 'event',
    source: SOURCE,
    sourceEventId: `webhook:${type}:${hash}:${Date.parse(firedAt) / SECOND}`,
    type: kind,
    occurredAt: firedAt,
    contact: { email, externalId: hash },
    properties: { list_id: list, ...properties },
  });
  switch (type) {
    case 'subscribe':
      return [contact({ email_consent: 'subscribed' })];
    case 'unsubscribe':
      return [
        contact({ email_consent: 'unsubscribed' }),
        hookEvent('email_unsubscribe', {
          campaign_id: form.get('data[campaign_id]') ?? null,
          reason: form.get('data[reason]') ?? null,
        }),
      ];
    case 'profile':
      return [contact({})];
    case 'cleaned': {
      const reason = form.get('data[reason]') ?? null;
      return [
        contact({ email_consent: 'cleaned' }),
        hookEvent('email_bounce', { campaign_id: form.get('data[campaign_id]') ?? null, reason, bounce_type: 'hard' }),
      ];
    }
    case 'upemail': {
      const old = form.get('data[old_email]');
      return [contact({}, old ? [subscriberHash(old)] : undefined)];
    }
    default:
      return [];
  }
}

/**
 * The Mailchimp source.
 *
 * @example
 * const config = { apiKey: process.env.MAILCHIMP_API_KEY, audienceIds: ['797e4195c7'] };
 * for await (const message of source.streams(sourceSpec.parse(config))[0].read({ config, mode: 'full_refresh', state: undefined }, ctx)) {}
 */
export const source = defineSource({
  name: 'mailchimp',
  spec: sourceSpec,
  rateBudget: MAILCHIMP_BUDGET,
  classifyError: classifyMailchimpError,
  async check(config, ctx) {
    try {
      await mailchimpCall(ctx, config, 'ping', (mc) => mc.ping.get());
      for (const listId of config.audienceIds ?? []) {
        try {
          await mailchimpCall(ctx, config, 'lists.get', (mc) => mc.lists.getList(listId));
        } catch (error) {
          if (statusOf(error) === 404)
            return { ok: false, reason: `audience ${listId} does not exist in this Mailchimp account` };
          throw error;
        }
      }
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: `Mailchimp: ${describe(error)}` };
    }
  },
  streams: (config) => [
    membersStream(),
    emailActivityStream(config),
    sendsStream(config),
    unsubscribesStream(config),
    ordersStream(),
  ],
  webhook: {
    verify(request: WebhookRequest, config) {
      if (!config.webhookSecret)
        return {
          ok: false,
          reason: 'no webhookSecret configured: Mailchimp webhooks carry no signature, only the token in the URL',
        };
      const token = tokenOf(request.url);
      if (token === null) return { ok: false, reason: 'the webhook URL has no token' };
      if (!sameSecret(token, config.webhookSecret)) return { ok: false, reason: 'the webhook token does not match' };
      return { ok: true };
    },
    parse(request: WebhookRequest) {
      if (request.method.toUpperCase() === 'GET')
        return { records: [], response: { status: 200, body: 'ok', contentType: 'text/plain' } };
      return {
        records: webhookRecords(request.body),
        response: { status: 200, body: 'ok', contentType: 'text/plain' },
      };
    },
  },
});

export type { ConnectionConfig };
