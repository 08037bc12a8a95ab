/**
 * The Salesforce connection a source or destination uses: the config spec (access token + instance URL, OAuth
 * password flow, or JWT bearer flow), a jsforce Connection on API version 62.0 with jsforce's own retries switched
 * off, every request run through `ctx.call`, `Sforce-Limit-Info` fed to the daily budget, and an expired session
 * (INVALID_SESSION_ID) re-authenticated once before the call is tried again.
 */
import { createSign } from 'node:crypto';
import { Connection } from 'jsforce';
import { z } from 'zod';
import {
  ConfigError,
  RateLimitedError,
  TransientError,
  classifyByDefault,
  reasonOf,
  secret,
  type CheckResult,
  type ConnectorContext,
} from '../../plugins/index.js';

/** The API version every request uses (jsforce's default is 50.0). */
export const API_VERSION = '62.0';

/**
 * Config of a Salesforce connection. Give `instanceUrl` + `accessToken`, or `clientId` + `clientSecret` +
 * `username` + `password` (password with the security token appended), or `clientId` + `username` + `privateKey`
 * (JWT bearer flow).
 *
 * @example
 * { loginUrl: 'https://login.salesforce.com', clientId: '3MVG…', clientSecret: '${SF_SECRET}',
 *   username: 'ops@acme.com', password: '${SF_PASSWORD}' }
 */
export const salesforceSpec = z.object({
  loginUrl: z.string().url().default('https://login.salesforce.com'),
  /**
   * The JWT bearer flow's `aud`: https://login.salesforce.com for a production org, https://test.salesforce.com for a
   * sandbox org, or an Experience Cloud site's URL; never the My Domain URL the token is posted to. Default: test for a
   * test.salesforce.com or `*.sandbox.my.salesforce.com` login URL, else login.
   */
  audience: z.string().url().optional(),
  instanceUrl: z.string().url().optional(),
  accessToken: secret(z.string().min(1)).optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: secret(z.string().min(1)).optional(),
  username: z.string().min(1).optional(),
  password: secret(z.string().min(1)).optional(),
  privateKey: secret(z.string().min(1)).optional(),
  /** The org id outbound messages must carry (15 or 18 characters). */
  organizationId: z.string().min(15).max(18).optional(),
  /** Extra Contact / Lead fields to read into traits. */
  contactFields: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
  leadFields: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
  /** How far behind the committed SystemModstamp an incremental read starts again (ms). */
  overlapMs: z.number().int().nonnegative().default(300_000),
  /** Share of the org's daily allocation left untouched for other integrations (0 … 0.5). */
  dailyReserve: z.number().min(0).max(0.5).default(0.05),
  /** How membership is written: CampaignMember rows in a Campaign named after the segment, or a field. */
  membership: z
    .object({
      mode: z.enum(['campaign', 'field']).default('campaign'),
      /** In field mode: the Contact/Lead field holding the segment names (semicolon-separated). */
      field: z.string().default('Segments__c'),
      /** CampaignMember Status of added members. */
      memberStatus: z.string().default('Sent'),
      /** The Account field holding the names of the account segments it is in (semicolon-separated). */
      accountField: z.string().default('Segments__c'),
    })
    .prefault({}),
  /** Create a Lead for a segment member who is not in Salesforce (otherwise they are skipped, with the reason). */
  createLeads: z.boolean().default(false),
  /** Company given to created Leads when the contact has none (Lead.Company is required). */
  leadCompany: z.string().default('[not provided]'),
});
export type SalesforceConfig = z.infer<typeof salesforceSpec>;

/** A Salesforce API error as jsforce throws it (`HttpApiError`): named after Salesforce's errorCode. */
interface SalesforceApiError {
  name: string;
  errorCode?: string;
  message: string;
}

const TRANSIENT_CODES = new Set([
  'SERVER_UNAVAILABLE',
  'UNKNOWN_EXCEPTION',
  'UNABLE_TO_LOCK_ROW',
  'QUERY_TIMEOUT',
  'REQUEST_RUNNING_TOO_LONG',
]);
const CONFIG_CODES = new Set([
  'MALFORMED_QUERY',
  'INVALID_FIELD',
  'INVALID_TYPE',
  'INSUFFICIENT_ACCESS',
  'API_DISABLED_FOR_ORG',
  'NOT_FOUND',
  'INVALID_AUTH_HEADER',
]);
const OAUTH_CODES = new Set([
  'invalid_grant',
  'invalid_client_id',
  'invalid_client',
  'unsupported_grant_type',
  'inactive_user',
  'inactive_org',
]);

/**
 * Turns what jsforce throws into segflow's error taxonomy. jsforce's `HttpApiError` carries Salesforce's errorCode
 * but no HTTP status, so the code decides.
 *
 * @example
 * classifySalesforceError(Object.assign(new Error('TotalRequests Limit exceeded.'), { errorCode: 'REQUEST_LIMIT_EXCEEDED' }))
 * // → RateLimitedError with scope 'daily'
 */
