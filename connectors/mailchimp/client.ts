/**
 * Client setup. `@mailchimp/mailchimp_marketing` exports one process-wide client whose `setConfig` and `basePath`
 * every caller shares; its module also holds the `ApiClient` class behind that singleton, whose constructor builds
 * a complete, independent set of API groups. We build one instance per account (API key + base path), so two
 * accounts in one process never see each other's key, and we never touch the shared singleton. Calls go through
 * `ctx.call` and through a per-account slot pool that keeps at most 10 requests in flight, as Mailchimp allows.
 */
import { createRequire } from 'node:module';
import { z } from 'zod';
import {
  ConfigError,
  RateLimitedError,
  RejectedRowError,
  TransientError,
  reasonOf,
  secret,
  type ConnectorContext,
} from '../../plugins/index.js';

/** The part of the SDK's API groups this connector uses (the SDK's own typings miss most of them). */
export interface MailchimpClient {
  basePath: string;
  setConfig(config: { apiKey: string; server: string }): void;
  ping: { get(): Promise<unknown> };
  lists: {
    getAllLists(
      opts?: Record<string, unknown>,
    ): Promise<{ lists: { id: string; name: string }[]; total_items: number }>;
    getList(listId: string): Promise<{ id: string; name: string }>;
    getListMembersInfo(listId: string, opts?: Record<string, unknown>): Promise<MembersPage>;
    getListMember(listId: string, hash: string, opts?: Record<string, unknown>): Promise<MailchimpMember>;
    batchListMembers(listId: string, body: BatchSubscribeBody): Promise<BatchSubscribeResult>;
    listSegments(
      listId: string,
      opts?: Record<string, unknown>,
    ): Promise<{ segments: SegmentInfo[]; total_items: number }>;
    createSegment(listId: string, body: { name: string; static_segment: string[] }): Promise<SegmentInfo>;
    batchSegmentMembers(
      body: { members_to_add?: string[]; members_to_remove?: string[] },
      listId: string,
      segmentId: number,
    ): Promise<SegmentMembersResult>;
    getSegmentMembersList(
      listId: string,
      segmentId: number,
      opts?: Record<string, unknown>,
    ): Promise<{ members: MailchimpMember[]; total_items: number }>;
    updateListMemberTags(
      listId: string,
      hash: string,
      body: { tags: { name: string; status: 'active' | 'inactive' }[] },
    ): Promise<unknown>;
    deleteListMemberPermanent(listId: string, hash: string): Promise<unknown>;
  };
  campaigns: { list(opts?: Record<string, unknown>): Promise<{ campaigns: CampaignInfo[]; total_items: number }> };
  reports: {
    getEmailActivityForCampaign(
      campaignId: string,
      opts?: Record<string, unknown>,
    ): Promise<{ emails: EmailActivity[]; total_items: number }>;
    getCampaignRecipients(
      campaignId: string,
      opts?: Record<string, unknown>,
    ): Promise<{ sent_to: SentTo[]; total_items: number }>;
    getUnsubscribedListForCampaign(
      campaignId: string,
      opts?: Record<string, unknown>,
    ): Promise<{ unsubscribes: Unsubscribe[]; total_items: number }>;
  };
  ecommerce: {
    stores(
      opts?: Record<string, unknown>,
    ): Promise<{ stores: { id: string; list_id: string; currency_code: string }[]; total_items: number }>;
    getStoreOrders(
      storeId: string,
      opts?: Record<string, unknown>,
    ): Promise<{ orders: StoreOrder[]; total_items: number }>;
  };
}

