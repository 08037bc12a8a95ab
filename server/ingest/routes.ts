/**
 * The ingestion routes: the Segment HTTP tracking API as every tracking library calls it — `POST
 * /v1/track|identify|page|screen|group|alias|batch|import` and the browser library's short forms `/v1/t|i|p|s|g|a|b`,
 * authenticated by write key (Basic auth, or the body's `writeKey`), JSON sent as `application/json` or `text/plain`,
 * gzip- or deflate-compressed or not, with CORS for the origins the config names — plus
 * `GET /v1/projects/<writeKey>/settings` (what analytics.js loads from its CDN), and `POST|GET /webhooks/:connection`
 * (handed to that source connection's webhook hook). An accepted message is in the store's inbox before the 200 goes
 * out; the real-time pipeline takes it from there.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { durationMs } from '../../config/index.js';
import type { InboxMessage } from '../../core/realtime/index.js';
import type { ServerDeps } from '../deps.js';
import { accept } from './acceptor.js';
import { rateLimiter } from './rate-limit.js';
import { mapMessage, MESSAGE_TYPES, REQUEST_LIMIT_BYTES, type MessageType } from './segment-spec.js';
import { writeKeys } from './write-keys.js';

/** How deep a body may nest (objects and arrays): deeper is a 400, never a stack overflow. */
export const JSON_DEPTH_LIMIT = 64;

type ErrorCode =
  | 'unauthorized'
  | 'payload_too_large'
  | 'malformed_json'
  | 'malformed_body'
  | 'too_deep'
  | 'unsupported_encoding'
  | 'invalid_body'
  | 'rate_limited'
  | 'not_found';

const refuse = (
  c: Context,
  status: 400 | 401 | 404 | 413 | 415 | 429,
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
) => c.json({ error: { code, message, ...extra } }, status);

/** A refused message of a batch: its index in `batch` and why. */
export interface RefusedMessage {
  index: number;
  reason: string;
}

/** The browser library's one-letter paths, and `/v1/import` (the Java and Ruby libraries' batch). */
const SHORT_PATHS: Record<string, MessageType | 'batch'> = {
  t: 'track',
  i: 'identify',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
  b: 'batch',
  import: 'batch',
};

/**
 * The ingestion routes, to mount at the server's root.
 *
 * @example
 * app.route('/', ingestRoutes(deps));
 * // curl -u "$SEGFLOW_WRITE_KEY_WEBSITE:" -d '{"userId":"u1","event":"Signed Up"}' http://127.0.0.1:8080/v1/track
 */
