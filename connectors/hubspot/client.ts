/**
 * The HubSpot connection: the SDK client (its own retries off, so every request goes through `ctx.call`), the
 * private-app token or OAuth with refresh ahead of expiry and once on a 401, a pacer for the search endpoints'
 * per-second limit, HubSpot's daily usage fed to the budget, and error classification.
 */
import { Client } from '@hubspot/api-client';
import { z } from 'zod';
import {
  ConfigError,
  RateLimitedError,
  TransientError,
  reasonOf,
  secret,
  type CheckResult,
  type ConnectorContext,
  type RateBudget,
} from '../../plugins/index.js';

/** The config both the source and the destination take. */
export const hubspotSpec = z.object({
  /** A private-app token; or use the OAuth fields. */
  accessToken: secret(z.string().min(1)).optional(),
  clientId: z.string().min(1).optional(),
  /** The app's client secret: OAuth refreshes, and the key HubSpot signs webhooks with (webhooks are refused without it). */
  clientSecret: secret(z.string().min(1)).optional(),
  refreshToken: secret(z.string().min(1)).optional(),
  /**
   * The public URL HubSpot posts webhooks to, when segflow sits behind a proxy that changes it (the v3 signature
   * covers the URL HubSpot called); default the URL the request arrived on.
   */
  webhookUrl: z.string().url().optional(),
  /** API base URL, no trailing slash (a sandbox); default https://api.hubapi.com. */
  basePath: z.string().url().optional(),
  /** Extra contact properties to read, besides the canonical ones. */
  properties: z.array(z.string()).default([]),
  /** Where a first read starts (ISO date); default the beginning. */
  startDate: z.string().optional(),
  /**
   * Hours between id reconciliations: a full listing of contact ids that finds contacts GDPR-deleted since the last
   * one (they vanish without an archived trace) and reads them as deleted. 0 reconciles on every read.
   */
  reconcileEveryHours: z.number().min(0).default(24),
  /**
   * Custom behavioural event types to read through the Events API (Enterprise portals); empty reads every custom
   * (`pe…`) type the portal defines. A portal without them answers 403 and the stream reads nothing.
   */
  customEventTypes: z.array(z.string()).default([]),
  /** Also read emails logged on the CRM (as `custom` events named crm_email). */
  loggedEmails: z.boolean().default(false),
  /** Search requests per second the connector allows itself (HubSpot allows about 5). */
  searchPerSecond: z.number().positive().default(4),
  /** List name per segment key; default the segment's name with `listPrefix`. */
  lists: z.record(z.string(), z.string()).default({}),
  listPrefix: z.string().default(''),
  /** Create contacts missing in HubSpot (batch upsert on email) before adding them to a list. */
  createMissingContacts: z.boolean().default(false),
  /** A contact property (created when missing) written from the change's trait of the same name. */
  segmentProperty: z.string().optional(),
});
export type HubSpotConfig = z.infer<typeof hubspotSpec>;

/** HubSpot's default private-app budget, kept just under 100 per 10 s so arrival jitter never crosses it. */
export const HUBSPOT_BUDGET: RateBudget = { requests: 100, intervalMs: 10_200, daily: 250_000, concurrency: 4 };

/** What `apiRequest` failures and SDK `ApiException`s share. */
interface HttpFailure {
  code: number;
  body?: unknown;
  headers?: Record<string, string>;
  message: string;
}