export interface MailchimpMember {
  id: string;
  email_address: string;
  status: string;
  merge_fields?: Record<string, unknown>;
  tags?: { id: number; name: string }[];
  member_rating?: number;
  language?: string;
  location?: { country_code?: string; timezone?: string; latitude?: number; longitude?: number };
  timestamp_opt?: string;
  timestamp_signup?: string;
  last_changed: string;
  list_id: string;
  vip?: boolean;
  source?: string;
  stats?: Record<string, unknown>;
  [key: string]: unknown;
}
export interface MembersPage {
  members: MailchimpMember[];
  total_items: number;
}
export interface BatchSubscribeBody {
  members: { email_address: string; status: string; merge_fields?: Record<string, unknown> }[];
  update_existing: boolean;
}
export interface BatchSubscribeResult {
  new_members: MailchimpMember[];
  updated_members: MailchimpMember[];
  errors: { email_address: string; error: string; error_code?: string }[];
  error_count: number;
}
export interface SegmentInfo {
  id: number;
  name: string;
  type: string;
  member_count: number;
}
export interface SegmentMembersResult {
  members_added?: MailchimpMember[];
  members_removed?: MailchimpMember[];
  errors?: { email_addresses?: string[]; error: string }[];
  total_added?: number;
  total_removed?: number;
  error_count?: number;
}
export interface CampaignInfo {
  id: string;
  send_time: string;
  status: string;
  recipients?: { list_id?: string };
  settings?: { subject_line?: string; title?: string };
}
export interface EmailActivity {
  email_id: string;
  email_address: string;
  list_id: string;
  activity: { action: string; timestamp: string; url?: string; type?: string }[];
}
export interface SentTo {
  email_id: string;
  email_address: string;
  status: string;
  list_id: string;
}
export interface Unsubscribe {
  email_id: string;
  email_address: string;
  timestamp: string;
  reason?: string;
  list_id: string;
}
export interface StoreOrder {
  id: string;
  customer: { id: string; email_address?: string };
  campaign_id?: string;
  currency_code: string;
  order_total: number;
  discount_total?: number;
  processed_at_foreign: string;
  financial_status?: string;
  lines?: { product_title?: string; product_id?: string }[];
}

/** Connection settings shared by the source and the destination. */
export const connectionSpec = z.object({
  /** `<key>-<dc>`: the suffix after the last dash is the data centre (`us21`). */
  apiKey: secret(z.string().regex(/^[^\s-]+-[a-z]+\d+$/, 'a Mailchimp API key ends in its data centre, like "…-us21"')),
  /** The API root; `server` in it is replaced by the key's data centre. Point it at a sandbox for tests. */
  basePath: z.string().url().default('https://server.api.mailchimp.com/3.0'),
});
export type ConnectionConfig = z.infer<typeof connectionSpec>;

/** Mailchimp allows 10 simultaneous connections per user. */
export const MAX_CONNECTIONS = 10;

type ApiClientClass = new () => MailchimpClient;
const require = createRequire(import.meta.url);
const ApiClient = require('@mailchimp/mailchimp_marketing/src/ApiClient.js') as ApiClientClass;

const clients = new Map<string, MailchimpClient>();
const slots = new Map<string, Slots>();

/** The data centre of an API key (`…-us21` → `us21`). */
export function dataCenterOf(apiKey: string): string {
  return apiKey.slice(apiKey.lastIndexOf('-') + 1);
}

/** An SDK client of its own for this account; the SDK's shared singleton is left alone. */
export function clientFor(config: ConnectionConfig): MailchimpClient {
  const key = `${config.basePath}\u0000${config.apiKey}`;
  let client = clients.get(key);
  if (!client) {
    client = new ApiClient();
    client.setConfig({ apiKey: config.apiKey, server: dataCenterOf(config.apiKey) });
    client.basePath = config.basePath.replace(/\/+$/, '');
    clients.set(key, client);
  }
  return client;
}

/**
 * Bare 403s in a row for one request after which it is not throttling any more: Mailchimp's edge also answers a bare
 * 403 when it blocks an account or an address. With the default backoff that is about two minutes of refusals.
 */
const BLOCKED_AFTER_BARE_403S = 12;

/** A counting semaphore: at most `size` holders at once, in arrival order. */
class Slots {
  private held = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly size: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.held >= this.size) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.held++;
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.held--;
    }
  }
}

