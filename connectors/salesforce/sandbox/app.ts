/**
 * The sandbox's HTTP surface: a hono app answering Salesforce's real paths with its payloads — the OAuth token
 * endpoint (password and JWT bearer grants), query / queryAll with `nextRecordsUrl` paging, sObject collections
 * (200 records at most, per-row error arrays), updated / deleted, limits — with Bearer auth, `[{message, errorCode}]`
 * error bodies, `Sforce-Limit-Info` on every API response, the daily allocation (403 REQUEST_LIMIT_EXCEEDED) and
 * switchable faults (lock errors, 503s, expired sessions).
 */
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { ApiError, SCHEMA, type Org, type Row, type SaveResult } from './org.js';

/** Who may log in, and how. */
export interface OrgCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  /** The password with the security token appended, as the password flow sends it. */
  password: string;
  /** PEM public key the JWT bearer flow's assertions are verified with. */
  jwtPublicKey: string;
  /**
   * The `aud` a JWT assertion must carry: https://login.salesforce.com for a production org, https://test.salesforce.com
   * for a sandbox org (or an Experience Cloud site's URL) — never the My Domain URL the token is posted to.
   */
  jwtAudience: string;
  /** An access token that is valid from the start (for "access token + instance URL" configs). */
  accessToken: string;
  userId: string;
}

/** One request the sandbox received (method, path with query, and the JSON body when there was one). */
export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  body?: unknown;
}

export interface SalesforceApp {
  app: Hono;
  requests: RecordedRequest[];
  /** Ends every open session, as an expiry would: the next API call answers 401 INVALID_SESSION_ID. */
  expireSessions(): void;
}