export class HubSpotHttpError extends Error implements HttpFailure {
  constructor(
    readonly code: number,
    readonly body: unknown,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP-Code: ${code}\nMessage: ${messageIn(body) ?? 'request failed'}`);
    this.name = 'HubSpotHttpError';
  }
}

function asHttpFailure(error: unknown): HttpFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'number' || code < 100 || code > 599) return undefined;
  return error as HttpFailure;
}

/** An error answer's body: HubSpot's JSON error, or the text of a page that is not JSON (a gateway's HTML). */
function parseErrorBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    return { message: title || text.slice(0, 200) };
  }
}

function messageIn(body: unknown): string | undefined {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : undefined;
}

/** HTTP status of an SDK failure, after `ctx.call` classified it. */
export function statusOf(error: unknown): number | undefined {
  const direct = asHttpFailure(error);
  if (direct) return direct.code;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause === undefined ? undefined : asHttpFailure(cause)?.code;
}

/** HubSpot's message of an SDK failure. */
export function hubspotMessage(error: unknown): string {
  const failure = asHttpFailure(error) ?? asHttpFailure((error as { cause?: unknown } | null)?.cause);
  return messageIn(failure?.body) ?? reasonOf(error);
}

/**
 * Turns the SDK's `ApiException` into the contract's errors. The SDK keeps only its own model's fields of an error
 * body (policyName is dropped), so the 429 policy is read from the message and the rate-limit headers.
 */
export function classifyHubSpotError(error: unknown): Error | undefined {
  const failure = asHttpFailure(error);
  if (!failure) return undefined;
  const message = messageIn(failure.body) ?? 'no message';
  const headers = failure.headers ?? {};
  if (failure.code === 429) {
    const policy = (failure.body as { policyName?: string } | undefined)?.policyName ?? '';
    if (policy === 'DAILY' || /daily/i.test(message) || headers['x-hubspot-ratelimit-daily-remaining'] === '0') {
      return new RateLimitedError(`HubSpot daily limit reached: ${message}`, {
        scope: 'daily',
        cause: error,
        fix: "wait until tomorrow, or raise the portal's API limit",
      });
    }
    const retryAfter = Number(headers['retry-after']);
    return new RateLimitedError(`HubSpot rate limit: ${message}`, {
      cause: error,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000,
    });
  }
  if (failure.code >= 500)
    return new TransientError(`HubSpot server error ${failure.code}: ${message}`, { cause: error });
  if (failure.code === 401) {
    return new ConfigError(`HubSpot refused the credentials: ${message}`, {
      cause: error,
      details: { status: 401 },
      fix: 'set a valid private-app token, or OAuth client id, secret and refresh token',
    });
  }
  if (failure.code === 403) {
    return new ConfigError(`HubSpot refused the request (missing scopes?): ${message}`, {
      cause: error,
      details: { status: 403 },
      fix: 'grant the app the crm.objects.contacts, crm.lists and content scopes',
    });
  }
  return undefined;
}

const EXPIRY_MARGIN_MS = 5 * 60_000;

/** One HubSpot connection: a client, its token and its search pacer. */
export class HubSpotConnection {
  readonly client: Client;
  private expiresAt = 0;
  private refreshing: Promise<void> | undefined;
  private readonly searches: number[] = [];

  constructor(readonly config: HubSpotConfig) {
    if (!config.accessToken && !(config.clientId && config.clientSecret && config.refreshToken)) {
      throw new ConfigError('HubSpot needs a private-app token or OAuth credentials', {
        fix: 'set accessToken, or clientId, clientSecret and refreshToken',
      });
    }
    this.client = new Client({
      ...(config.accessToken ? { accessToken: config.accessToken } : {}),
      ...(config.basePath ? { basePath: config.basePath.replace(/\/+$/, '') } : {}),
      numberOfApiCallRetries: 0,
    });
    // The SDK loads its API modules on first use; loading them inside the first timed request would make requests
    // leave long after the budget counted them, bunching their arrival at HubSpot.
    void [
      this.client.crm.contacts.basicApi,
      this.client.crm.deals.basicApi,
      this.client.crm.lists.membershipsApi,
      this.client.crm.associations.v4.batchApi,
      this.client.crm.associations.v4.basicApi,
      this.client.crm.objects.meetings.basicApi,
      this.client.crm.objects.calls.basicApi,
    ];
  }

  private get oauth(): boolean {
    return !this.config.accessToken;
  }

  /** Refreshes the OAuth token when it is missing or expires within five minutes. */
  private async ensureToken(ctx: ConnectorContext, force = false): Promise<void> {
    if (!this.oauth) return;
    if (!force && this.expiresAt - ctx.clock.now() > EXPIRY_MARGIN_MS) return;
    this.refreshing ??= (async () => {
      const { clientId, clientSecret, refreshToken } = this.config;
      const token = await ctx.call('oauth.refresh', () =>
        this.client.oauth.tokensApi.create('refresh_token', undefined, undefined, clientId, clientSecret, refreshToken),
      );
      this.client.setAccessToken(token.accessToken);
      this.expiresAt = ctx.clock.now() + token.expiresIn * 1000;
      ctx.logger.info('HubSpot access token refreshed', { connection: ctx.connection, expiresInS: token.expiresIn });
    })().finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  /** Runs one SDK call through `ctx.call`; with OAuth, a 401 refreshes the token once and retries. */
  async run<T>(ctx: ConnectorContext, operation: string, request: (client: Client) => Promise<T>): Promise<T> {
    await this.ensureToken(ctx);
    if (operation.endsWith('.search')) await this.paceSearch(ctx);
    try {
      return await ctx.call(operation, () => request(this.client));
    } catch (error) {
      if (!this.oauth || statusOf(error) !== 401) throw error;
      ctx.logger.warn('HubSpot answered 401, refreshing the token once', { connection: ctx.connection, operation });
      await this.ensureToken(ctx, true);
      return ctx.call(operation, () => request(this.client));
    }
  }

  /** A raw request (APIs the SDK has no method for), failing like the SDK does on a non-2xx answer. */
  async raw<T>(ctx: ConnectorContext, operation: string, path: string, qs: Record<string, string>): Promise<T> {
    return this.run(ctx, operation, async (client) => {
      const response = await client.apiRequest({ method: 'GET', path, qs });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const text = await response.text();
      // The status first: HubSpot's edge answers 502/504 with an HTML page, which is a failure to retry, not JSON.
      if (!response.ok) throw new HubSpotHttpError(response.status, parseErrorBody(text), headers);
      observeDaily(ctx, headers);
      return (text ? JSON.parse(text) : undefined) as T;
    });
  }

  /** Holds search requests to `searchPerSecond` in any rolling second. */
  private async paceSearch(ctx: ConnectorContext): Promise<void> {
    const cap = Math.max(1, Math.floor(this.config.searchPerSecond));
    for (;;) {
      const now = ctx.clock.now();
      while (this.searches.length > 0 && (this.searches[0] ?? 0) <= now - 1000) this.searches.shift();
      if (this.searches.length < cap) break;
      await ctx.clock.sleep((this.searches[0] ?? now) + 1001 - now, ctx.signal);
    }
    this.searches.push(ctx.clock.now());
  }
}

/** Feeds HubSpot's own daily counters to the connection's budget. */
export function observeDaily(ctx: ConnectorContext, headers: Record<string, string> | Headers | undefined): void {
  if (!headers) return;
  const get = (name: string) =>
    typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get(name)
      : (headers as Record<string, string>)[name];
  const limit = Number(get('x-hubspot-ratelimit-daily'));
  const remaining = Number(get('x-hubspot-ratelimit-daily-remaining'));
  if (Number.isFinite(limit) && limit > 0 && Number.isFinite(remaining))
    ctx.observeDailyUsage(limit - remaining, limit);
}

const connections = new WeakMap<object, HubSpotConnection>();

/** The connection for a parsed config (one per config object, so a run shares its token and pacer). */
export function connectionFor(config: HubSpotConfig): HubSpotConnection {
  let connection = connections.get(config);
  if (!connection) {
    connection = new HubSpotConnection(config);
    connections.set(config, connection);
  }
  return connection;
}

/** Proves the token (or OAuth grant) can read contacts: what both the source and the destination check. */
export async function checkHubSpot(config: HubSpotConfig, ctx: ConnectorContext): Promise<CheckResult> {
  try {
    await connectionFor(config).run(ctx, 'contacts.list', (client) => client.crm.contacts.basicApi.getPage(1));
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: hubspotMessage(error) };
  }
}