/**
 * Runs one SDK call for an account through the connection's context (budget, retries, classification) and the
 * account's 10 connection slots, which every connection of the same account in this process shares.
 *
 * @example
 * const page = await mailchimpCall(ctx, config, 'members.list', (mc) => mc.lists.getListMembersInfo(listId, { count: 1000 }));
 */
export function mailchimpCall<T>(
  ctx: ConnectorContext,
  config: ConnectionConfig,
  operation: string,
  request: (client: MailchimpClient) => Promise<T>,
): Promise<T> {
  const client = clientFor(config);
  const account = config.apiKey;
  let pool = slots.get(account);
  if (!pool) slots.set(account, (pool = new Slots(MAX_CONNECTIONS)));
  const shared = pool;
  let bare403s = 0;
  return ctx.call(operation, () =>
    shared.run(async () => {
      try {
        return await request(client);
      } catch (error) {
        if (statusOf(error) === 403 && !problemOf(error) && ++bare403s >= BLOCKED_AFTER_BARE_403S)
          throw new ConfigError(
            `Mailchimp's edge refused ${operation} ${bare403s} times in a row with a bare 403: more than throttling, the account or this server's address may be blocked`,
            {
              cause: error,
              fix: 'check the account in Mailchimp (suspended, or API access blocked for this address) and whether other apps hold all 10 connections; the rows stay pending for the next run',
            },
          );
        throw error;
      }
    }),
  );
}

/** The problem+json body of a rejected SDK call, when it has one. */
export function problemOf(
  error: unknown,
): { status?: number; title?: string; detail?: string; errors?: unknown } | undefined {
  const e = error as { response?: { body?: unknown }; cause?: { response?: { body?: unknown } } } | null;
  const body = e?.response?.body ?? e?.cause?.response?.body;
  return body && typeof body === 'object' && ('title' in body || 'detail' in body)
    ? (body as { title?: string; detail?: string })
    : undefined;
}

/** HTTP status of a rejected SDK call (superagent puts it on the error). */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A message built from Mailchimp's problem body: never the request, which carries the key. */
export function describe(error: unknown): string {
  const p = problemOf(error);
  const status = statusOf(error);
  if (p) return `${status ?? ''} ${p.title ?? ''}: ${p.detail ?? ''}`.trim();
  return status !== undefined ? `HTTP ${status}` : reasonOf(error);
}

/**
 * Turns the SDK's rejection into our taxonomy: 429 and a bare 403 (no problem+json) are throttles to wait out;
 * 401 and a 403 with a problem body are configuration errors; 5xx and network failures are transient; other 4xx
 * are the caller's to judge (kept as is).
 */
export function classifyMailchimpError(error: unknown): Error | undefined {
  if (
    error instanceof ConfigError ||
    error instanceof RateLimitedError ||
    error instanceof TransientError ||
    error instanceof RejectedRowError
  )
    return error;
  const status = statusOf(error);
  const message = describe(error);
  if (status === 429) return new RateLimitedError(`Mailchimp throttled the request: ${message}`, { cause: error });
  if (status === 403 && !problemOf(error))
    return new RateLimitedError('Mailchimp throttled the request (bare 403)', { cause: error });
  if (status === 401 || status === 403) {
    return new ConfigError(`Mailchimp refused the credentials: ${message}`, {
      cause: error,
      fix: 'set the API key (with its -dc suffix) of a user who can reach the audience',
    });
  }
  if (status !== undefined && status >= 500)
    return new TransientError(`Mailchimp server error: ${message}`, { cause: error });
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ECONNABORTED)$/.test(code)) {
    return new TransientError(`network: ${code}`, { cause: error });
  }
  if (status !== undefined) {
    const plain = new Error(`Mailchimp ${message}`, { cause: error });
    (plain as Error & { status?: number }).status = status;
    return plain;
  }
  return undefined;
}

/** The rate budget of a Mailchimp connection: no published request rate, 10 simultaneous connections. */
export const MAILCHIMP_BUDGET = { concurrency: MAX_CONNECTIONS };