export function classifySalesforceError(error: unknown): Error | undefined {
  if (typeof error !== 'object' || error === null || !(error instanceof Error)) return undefined;
  const e = error as SalesforceApiError;
  const code = e.errorCode ?? e.name;
  // One code, two limits: TotalRequests is the day's allocation; ConcurrentPerOrgLongTxn / ConcurrentRequests pass
  // in seconds, once the org's long-running requests finish.
  if (code === 'REQUEST_LIMIT_EXCEEDED' && /concurrent/i.test(e.message)) {
    return new RateLimitedError(`Salesforce concurrent request limit (REQUEST_LIMIT_EXCEEDED): ${e.message}`, {
      cause: error,
      retryAfterMs: 2_000,
      details: { errorCode: code },
    });
  }
  if (code === 'REQUEST_LIMIT_EXCEEDED') {
    return new RateLimitedError(`Salesforce daily API request limit reached (REQUEST_LIMIT_EXCEEDED): ${e.message}`, {
      scope: 'daily',
      cause: error,
      fix: "wait for the org's 24-hour allocation to roll over, or raise it in Salesforce",
      details: { errorCode: code },
    });
  }
  if (code === 'INVALID_SESSION_ID') {
    return new ConfigError('Salesforce session expired or invalid (INVALID_SESSION_ID)', {
      cause: error,
      fix: 'give credentials segflow can log in with (password or JWT flow), or a fresh access token',
      details: { errorCode: code },
    });
  }
  if (OAUTH_CODES.has(code)) {
    return new ConfigError(`Salesforce refused the login (${code}): ${e.message}`, {
      cause: error,
      fix: 'check the connected app (clientId/clientSecret or its certificate) and the user name and password + security token',
      details: { errorCode: code },
    });
  }
  if (TRANSIENT_CODES.has(code) || /^ERROR_HTTP_(5\d\d|408)$/.test(code)) {
    return new TransientError(`Salesforce ${code}: ${e.message}`, { cause: error, details: { errorCode: code } });
  }
  if (code === 'ERROR_HTTP_429' || code === 'ERROR_HTTP_420') {
    return new RateLimitedError(`Salesforce throttled the request (${code})`, { cause: error });
  }
  if (CONFIG_CODES.has(code)) {
    return new ConfigError(`Salesforce ${code}: ${e.message}`, {
      cause: error,
      fix: 'check the objects and fields named in the connection config exist and the user may read them',
      details: { errorCode: code },
    });
  }
  // jsforce names a response without Salesforce's error body by its status only, with the body (often empty) as message.
  const status = /^ERROR_HTTP_(\d{3})$/.exec(code)?.[1];
  if (status && !e.message) return new Error(`Salesforce answered HTTP ${status} with an empty body`, { cause: error });
  return classifyByDefault(error);
}

const NO_RETRY = { maxRetries: 0, methods: [], statusCodes: [] };

/** The jsforce Connection of one connection config, authenticated lazily, with its requests run through `ctx`. */
export class SalesforceSession {
  private conn: Connection | undefined;
  private authenticating: Promise<Connection> | undefined;
  /** The org id the login answered with. */
  organizationId: string | undefined;

  constructor(
    private readonly config: SalesforceConfig,
    private readonly ctx: ConnectorContext,
  ) {}

  /** Whether this config can log in again (password or JWT), as opposed to a bare access token. */
  get canReauthenticate(): boolean {
    const c = this.config;
    return Boolean(c.clientId && c.username && ((c.clientSecret && c.password) || c.privateKey));
  }

  /**
   * Runs one request through `ctx.call` (rate budget, retries, classification); an expired session is
   * re-authenticated once and the request tried again.
   */
  async call<T>(operation: string, request: (conn: Connection) => Promise<T>): Promise<T> {
    const conn = await this.connection();
    try {
      return await this.once(operation, conn, request);
    } catch (error) {
      if (!isSessionExpiry(error) || !this.canReauthenticate) throw error;
      this.ctx.logger.warn('Salesforce session expired, logging in again', {
        connection: this.ctx.connection,
        operation,
      });
      const fresh = await this.authenticate(conn);
      return await this.once(operation, fresh, request);
    }
  }

  private once<T>(operation: string, conn: Connection, request: (conn: Connection) => Promise<T>): Promise<T> {
    return this.ctx.call(operation, async () => {
      try {
        return await request(conn);
      } finally {
        const usage = conn.limitInfo.apiUsage;
        if (usage) this.ctx.observeDailyUsage(usage.used, Math.floor(usage.limit * (1 - this.config.dailyReserve)));
      }
    });
  }

  async connection(): Promise<Connection> {
    if (this.conn) return this.conn;
    return this.authenticate(undefined);
  }

  /** Logs in (again); concurrent callers share one login. `stale` is the connection whose session expired. */
  private authenticate(stale: Connection | undefined): Promise<Connection> {
    if (this.conn && this.conn !== stale) return Promise.resolve(this.conn);
    this.authenticating ??= this.login().finally(() => {
      this.authenticating = undefined;
    });
    return this.authenticating;
  }

