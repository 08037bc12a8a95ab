/**
 * The ingestion routes: `POST /v1/track|identify|page|screen|batch` (the Segment HTTP tracking API, authenticated by
 * write key) and `POST|GET /webhooks/:connection` (handed to that source connection's webhook hook). An accepted
 * message is in the store's inbox before the 200 goes out; the real-time pipeline takes it from there.
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { InboxMessage } from '../../core/realtime/index.js';
import type { ServerDeps } from '../deps.js';
import { accept } from './acceptor.js';
import { mapMessage, MESSAGE_TYPES, REQUEST_LIMIT_BYTES, type MessageType } from './segment-spec.js';
import { writeKeys } from './write-keys.js';

type ErrorCode = 'unauthorized' | 'payload_too_large' | 'malformed_json' | 'invalid_body' | 'not_found';

const refuse = (
  c: Context,
  status: 400 | 401 | 404 | 413,
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
) => c.json({ error: { code, message, ...extra } }, status);

/** A refused message of a batch: its index in `batch` and why. */
export interface RefusedMessage {
  index: number;
  reason: string;
}

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
  const wallClock = (): Date => new Date();

  /** The body as text once auth and size pass, else the refusal to answer. */
  const readBody = async (c: Context): Promise<{ source: string; body: unknown } | Response> => {
    const source = keys.sourceOf(c.req.header('authorization'));
    if (source === undefined) {
      c.header('WWW-Authenticate', 'Basic realm="segflow ingestion"');
      return refuse(c, 401, 'unauthorized', 'unknown or missing write key: send it as the Basic auth username');
    }
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > REQUEST_LIMIT_BYTES) return tooLarge(c, declared);
    const raw = await c.req.arrayBuffer();
    if (raw.byteLength > REQUEST_LIMIT_BYTES) return tooLarge(c, raw.byteLength);
    try {
      return { source, body: JSON.parse(Buffer.from(raw).toString('utf8')) as unknown };
    } catch {
      return refuse(c, 400, 'malformed_json', 'the body is not JSON');
    }
  };

  for (const type of MESSAGE_TYPES) {
    app.post(`/v1/${type}`, async (c) => {
      const read = await readBody(c);
      if (read instanceof Response) return read;
      const receivedAt = wallClock();
      const mapped = mapMessage(read.body, read.source, receivedAt, type as MessageType);
      if (!mapped.ok) return refuse(c, 400, 'invalid_body', mapped.reason);
      const [isNew] = await accept(deps.store, deps.logger, read.source, 'segment', [mapped], receivedAt);
      return c.json({ success: true, duplicate: isNew === false });
    });
  }

  app.post('/v1/batch', async (c) => {
    const read = await readBody(c);
    if (read instanceof Response) return read;
    const body = read.body as { batch?: unknown; context?: unknown } | null;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.batch)) {
      return refuse(c, 400, 'invalid_body', 'a batch body is an object with a "batch" array of messages', {
        field: 'batch',
      });
    }
    const receivedAt = wallClock();
    const context =
      typeof body.context === 'object' && body.context !== null ? (body.context as Record<string, unknown>) : undefined;
    const refused: RefusedMessage[] = [];
    const accepted: InboxMessage[] = [];
    body.batch.forEach((message, index) => {
      const mapped = mapMessage(message, read.source, receivedAt, undefined, context);
      if (mapped.ok) accepted.push(mapped);
      else refused.push({ index, reason: mapped.reason });
    });
    if (accepted.length === 0 && refused.length > 0) {
      return refuse(c, 400, 'invalid_body', `every message of the batch was refused (${refused.length})`, { refused });
    }
    const fresh = await accept(deps.store, deps.logger, read.source, 'segment', accepted, receivedAt);
    const stored = fresh.filter(Boolean).length;
    return c.json({ success: true, accepted: accepted.length, stored, duplicates: accepted.length - stored, refused });
  });

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
      await accept(deps.store, deps.logger, name, 'webhook', [{ messageId, records: parsed.records }], wallClock());
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
