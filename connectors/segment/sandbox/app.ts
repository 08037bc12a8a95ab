/**
 * The Segment sandbox's HTTP surface: the tracking API (`POST /v1/batch`, `/v1/identify`, `/v1/track`, `/v1/page`,
 * …) with Basic auth on the write key, the 32 KB per-event and 500 KB per-request limits answered 400, messageId
 * deduplication within 24 hours, switchable 429 (with Retry-After) and 5xx faults; and a Profiles-API-shaped read
 * side (`GET /v1/spaces/{space}/collections/users/profiles/user_id:{id}/traits`), one profile at a time as Segment's
 * Profile API is: there is no listing of profiles, so nobody can read a segment's members back by listing them.
 */
import { Hono, type Context } from 'hono';
import type { Faults, Recorder } from '../../../plugins/sandbox/index.js';
import type { SegmentMessage, SegmentWorkspace } from './workspace.js';

/** Segment's limits, real values by default. */
export interface SegmentLimits {
  /** Largest message, in bytes of its JSON (Segment: 32 KB). */
  eventBytes: number;
  /** Largest request body, in bytes (Segment: 500 KB). */
  batchBytes: number;
  /** How long a messageId is remembered for deduplication, in ms (Segment: 24 h); 0 turns deduplication off. */
  dedupWindowMs: number;
}

export const SEGMENT_LIMITS: SegmentLimits = {
  eventBytes: 32 * 1024,
  batchBytes: 500 * 1024,
  dedupWindowMs: 24 * 60 * 60 * 1000,
};

export interface SegmentAppOptions {
  workspace: SegmentWorkspace;
  writeKey: string;
  /** The Profiles API token (Basic auth username) and space id. */
  profilesToken: string;
  spaceId: string;
  /** The Public API token (Bearer) and the id of the source the write key belongs to. */
  publicApiToken: string;
  sourceId: string;
  /**
   * Answer a wrong write key 401. Segment does not: its tracking API answers 200 to every request but a too-large or
   * malformed one and drops what it cannot attribute. Default false; true stands for a refusing endpoint (a source
   * with token authentication enforced) in tests of how a push handles a refusal.
   */
  refuseWrongWriteKey?: boolean;
  limits: SegmentLimits;
  recorder: Recorder;
  faults: Faults;
  /** Called after each accepted tracking request (persists the state when the sandbox has a path). */
  afterWrite?: () => void;
}

const SINGLE_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;

/**
 * Builds the hono app. Middleware order: recorder (every raw request, refused ones too) → faults → routes.
 *
 * @example
 * const app = createSegmentApp({ workspace, writeKey: 'wk', profilesToken: 'pt', spaceId: 'spa_1', limits: SEGMENT_LIMITS, recorder, faults });
 */