export function createApp(org: Org, credentials: OrgCredentials, baseUrl: () => string): SalesforceApp {
  const app = new Hono();
  const sessions = new Set<string>([credentials.accessToken]);
  const requests: RecordedRequest[] = [];
  let publicKey: KeyObject | undefined;

  app.use('*', async (c, next) => {
    const entry: RecordedRequest = {
      method: c.req.method,
      path: new URL(c.req.url).pathname + new URL(c.req.url).search,
      status: 0,
    };
    requests.push(entry);
    // Salesforce: URI and headers together at most 16,384 bytes; 414 when the URI alone passes it, else 431.
    let size = entry.path.length;
    c.req.raw.headers.forEach((value, name) => {
      size += name.length + value.length + 4;
    });
    if (size > org.limits.requestBytes) {
      entry.status = entry.path.length > org.limits.requestBytes ? 414 : 431;
      return c.body('', entry.status as 414 | 431);
    }
    await next();
    entry.status = c.res.status;
  });

  app.post('/services/oauth2/token', async (c) => {
    const form = new URLSearchParams(await c.req.text());
    const grant = form.get('grant_type');
    const issue = () => {
      const token = `00D!${randomBytes(24).toString('base64url')}`;
      sessions.add(token);
      return c.json({
        access_token: token,
        instance_url: baseUrl(),
        id: `${baseUrl()}/id/${org.organizationId}/${credentials.userId}`,
        token_type: 'Bearer',
        issued_at: String(org.now()),
        signature: randomBytes(32).toString('base64'),
      });
    };
    const oauthError = (error: string, description: string) => c.json({ error, error_description: description }, 400);
    if (grant === 'password') {
      if (form.get('client_id') !== credentials.clientId)
        return oauthError('invalid_client_id', 'client identifier invalid');
      if (form.get('client_secret') !== credentials.clientSecret)
        return oauthError('invalid_client', 'invalid client credentials');
      if (form.get('username') !== credentials.username || form.get('password') !== credentials.password) {
        return oauthError('invalid_grant', 'authentication failure');
      }
      return issue();
    }
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const claims = verifyJwt(form.get('assertion') ?? '', (publicKey ??= createPublicKey(credentials.jwtPublicKey)));
      if (!claims) return oauthError('invalid_grant', 'invalid assertion');
      if (claims.iss !== credentials.clientId) return oauthError('invalid_client_id', 'client identifier invalid');
      if (claims.aud !== credentials.jwtAudience) return oauthError('invalid_grant', 'audience is invalid');
      if (claims.sub !== credentials.username) return oauthError('invalid_grant', "user hasn't approved this consumer");
      if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now())
        return oauthError('invalid_grant', 'expired authorization code');
      return issue();
    }
    return c.json({ error: 'unsupported_grant_type', error_description: 'grant type not supported' }, 400);
  });

  const api = new Hono();

  api.use('*', async (c, next) => {
    const auth = c.req.header('authorization') ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (org.faults.expireSessions > 0) {
      org.faults.expireSessions--;
      sessions.clear();
    }
    if (!sessions.has(token))
      return errorResponse(c, new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid'));
    if (org.requestsToday >= org.limits.dailyRequests) {
      return errorResponse(c, new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
    }
    if (org.faults.concurrentLimit > 0) {
      org.faults.concurrentLimit--;
      return errorResponse(c, new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'));
    }
    org.requestsToday++;
    c.header('Sforce-Limit-Info', `api-usage=${org.requestsToday}/${org.limits.dailyRequests}`);
    if (org.faults.serverErrors > 0) {
      org.faults.serverErrors--;
      return errorResponse(c, new ApiError(503, 'SERVER_UNAVAILABLE', 'Service temporarily unavailable'));
    }
    try {
      await next();
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(c, error);
      throw error;
    }
    return undefined;
  });

  const version = (c: Context) => c.req.param('version') ?? '';
  const render = (c: Context, rows: Row[]) =>
    rows.map((row) => {
      const { __type, ...fields } = row;
      return {
        attributes: {
          type: __type,
          url: `/services/data/${version(c)}/sobjects/${String(__type)}/${String(fields.Id ?? '')}`,
        },
        ...fields,
      };
    });

  const runQuery = (includeDeleted: boolean) => (c: Context) => {
    const q = c.req.query('q');
    if (!q) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    const batch = /batchSize=(\d+)/.exec(c.req.header('sforce-query-options') ?? '')?.[1];
    const page = org.query(q, includeDeleted, batch === undefined ? undefined : Number(batch));
    return c.json({
      totalSize: page.totalSize,
      done: page.done,
      ...(page.locator
        ? { nextRecordsUrl: `/services/data/${version(c)}/${includeDeleted ? 'queryAll' : 'query'}/${page.locator}` }
        : {}),
      records: render(c, page.records),
    });
  };
  const more = (includeDeleted: boolean) => (c: Context) => {
    const page = org.queryMore(c.req.param('locator') ?? '');
    return c.json({
      totalSize: page.totalSize,
      done: page.done,
      ...(page.locator
        ? { nextRecordsUrl: `/services/data/${version(c)}/${includeDeleted ? 'queryAll' : 'query'}/${page.locator}` }
        : {}),
      records: render(c, page.records),
    });
  };
  api.get('/:version/query', runQuery(false));
  api.get('/:version/queryAll', runQuery(true));
  api.get('/:version/query/:locator', more(false));
  api.get('/:version/queryAll/:locator', more(true));

  const collection = (records: unknown): Row[] => {
    if (!Array.isArray(records)) throw new ApiError(400, 'JSON_PARSER_ERROR', 'records: expected an array');
    if (records.length > org.limits.collectionSize) {
      throw new ApiError(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${org.limits.collectionSize} records into this call`,
      );
    }
    return records as Row[];
  };
  const body = async (c: Context): Promise<{ allOrNone?: boolean; records?: unknown }> => {
    try {
      const parsed = (await c.req.json()) as { allOrNone?: boolean; records?: unknown };
      const entry = requests.at(-1);
      if (entry) entry.body = parsed;
      return parsed;
    } catch {
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    }
  };
  api.post('/:version/composite/sobjects', async (c) => {
    const input = await body(c);
    const records = collection(input.records);
    if (input.allOrNone) throw new ApiError(400, 'INVALID_OPERATION', 'allOrNone is not supported by this sandbox');
    return c.json(org.create(records));
  });
  api.patch('/:version/composite/sobjects', async (c) => {
    const input = await body(c);
    const records = collection(input.records);
    if (input.allOrNone) throw new ApiError(400, 'INVALID_OPERATION', 'allOrNone is not supported by this sandbox');
    return c.json(org.update(records));
  });
  api.delete('/:version/composite/sobjects', (c) => {
    const ids = (c.req.query('ids') ?? '').split(',').filter((id) => id !== '');
    if (ids.length === 0) throw new ApiError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
    collection(ids);
    if (c.req.query('allOrNone') === 'true')
      throw new ApiError(400, 'INVALID_OPERATION', 'allOrNone is not supported by this sandbox');
    return c.json(org.destroy(ids));
  });

  const window = (c: Context) => {
    const start = Date.parse(c.req.query('start') ?? '');
    const end = Date.parse(c.req.query('end') ?? '');
    if (Number.isNaN(start) || Number.isNaN(end))
      throw new ApiError(400, 'INVALID_REPLICATION_DATE', 'start and end must be dates');
    const type = Object.keys(SCHEMA).find((t) => t === c.req.param('type'));
    if (!type) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return { type, start, end };
  };
  api.get('/:version/sobjects/:type/updated', (c) => {
    const { type, start, end } = window(c);
    return c.json(org.updated(type, start, end));
  });
  api.get('/:version/sobjects/:type/deleted', (c) => {
    const { type, start, end } = window(c);
    return c.json(org.deleted(type, start, end));
  });
  // ---- one record (the sObject rows resource jsforce's sobject().create/retrieve/update/destroy use) ----
  const single = (result: SaveResult, status: 200 | 201 | 204) => (c: Context) => {
    if (result.success) return status === 204 ? c.body(null, 204) : c.json(result, status);
    const [error] = result.errors;
    const code = error?.statusCode ?? 'UNKNOWN_EXCEPTION';
    return c.json(
      [{ message: error?.message ?? 'failed', errorCode: code, fields: error?.fields ?? [] }],
      code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED' ? 404 : 400,
    );
  };
  const sobjectType = (c: Context) => {
    const type = Object.keys(SCHEMA).find((t) => t === c.req.param('type'));
    if (!type) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return type;
  };
  api.post('/:version/sobjects/:type', async (c) => {
    const type = sobjectType(c);
    const fields = (await c.req.json().catch(() => undefined)) as Row | undefined;
    if (!fields || typeof fields !== 'object')
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    const [result] = org.create([{ ...fields, attributes: { type } as unknown as Row[string] }]);
    return single(result as SaveResult, 201)(c);
  });
  api.get('/:version/sobjects/:type/:id', (c) => {
    const type = sobjectType(c);
    const found = org.locate(c.req.param('id') ?? '');
    if (!found || found.type !== type || found.row.IsDeleted)
      throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return c.json(render(c, [{ ...found.row, __type: type }])[0]);
  });
  api.patch('/:version/sobjects/:type/:id', async (c) => {
    const type = sobjectType(c);
    const fields = (await c.req.json().catch(() => undefined)) as Row | undefined;
    if (!fields || typeof fields !== 'object')
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON');
    const [result] = org.update([
      { ...fields, Id: c.req.param('id') ?? '', attributes: { type } as unknown as Row[string] },
    ]);
    return single(result as SaveResult, 204)(c);
  });
  api.delete('/:version/sobjects/:type/:id', (c) => {
    sobjectType(c);
    const [result] = org.destroy([c.req.param('id') ?? '']);
    return single(result as SaveResult, 204)(c);
  });

  api.get('/:version/limits', (c) =>
    c.json({
      DailyApiRequests: {
        Max: org.limits.dailyRequests,
        Remaining: Math.max(0, org.limits.dailyRequests - org.requestsToday),
      },
    }),
  );
  api.notFound((c) => errorResponse(c, new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')));

  app.route('/services/data', api);
  app.notFound((c) => errorResponse(c, new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist')));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    return errorResponse(
      c,
      new ApiError(
        500,
        'UNKNOWN_EXCEPTION',
        'An unexpected error occurred. Please include this ErrorId if you contact support',
      ),
    );
  });

  return { app, requests, expireSessions: () => sessions.clear() };
}

function errorResponse(c: Context, error: ApiError): Response {
  return c.json([{ message: error.message, errorCode: error.errorCode }], error.status as 400);
}

/** Verifies an RS256 JWT against the org's public key; its claims, or undefined. */
function verifyJwt(assertion: string, key: KeyObject): Record<string, unknown> | undefined {
  const [header, payload, signature] = assertion.split('.');
  if (!header || !payload || !signature) return undefined;
  try {
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    if (!verifier.verify(key, Buffer.from(signature, 'base64url'))) return undefined;
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
