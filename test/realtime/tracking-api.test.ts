/**
 * The tracking API as the real libraries call it, request by request (hono's app.request, no listening server):
 * compressed bodies, the paths and write-key placements of every library, CORS, the browser settings, rate limits,
 * clock-skew correction, group and alias, message ids, and each bad input refused with a 4xx JSON error naming it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { loadConfig, type Config } from '../../config/index.js';
import { findContactByExternalId, openStore } from '../../core/index.js';
import { loadWaitingMessages } from '../../core/realtime/index.js';
import { createRegistry } from '../../plugins/index.js';
import type { ServerDeps } from '../../server/deps.js';
import { createServer } from '../../server/index.js';
import { ingestRoutes } from '../../server/ingest/index.js';
import { runStep } from '../../sync/realtime/step.js';
import { basic, quiet, tempDir } from './fixture.js';

const WEBSITE = 'wk_tracking_website_0001';
const SERVER = 'wk_tracking_server_00002';
const SHOP = 'http://127.0.0.1:4321';

let dir: string;
let config: Config;
let deps: ServerDeps;
let app: ReturnType<typeof ingestRoutes>;

async function setUp(tracking = '', origins = `["${SHOP}"]`): Promise<void> {
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
segments:
  - key: new_signups
    name: Signed up in the last 30 days
    rule: { event: signup, within: 30d }
server:
  write_keys: { website: SEGFLOW_WK_WEBSITE, server: SEGFLOW_WK_SERVER }
  tracking:
    cors_origins: ${origins}
${tracking}`,
  );
  const registry = createRegistry(BUILTIN_CONNECTORS);
  config = await loadConfig(file, { registry, env: {} });
  deps = {
    config,
    store: await openStore(config.store.path),
    registry,
    logger: quiet,
    env: { SEGFLOW_WK_WEBSITE: WEBSITE, SEGFLOW_WK_SERVER: SERVER },
    startJob: () => Promise.resolve({ status: 'not started' }),
  };
  app = ingestRoutes(deps);
}

beforeEach(async () => {
  dir = tempDir();
  await setUp();
});
afterEach(async () => {
  await deps.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const send = (path: string, body: BodyInit | null, headers: Record<string, string> = {}, method = 'POST') =>
  app.request(path, { method, body, headers });
const post = (path: string, message: unknown, key: string | null = WEBSITE, headers: Record<string, string> = {}) =>
  send(path, typeof message === 'string' ? message : JSON.stringify(message), {
    'content-type': 'application/json',
    ...(key === null ? {} : { authorization: basic(key) }),
    ...headers,
  });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
const inbox = async () => ((await deps.store.get('SELECT COUNT(*) AS n FROM realtime_inbox')) as { n: number }).n;
const storedEvents = async () => {
  await loadWaitingMessages(deps.store);
  return (
    (await deps.store.all(
      'SELECT source_event_id, type, occurred_at, contact_id, properties FROM events ORDER BY id',
    )) as { source_event_id: string; type: string; occurred_at: string; contact_id: number; properties: string }[]
  ).map((e) => ({ ...e, properties: JSON.parse(e.properties) as Record<string, unknown> }));
};
/** JSON text of a value nested `depth` objects deep (written out: JSON.stringify itself overflows at 10,000). */
const deep = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('compressed bodies', () => {
  const batch = { batch: [{ type: 'track', userId: 'u1', event: 'Signed Up', messageId: 'gz-1' }] };

  it('gzip and deflate bodies are decompressed and stored', async () => {
    const gz = await send('/v1/batch', gzipSync(JSON.stringify(batch)), {
      authorization: basic(WEBSITE),
      'content-encoding': 'gzip',
    });
    expect(gz.status).toBe(200);
    const message = { userId: 'u1', event: 'Signed Up', messageId: 'df-1' };
    const df = await send('/v1/track', deflateSync(JSON.stringify(message)), {
      authorization: basic(WEBSITE),
      'content-encoding': 'deflate',
    });
    expect(df.status).toBe(200);
    expect((await storedEvents()).map((e) => e.source_event_id)).toEqual(['gz-1', 'df-1']);
  });

  it('a zip bomb is 413 on its decompressed size, and stores nothing', async () => {
    const bomb = gzipSync(
      JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'x', properties: { pad: 'x'.repeat(4e6) } }] }),
    );
    expect(bomb.byteLength).toBeLessThan(50_000);
    const res = await send('/v1/batch', bomb, { authorization: basic(WEBSITE), 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({
      code: 'payload_too_large',
      message: expect.stringMatching(/decompress/),
    });
    expect(await inbox()).toBe(0);
  });

  it('a body that is not the gzip it says is 400, an unknown encoding 415', async () => {
    const broken = await send('/v1/batch', 'not gzip', { authorization: basic(WEBSITE), 'content-encoding': 'gzip' });
    expect(broken.status).toBe(400);
    expect(await errorOf(broken)).toMatchObject({ code: 'malformed_body', message: expect.stringMatching(/gzip/) });
    const br = await send('/v1/batch', 'x', { authorization: basic(WEBSITE), 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect((await errorOf(br)).message).toMatch(/"br"/);
    expect(await inbox()).toBe(0);
  });
});