export function createSegmentApp(options: SegmentAppOptions): Hono {
  const { workspace, limits } = options;
  const app = new Hono();
  app.use('*', options.recorder);
  app.use('/v1/*', options.faults);

  const refuse = (c: Context, status: 400 | 401 | 404, code: string, message: string) =>
    c.json({ success: false, code, message }, status);

  const receive = async (c: Context, type: (typeof SINGLE_TYPES)[number] | 'batch') => {
    const text = await c.req.text();
    const size = Buffer.byteLength(text);
    const cap = type === 'batch' ? limits.batchBytes : limits.eventBytes;
    if (size > cap) {
      return refuse(
        c,
        400,
        'payload_too_large',
        `request body is ${size} bytes; the limit is ${cap} bytes (${Math.round(cap / 1024)} KB)`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return refuse(c, 400, 'invalid_json', 'request body is not valid JSON');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return refuse(c, 400, 'invalid_json', 'request body must be a JSON object');
    const payload = body as Record<string, unknown>;
    if (!authorised(c.req.header('authorization'), payload.writeKey, options.writeKey)) {
      if (options.refuseWrongWriteKey) return refuse(c, 401, 'invalid_write_key', 'missing or invalid write key');
      return c.json({ success: true });
    }
    let messages: SegmentMessage[];
    if (type === 'batch') {
      if (!Array.isArray(payload.batch)) return refuse(c, 400, 'invalid_batch', '`batch` must be an array of messages');
      messages = payload.batch as SegmentMessage[];
      for (const [index, message] of messages.entries()) {
        const bytes = Buffer.byteLength(JSON.stringify(message));
        if (bytes > limits.eventBytes) {
          return refuse(
            c,
            400,
            'event_too_large',
            `message at index ${index} is ${bytes} bytes; the limit is ${limits.eventBytes} bytes (32 KB)`,
          );
        }
      }
    } else {
      messages = [{ ...payload, type }];
    }
    for (const message of messages) workspace.apply(message);
    options.afterWrite?.();
    return c.json({ success: true });
  };

  app.post('/v1/batch', (c) => receive(c, 'batch'));
  app.post('/v1/import', (c) => receive(c, 'batch'));
  for (const type of SINGLE_TYPES) app.post(`/v1/${type}`, (c) => receive(c, type));

  const profilesAuth = (c: Context) => authorised(c.req.header('authorization'), undefined, options.profilesToken);
  const profileOf = (c: Context) => {
    const ref = c.req.param('ref') ?? '';
    if (c.req.param('space') !== options.spaceId || !ref.startsWith('user_id:')) return undefined;
    return workspace.profile(decodeURIComponent(ref.slice('user_id:'.length)));
  };
  const notFound = (c: Context) => c.json({ error: { code: 'not_found', message: 'Resource not found' } }, 404);
  const unauthorised = (c: Context) =>
    c.json({ error: { code: 'unauthorized', message: 'invalid access token' } }, 401);

  app.get('/v1/spaces/:space/collections/users/profiles/:ref/traits', (c) => {
    if (!profilesAuth(c)) return unauthorised(c);
    const profile = profileOf(c);
    if (!profile) return notFound(c);
    // `include` names the traits wanted (the Profile API's advice for speed); without it every trait comes back.
    const include = c.req.query('include')?.split(',').filter(Boolean);
    const traits = include
      ? Object.fromEntries(Object.entries(profile.traits).filter(([name]) => include.includes(name)))
      : profile.traits;
    return c.json({ traits, cursor: { url: c.req.path, has_more: false, next: '' } });
  });

  app.get('/v1/spaces/:space/collections/users/profiles/:ref/events', (c) => {
    if (!profilesAuth(c)) return unauthorised(c);
    const profile = profileOf(c);
    if (!profile) return notFound(c);
    const data = profile.events.map((e) => ({
      type: 'track',
      event: e.event,
      properties: e.properties,
      message_id: e.messageId,
      timestamp: e.timestamp,
    }));
    return c.json({ data, cursor: { url: c.req.path, has_more: false, next: '' } });
  });

  // The Public API's source: what proves a write key belongs to a source (the tracking API never says).
  app.get('/sources/:id', (c) => {
    if (c.req.header('authorization') !== `Bearer ${options.publicApiToken}`)
      return c.json({ errors: [{ type: 'unauthorized', message: 'Unauthorized' }] }, 401);
    if (c.req.param('id') !== options.sourceId)
      return c.json({ errors: [{ type: 'resource-not-found', message: 'Source not found' }] }, 404);
    return c.json({
      data: {
        source: {
          id: options.sourceId,
          slug: 'segflow',
          name: 'segflow',
          enabled: true,
          writeKeys: [options.writeKey],
          metadata: { id: 'xE6ESUDRE4', slug: 'http-api', name: 'HTTP API' },
        },
      },
    });
  });

  return app;
}

/** Basic auth whose username is the key (password empty), or — for the tracking API — `writeKey` in the body. */
function authorised(header: string | undefined, bodyKey: unknown, expected: string): boolean {
  if (header !== undefined) {
    const match = /^Basic\s+(.+)$/i.exec(header.trim());
    if (!match?.[1]) return false;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return (colon < 0 ? decoded : decoded.slice(0, colon)) === expected;
  }
  return typeof bodyKey === 'string' && bodyKey === expected;
}