export function ingestRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  const keys = writeKeys(deps.config.server.write_keys, deps.env);
  const tracking = deps.config.server.tracking;
  const textProperties = deps.config.text?.track_properties ?? [];
  const limits = rateLimiter({
    perSecond: tracking.rate_limit.per_second,
    ...(tracking.rate_limit.burst === undefined ? {} : { burst: tracking.rate_limit.burst }),
  });
  const wallClock = (): Date => new Date();
  const layout = {
    partitionMs: durationMs(tracking.inbox.partition),
    retentionMs: durationMs(tracking.inbox.retention),
  };
  // Workspace-wide ids: every key's messages are recorded under one source, each event keeping its key's name.
  const recordAs = (keyName: string): { source: string; writeKey?: string } =>
    tracking.ids === 'workspace' ? { source: tracking.source, writeKey: keyName } : { source: keyName };

  const origins = new Set(tracking.cors_origins);
  app.use(
    '/v1/*',
    cors({
      origin: (origin) => (origin !== '' && (origins.has('*') || origins.has(origin)) ? origin : null),
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization', 'Content-Encoding', 'X-Retry-Count'],
      exposeHeaders: ['Retry-After'],
      maxAge: 600,
    }),
  );

  /** The body decoded, checked and authenticated (and the write key within its rate), else the refusal to answer. */
  const readBody = async (c: Context): Promise<{ keyName: string; body: unknown; bytes: number } | Response> => {
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > REQUEST_LIMIT_BYTES) return tooLarge(c, declared);
    const raw = Buffer.from(await c.req.arrayBuffer());
    if (raw.byteLength > REQUEST_LIMIT_BYTES) return tooLarge(c, raw.byteLength);
    const decoded = decode(c, raw);
    if (decoded instanceof Response) return decoded;
    let body: unknown;
    try {
      body = JSON.parse(decoded.toString('utf8')) as unknown;
    } catch {
      return refuse(c, 400, 'malformed_json', 'the body is not JSON');
    }
    if (deeperThan(body, JSON_DEPTH_LIMIT))
      return refuse(c, 400, 'too_deep', `the body nests deeper than ${JSON_DEPTH_LIMIT} levels, the limit`);
    const bodyKey =
      typeof body === 'object' && body !== null && typeof (body as { writeKey?: unknown }).writeKey === 'string'
        ? (body as { writeKey: string }).writeKey
        : undefined;
    const keyName =
      keys.sourceOf(c.req.header('authorization')) ?? (bodyKey === undefined ? undefined : keys.nameOf(bodyKey));
    if (keyName === undefined) {
      c.header('WWW-Authenticate', 'Basic realm="segflow ingestion"');
      return refuse(
        c,
        401,
        'unauthorized',
        'unknown or missing write key: send it as the Basic auth username or as the body\'s "writeKey"',
      );
    }
    const batch = (body as { batch?: unknown } | null)?.batch;
    const verdict = limits.take(keyName, Array.isArray(batch) ? batch.length : 1);
    if (!verdict.ok) {
      c.header('Retry-After', String(verdict.retryAfterSeconds));
      return refuse(
        c,
        429,
        'rate_limited',
        `write key "${keyName}" is over its limit of ${tracking.rate_limit.per_second} messages a second: retry after ${verdict.retryAfterSeconds} s`,
      );
    }
    return { keyName, body, bytes: decoded.byteLength };
  };

  const single = (type: MessageType) => async (c: Context) => {
    const read = await readBody(c);
    if (read instanceof Response) return read;
    const receivedAt = wallClock();
    const as = recordAs(read.keyName);
    const mapped = mapMessage(read.body, as.source, receivedAt, {
      implied: type,
      textProperties,
      bodyBytes: read.bytes,
      ...(as.writeKey ? { writeKey: as.writeKey } : {}),
    });
    if (!mapped.ok) return refuse(c, 400, 'invalid_body', mapped.reason);
    const [isNew] = await accept(deps.store, deps.logger, read.keyName, 'segment', [mapped], receivedAt, layout);
    return c.json({ success: true, duplicate: isNew === false });
  };

  const batch = async (c: Context) => {
    const read = await readBody(c);
    if (read instanceof Response) return read;
    const body = read.body as { batch?: unknown; context?: unknown; sentAt?: unknown } | null;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.batch)) {
      return refuse(c, 400, 'invalid_body', 'a batch body is an object with a "batch" array of messages', {
        field: 'batch',
      });
    }
    const receivedAt = wallClock();
    const as = recordAs(read.keyName);
    const context =
      typeof body.context === 'object' && body.context !== null ? (body.context as Record<string, unknown>) : undefined;
    const refused: RefusedMessage[] = [];
    const accepted: InboxMessage[] = [];
    body.batch.forEach((message, index) => {
      const mapped = mapMessage(message, as.source, receivedAt, {
        textProperties,
        bodyBytes: read.bytes,
        ...(context ? { context } : {}),
        ...(as.writeKey ? { writeKey: as.writeKey } : {}),
        ...(body.sentAt === undefined ? {} : { sentAt: body.sentAt }),
      });
      if (mapped.ok) accepted.push(mapped);
      else refused.push({ index, reason: mapped.reason });
    });
    if (accepted.length === 0 && refused.length > 0) {
      return refuse(c, 400, 'invalid_body', `every message of the batch was refused (${refused.length})`, { refused });
    }
    const fresh = await accept(deps.store, deps.logger, read.keyName, 'segment', accepted, receivedAt, layout);
    const stored = fresh.filter(Boolean).length;
    return c.json({ success: true, accepted: accepted.length, stored, duplicates: accepted.length - stored, refused });
  };

  for (const type of MESSAGE_TYPES) app.post(`/v1/${type}`, single(type));
  app.post('/v1/batch', batch);
  for (const [path, type] of Object.entries(SHORT_PATHS))
    app.post(`/v1/${path}`, type === 'batch' ? batch : single(type));

  // What analytics.js loads from its CDN before it sends anything: where to send (this server) and with which key.
  app.get('/v1/projects/:writeKey/settings', (c) => {
    const writeKey = c.req.param('writeKey');
    if (keys.nameOf(writeKey) === undefined) return refuse(c, 404, 'not_found', 'no project has this write key');
    const url = new URL(c.req.url);
    const protocol = (c.req.header('x-forwarded-proto') ?? url.protocol.replace(/:$/, '')).split(',')[0]!.trim();
    const host = c.req.header('x-forwarded-host') ?? c.req.header('host') ?? url.host;
    return c.json(browserSettings(writeKey, `${host}/v1`, protocol));
  });

  // The browser library itself, for a site that loads the stock snippet from this server as its CDN.
  for (const file of ['analytics.min.js', 'analytics.js'])
    app.get(`/analytics.js/v1/:writeKey/${file}`, (c) => serveBundle(c, 'standalone.js'));
  app.get('/analytics-next/bundles/:file{[A-Za-z0-9.-]+\\.js}', (c) => serveBundle(c, c.req.param('file')));

  app.on(['GET', 'POST'], '/webhooks/:connection', async (c) => {
    const name = c.req.param('connection');
    const connection = Object.hasOwn(deps.config.sources, name) ? deps.config.sources[name] : undefined;
    if (!connection) return refuse(c, 404, 'not_found', `no source connection "${name}"`);
    const source = deps.registry.source(connection.connector);
    if (!source.webhook)
      return refuse(c, 404, 'not_found', `source "${name}" (${connection.connector}) does not accept webhooks`);
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      headers[key.toLowerCase()] = value;
    });
    const request = {
      method: c.req.method,
      url: c.req.url,
      headers,
      body: c.req.method === 'GET' ? '' : await c.req.text(),
    };
    // Signature timestamps are the tool's real time, so staleness is judged on the wall clock, not a demo's world clock.
    const verdict = source.webhook.verify(request, connection.config, Date.now());
    if (!verdict.ok) {
      deps.logger.warn('webhook refused', { connection: name, reason: verdict.reason });
      return refuse(c, 401, 'unauthorized', verdict.reason);
    }
    let parsed: ReturnType<typeof source.webhook.parse>;
    try {
      parsed = source.webhook.parse(request, connection.config);
    } catch (error) {
      return refuse(
        c,
        400,
        'invalid_body',
        `the ${connection.connector} webhook could not be read: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (parsed.records.length > 0) {
      // A tool re-delivering the same request sends the same body: its digest is the message id.
      const messageId = createHash('sha256').update(request.body).digest('hex');
      await accept(
        deps.store,
        deps.logger,
        name,
        'webhook',
        [{ messageId, records: parsed.records }],
        wallClock(),
        layout,
      );
    }
    const answer = parsed.response;
    if (!answer) return c.json({ success: true });
    return c.body(
      answer.body ?? '',
      answer.status as 200,
      answer.contentType ? { 'Content-Type': answer.contentType } : {},
    );
  });

  return app;
}

function tooLarge(c: Context, bytes: number): Response {
  return refuse(c, 413, 'payload_too_large', `the body is ${bytes} bytes, over the 500 KB limit of one request`);
}

/** The body's bytes after its Content-Encoding, never more than the request limit (a zip bomb is a 413). */
function decode(c: Context, raw: Buffer): Buffer | Response {
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  const options = { maxOutputLength: REQUEST_LIMIT_BYTES };
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(raw, options);
    if (encoding === 'deflate') {
      // RFC 9110's deflate is zlib-wrapped; some clients send the raw stream.
      try {
        return inflateSync(raw, options);
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw error;
        return inflateRawSync(raw, options);
      }
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      return refuse(
        c,
        413,
        'payload_too_large',
        `the ${encoding} body decompresses to more than the 500 KB limit of one request`,
      );
    return refuse(c, 400, 'malformed_body', `the body is not valid ${encoding} data`);
  }
  return refuse(
    c,
    415,
    'unsupported_encoding',
    `Content-Encoding "${encoding}" is not supported (send gzip, deflate or none)`,
  );
}

/** Whether a parsed body nests objects or arrays more than `limit` deep (walked without recursion). */
export function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** The CDN settings analytics.js (analytics-next) needs to send everything to `apiHost`, and nowhere else. */
function browserSettings(writeKey: string, apiHost: string, protocol: string): Record<string, unknown> {
  const enabled = { __default: { enabled: true, integrations: {} } };
  return {
    integrations: { 'Segment.io': { apiKey: writeKey, apiHost, protocol, unbundledIntegrations: [] } },
    plan: { track: enabled, identify: enabled, group: enabled },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  };
}

let bundleDir: string | null | undefined;
/** The folder of the installed browser library's bundles, or null when it is not installed. */
function browserBundles(): string | null {
  if (bundleDir === undefined) {
    try {
      const entry = createRequire(import.meta.url).resolve('@segment/analytics-next');
      const dir = join(dirname(entry), '..', 'umd');
      bundleDir = existsSync(join(dir, 'standalone.js')) ? dir : null;
    } catch {
      bundleDir = null;
    }
  }
  return bundleDir;
}

function serveBundle(c: Context, file: string): Response {
  const dir = browserBundles();
  if (dir === null)
    return refuse(
      c,
      404,
      'not_found',
      'the browser library is not installed here: npm install @segment/analytics-next',
    );
  const path = join(dir, file);
  if (!existsSync(path)) return refuse(c, 404, 'not_found', `no bundle ${file}`);
  return c.body(readFileSync(path), 200, {
    'Content-Type': 'application/javascript; charset=utf-8',
    'Cache-Control': 'public, max-age=300',
    'Access-Control-Allow-Origin': '*',
  });
}