describe('bad inputs are 4xx JSON errors naming what was wrong', () => {
  it('JSON nested 10,000 deep in properties or traits is 400 naming the depth limit, on every route', async () => {
    for (const [path, body] of [
      ['/v1/track', `{"userId":"u1","event":"x","properties":${deep(10_000)}}`],
      ['/v1/identify', `{"userId":"u1","traits":${deep(10_000)}}`],
      ['/v1/batch', `{"batch":[{"type":"track","userId":"u1","event":"x","properties":${deep(10_000)}}]}`],
      ['/v1/t', `{"userId":"u1","event":"x","properties":${deep(64)}}`],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, path).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: 'too_deep', message: expect.stringMatching(/64 levels/) });
    }
    expect((await post('/v1/track', `{"userId":"u1","event":"x","properties":${deep(62)}}`)).status).toBe(200);
  });

  it('timestamps that are not ISO-8601 dates in 1900–2200 are refused with the reason', async () => {
    const cases: [string, RegExp][] = [
      ['1', /bare number/],
      ['0', /bare number/],
      ['Tue, 01 Dec 2026 10:00:00 GMT', /ISO-8601/],
      ['+275760-09-13T00:00:00.000Z', /ISO-8601/],
      ['1997-02-30T10:00:00Z', /February 1997 has 28 days/],
      ['1850-01-01T00:00:00Z', /outside 1900–2200/],
    ];
    for (const [timestamp, reason] of cases) {
      const res = await post('/v1/track', { userId: 'u1', event: 'x', timestamp });
      expect(res.status, timestamp).toBe(400);
      expect((await errorOf(res)).message, timestamp).toMatch(/^timestamp /);
      expect((await errorOf(await post('/v1/track', { userId: 'u1', event: 'x', timestamp }))).message).toMatch(reason);
    }
    const sentAt = await post('/v1/track', { userId: 'u1', event: 'x', sentAt: 12 });
    expect((await errorOf(sentAt)).message).toMatch(/^sentAt 12/);
    expect(await inbox()).toBe(0);
  });

  it('a group without a groupId and an alias without a previousId are refused naming the field', async () => {
    expect((await errorOf(await post('/v1/group', { userId: 'u1' }))).message).toMatch(/groupId/);
    expect((await errorOf(await post('/v1/alias', { userId: 'u1' }))).message).toMatch(/previousId/);
    expect(await inbox()).toBe(0);
  });

  it('the store passes its integrity check after all of them', async () => {
    await post('/v1/batch', `{"batch":[{"type":"track","userId":"u1","event":"x","properties":${deep(100)}}]}`);
    await send('/v1/batch', gzipSync('{"batch": ['), { authorization: basic(WEBSITE), 'content-encoding': 'gzip' });
    await post('/v1/track', { userId: 'u1', event: 'Signed Up', messageId: 'ok-1' });
    await storedEvents();
    expect(await deps.store.all('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });
});

describe('every path and write-key placement the libraries use', () => {
  it('the short forms, /v1/import, group and alias all land', async () => {
    const sent = [
      ['/v1/i', { userId: 'u1', messageId: 'i', traits: { email: 'ada@example.com' } }],
      ['/v1/t', { userId: 'u1', messageId: 't', event: 'Product Added' }],
      ['/v1/p', { userId: 'u1', messageId: 'p', properties: { url: 'https://shop.example.com/pricing' } }],
      ['/v1/s', { userId: 'u1', messageId: 's', name: 'Home' }],
      ['/v1/g', { userId: 'u1', messageId: 'g', groupId: 'acme', traits: { name: 'Acme', employees: 40 } }],
      ['/v1/a', { userId: 'u1', messageId: 'a', previousId: 'u0' }],
      ['/v1/b', { batch: [{ type: 'track', userId: 'u1', messageId: 'b', event: 'x' }] }],
      ['/v1/import', { batch: [{ type: 'page', userId: 'u1', messageId: 'imp' }] }],
      ['/v1/group', { userId: 'u1', messageId: 'g2', groupId: 'acme' }],
      ['/v1/alias', { userId: 'u1', messageId: 'a2', previousId: 'u-old' }],
    ] as const;
    for (const [path, body] of sent) expect((await post(path, body)).status, path).toBe(200);
    expect(await inbox()).toBe(sent.length);
  });

  it('a write key only in the body, as text/plain, is accepted; a wrong one is 401', async () => {
    const ok = await send('/v1/t', JSON.stringify({ writeKey: WEBSITE, userId: 'u1', event: 'x', messageId: 'b1' }), {
      'content-type': 'text/plain',
    });
    expect(ok.status).toBe(200);
    const batch = await send(
      '/v1/batch',
      JSON.stringify({ writeKey: SERVER, batch: [{ type: 'track', userId: 'u1', event: 'x', messageId: 'b2' }] }),
      { 'content-type': 'text/plain;charset=UTF-8' },
    );
    expect(batch.status).toBe(200);
    const wrong = await send('/v1/t', JSON.stringify({ writeKey: 'wk_nope', userId: 'u1', event: 'x' }));
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).message).toMatch(/writeKey/);
    const events = await storedEvents();
    expect(events.map((e) => [e.source_event_id, e.properties.write_key])).toEqual([
      ['b1', 'website'],
      ['b2', 'server'],
    ]);
  });

  it('CORS: a preflight from a configured origin is answered; another origin gets no CORS headers', async () => {
    const preflight = await send(
      '/v1/t',
      null,
      {
        origin: SHOP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
      'OPTIONS',
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const post1 = await post('/v1/t', { userId: 'u1', event: 'x' }, WEBSITE, { origin: SHOP });
    expect(post1.headers.get('access-control-allow-origin')).toBe(SHOP);
    const other = await send(
      '/v1/t',
      null,
      { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the admin API never answers CORS, whatever origins the tracking API allows', async () => {
    for (const origins of [`["${SHOP}"]`, '["*"]']) {
      await deps.store.close();
      await setUp('', origins);
      const server = createServer(deps);
      const preflight = { origin: SHOP, 'access-control-request-method': 'GET' };
      for (const path of ['/segments', '/contacts/1', '/health']) {
        const answer = await server.request(path, { method: 'OPTIONS', headers: preflight });
        expect(answer.headers.get('access-control-allow-origin'), path).toBeNull();
        expect(
          (await server.request(path, { headers: { origin: SHOP } })).headers.get('access-control-allow-origin'),
        ).toBeNull();
      }
      const tracking = await server.request('/v1/t', {
        method: 'OPTIONS',
        headers: { origin: SHOP, 'access-control-request-method': 'POST' },
      });
      expect(tracking.headers.get('access-control-allow-origin'), origins).toBe(SHOP);
    }
  });

  it('the browser settings point analytics.js at this server with its key; an unknown key is 404', async () => {
    const res = await app.request(`http://127.0.0.1:8080/v1/projects/${WEBSITE}/settings`, {
      headers: { host: '127.0.0.1:8080' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      integrations: { 'Segment.io': { apiKey: WEBSITE, apiHost: '127.0.0.1:8080/v1', protocol: 'http' } },
    });
    const unknown = await app.request('/v1/projects/wk_nope/settings');
    expect(unknown.status).toBe(404);
  });
});

describe('rate limits', () => {
  it('a write key over its rate gets 429 with Retry-After; the other key is not held back', async () => {
    await deps.store.close();
    await setUp('    rate_limit: { per_second: 1, burst: 3 }\n');
    const batch = (n: number) => ({
      batch: Array.from({ length: n }, (_, i) => ({
        type: 'track',
        userId: 'u1',
        event: 'x',
        messageId: `r${n}-${i}`,
      })),
    });
    expect((await post('/v1/batch', batch(3))).status).toBe(200);
    const over = await post('/v1/batch', batch(2));
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await errorOf(over)).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/website/) });
    expect((await post('/v1/batch', batch(1), SERVER)).status).toBe(200);
    expect(await inbox()).toBe(4);
  });
});

describe('what is stored', () => {
  it('corrects a device clock 2 h fast and one 40 days slow from sentAt, keeping the original timestamp', async () => {
    const hour = 3_600_000;
    const before = Date.now();
    const fast = new Date(before + 2 * hour);
    const slow = new Date(before - 40 * 24 * hour);
    await post('/v1/track', {
      userId: 'fast',
      event: 'Product Viewed',
      messageId: 'fast-1',
      timestamp: new Date(fast.getTime() - 5000).toISOString(),
      sentAt: fast.toISOString(),
    });
    await post('/v1/batch', {
      batch: [
        {
          type: 'track',
          userId: 'slow',
          event: 'Signed Up',
          messageId: 'slow-1',
          timestamp: new Date(slow.getTime() - 60_000).toISOString(),
        },
      ],
      sentAt: slow.toISOString(),
    });
    const after = Date.now();
    const events = await storedEvents();
    const fastAt = Date.parse(events[0]!.occurred_at);
    expect(fastAt).toBeGreaterThanOrEqual(before - 5000);
    expect(fastAt).toBeLessThanOrEqual(after - 5000);
    expect(events[0]!.properties.original_timestamp).toBe(new Date(fast.getTime() - 5000).toISOString());
    const slowAt = Date.parse(events[1]!.occurred_at);
    expect(slowAt).toBeGreaterThanOrEqual(before - 60_000);
    expect(slowAt).toBeLessThanOrEqual(after - 60_000);
    // The 40-days-slow sign-up counts as the sign-up of a minute ago: it enters "signed up in the last 30 days".
    await runStep(deps.store, { segments: config.segments, destinations: [] }, new Date());
    const contact = await findContactByExternalId(deps.store, 'tracking', 'slow');
    const members = (await deps.store.all("SELECT contact_id FROM memberships WHERE segment_key = 'new_signups'")) as {
      contact_id: number;
    }[];
    expect(members.map((m) => m.contact_id)).toEqual([contact?.id]);
  });

  it('messages without a messageId get one each: two identical clicks are two events', async () => {
    const click = { userId: 'u1', event: 'Button Clicked', timestamp: '2026-12-01T10:00:00Z' };
    await post('/v1/track', click);
    await post('/v1/track', click);
    expect((await storedEvents()).filter((e) => e.properties.name === 'Button Clicked')).toHaveLength(2);
  });

  it('identify uses context.traits.email when traits have none; track uses it to find the person', async () => {
    await post('/v1/identify', {
      userId: 'u1',
      messageId: 'i1',
      traits: { firstName: 'Ada' },
      context: { traits: { email: 'Ada@Example.com' } },
    });
    await post('/v1/track', {
      anonymousId: 'visitor-9',
      messageId: 't1',
      event: 'x',
      context: { traits: { email: 'ada@example.com' } },
    });
    await storedEvents();
    const contact = (await deps.store.get(
      "SELECT c.id, c.email FROM contacts c JOIN identities i ON i.contact_id = c.id WHERE i.external_id = 'u1'",
    )) as { id: number; email: string };
    expect(contact.email).toBe('ada@example.com');
    expect((await findContactByExternalId(deps.store, 'tracking', 'anonymous:visitor-9'))?.id).toBe(contact.id);
  });

  it('group is stored on the contact as a $group event with the account id and traits', async () => {
    await post('/v1/group', { userId: 'u1', messageId: 'g1', groupId: 'acme', traits: { name: 'Acme', plan: 'pro' } });
    const [event] = await storedEvents();
    expect(event).toMatchObject({
      type: 'custom',
      properties: { name: '$group', group_id: 'acme', traits: { name: 'Acme', plan: 'pro' } },
    });
    expect(event?.contact_id).toBe((await findContactByExternalId(deps.store, 'tracking', 'u1'))?.id);
  });

  it('alias joins the previous id to the user id as a recorded merge', async () => {
    await post('/v1/track', { anonymousId: 'anon-1', messageId: 't-anon', event: 'Product Viewed' });
    await post('/v1/track', { userId: 'old-id', messageId: 't-old', event: 'Product Viewed' });
    await post('/v1/track', { userId: 'new-id', messageId: 't-new', event: 'Product Viewed' });
    await storedEvents();
    expect(new Set((await storedEvents()).map((e) => e.contact_id)).size).toBe(3);
    await post('/v1/alias', { userId: 'new-id', previousId: 'old-id', messageId: 'a1' });
    await post('/v1/alias', { userId: 'new-id', anonymousId: 'anon-1', previousId: 'anon-1', messageId: 'a2' });
    const events = await storedEvents();
    expect(new Set(events.map((e) => e.contact_id)).size).toBe(1);
    const merges = (await deps.store.all('SELECT survivor_id, reason FROM contact_merges')) as {
      survivor_id: number;
      reason: string;
    }[];
    expect(merges).toHaveLength(2);
    expect(merges.every((m) => m.survivor_id === events[0]!.contact_id && m.reason === 'linked id')).toBe(true);
  });

  it('a userId is one contact whichever write key sent it', async () => {
    await post('/v1/identify', { userId: 'u1', messageId: 'w1', traits: { email: 'bea@example.com' } }, WEBSITE);
    await post(
      '/v1/track',
      { userId: 'u1', messageId: 's1', event: 'Order Completed', properties: { revenue: 10 } },
      SERVER,
    );
    const events = await storedEvents();
    expect(events).toHaveLength(1);
    expect(((await deps.store.get('SELECT COUNT(*) AS n FROM contacts')) as { n: number }).n).toBe(1);
    expect(events[0]!.properties.write_key).toBe('server');
  });

  it('with ids: write_key, each key keeps its own ids', async () => {
    await deps.store.close();
    await setUp('    ids: write_key\n');
    await post('/v1/identify', { userId: 'u1', messageId: 'w1', traits: { email: 'bea@example.com' } }, WEBSITE);
    await post('/v1/track', { userId: 'u1', messageId: 's1', event: 'x' }, SERVER);
    await storedEvents();
    expect(await findContactByExternalId(deps.store, 'website', 'u1')).toBeDefined();
    expect(await findContactByExternalId(deps.store, 'server', 'u1')).toBeDefined();
  });
});