  private async login(): Promise<Connection> {
    const c = this.config;
    let instanceUrl: string;
    let accessToken: string;
    if (c.clientId && c.username && c.privateKey) {
      const auth = new Connection({
        loginUrl: c.loginUrl,
        version: API_VERSION,
        oauth2: { clientId: c.clientId, loginUrl: c.loginUrl },
      });
      const info = await this.ctx.call('oauth.jwt', () =>
        auth.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion(c) }),
      );
      this.organizationId = info.organizationId;
      ({ instanceUrl, accessToken } = established(auth));
    } else if (c.clientId && c.clientSecret && c.username && c.password) {
      const auth = new Connection({
        loginUrl: c.loginUrl,
        version: API_VERSION,
        oauth2: { clientId: c.clientId, clientSecret: c.clientSecret, loginUrl: c.loginUrl },
      });
      const username = c.username;
      const password = c.password;
      const info = await this.ctx.call('oauth.password', () => auth.login(username, password));
      this.organizationId = info.organizationId;
      ({ instanceUrl, accessToken } = established(auth));
    } else if (c.instanceUrl && c.accessToken) {
      if (this.conn)
        throw new ConfigError('Salesforce session expired and the config has no credentials to log in again');
      instanceUrl = c.instanceUrl;
      accessToken = c.accessToken;
    } else {
      throw new ConfigError('Salesforce config has no usable credentials', {
        fix: 'give instanceUrl + accessToken, or clientId + clientSecret + username + password, or clientId + username + privateKey',
      });
    }
    // No oauth2 client on the data connection: jsforce would otherwise refresh and retry a 401 on its own.
    const conn = new Connection({ instanceUrl, accessToken, version: API_VERSION });
    const transport = conn._transport;
    const send = transport.httpRequest.bind(transport);
    transport.httpRequest = (req, options = {}) => send(req, { ...options, retry: NO_RETRY });
    this.conn = conn;
    return conn;
  }
}

function established(auth: Connection): { instanceUrl: string; accessToken: string } {
  if (!auth.accessToken || !auth.instanceUrl) throw new ConfigError('Salesforce login answered without a session');
  return { instanceUrl: auth.instanceUrl, accessToken: auth.accessToken };
}

function isSessionExpiry(error: unknown): boolean {
  return error instanceof ConfigError && error.details.errorCode === 'INVALID_SESSION_ID';
}

/** An RS256 JWT bearer assertion for the connected app, valid for three minutes. */
function jwtAssertion(config: SalesforceConfig): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const audience =
    config.audience ??
    (/(^|\.)test\.salesforce\.com$|\.sandbox\.my\.salesforce\.com$/.test(new URL(config.loginUrl).hostname)
      ? 'https://test.salesforce.com'
      : 'https://login.salesforce.com');
  const body = `${encode({ alg: 'RS256' })}.${encode({ iss: config.clientId, sub: config.username, aud: audience, exp: Math.floor(Date.now() / 1000) + 180 })}`;
  const signer = createSign('RSA-SHA256');
  signer.update(body);
  return `${body}.${signer.sign(config.privateKey ?? '', 'base64url')}`;
}

/** Quotes a string for a SOQL literal. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Bytes of URL-encoded IN list one GET query may carry: a query's SOQL travels in the URI, the REST query resource
 * has no POST form, Salesforce refuses a request whose URI and headers pass 16,384 bytes together (414/431), and it
 * augments the SOQL on its side, so its own advice is far shorter URIs (help article 000386264).
 */
export const IN_LIST_BYTES = 4_000;

/**
 * Splits values into SOQL IN lists (quoted, comma-separated) of at most `size` values whose URL-encoded length
 * stays under IN_LIST_BYTES: 200 long email addresses would not fit one URI.
 *
 * @example
 * for (const list of soqlInLists(emails, 200)) await conn.query(`SELECT Id FROM Contact WHERE Email IN (${list})`);
 */
export function soqlInLists(values: readonly string[], size: number): string[] {
  const lists: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const value of values) {
    const quoted = soqlString(value);
    const cost = encodeURIComponent(`${quoted}, `).length;
    if (current.length > 0 && (current.length >= size || bytes + cost > IN_LIST_BYTES)) {
      lists.push(current.join(', '));
      current = [];
      bytes = 0;
    }
    current.push(quoted);
    bytes += cost;
  }
  if (current.length > 0) lists.push(current.join(', '));
  return lists;
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Proves the credentials work and the user can read `sobject` (the check of both the source and the destination). */
export async function checkCanRead(session: SalesforceSession, sobject: string): Promise<CheckResult> {
  try {
    await session.call('check', async (conn) => conn.query(`SELECT Id FROM ${sobject} LIMIT 1`));
    return { ok: true };
  } catch (error) {
    const classified = classifySalesforceError(error) ?? error;
    return { ok: false, reason: reasonOf(classified) };
  }
}
