/**
 * The Segment-spec endpoints: what is refused (and that nothing is stored then), a batch refusing its bad messages
 * one by one, deduplication by messageId, and how messages land in the store once the pipeline loads them.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../config/index.js';
import { loadWaitingMessages, waitingMessages } from '../../core/realtime/index.js';
import { findContactByExternalId } from '../../core/index.js';
import type { ServerDeps } from '../../server/deps.js';
import { ingestRoutes } from '../../server/ingest/index.js';
import { basic, depsOf, tempDir, WRITE_KEY, writeConfig } from './fixture.js';

let dir: string;
let config: Config;
let deps: ServerDeps;

beforeEach(async () => {
  dir = tempDir();
  config = await writeConfig(dir);
  deps = await depsOf(config);
});
afterEach(async () => {
  await deps.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: string, key: string | null = WRITE_KEY, headers: Record<string, string> = {}) =>
  ingestRoutes(deps).request(path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: basic(key) }), ...headers },
  });

const inbox = async () => ((await deps.store.get('SELECT COUNT(*) AS n FROM realtime_inbox')) as { n: number }).n;
const events = async () =>
  (await deps.store.all('SELECT source, source_event_id, type, value, properties FROM events ORDER BY id')) as {
    source: string;
    source_event_id: string;
    type: string;
    value: number | null;
    properties: string;
  }[];

describe('refused requests store nothing', () => {
  it('a body that is not JSON is 400 malformed_json', async () => {
    const res = await post('/v1/track', '{"userId": "u1", "event": ');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('malformed_json');
    expect(await inbox()).toBe(0);
  });

  it('a body over 500 KB is 413, even when the Content-Length is not declared up front', async () => {
    const big = JSON.stringify({
      batch: [{ type: 'track', userId: 'u1', event: 'x', properties: { pad: 'x'.repeat(520 * 1024) } }],
    });
    const res = await post('/v1/batch', big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'payload_too_large',
    });
    const declared = await ingestRoutes(deps).request('/v1/batch', {
      method: 'POST',
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      }),
      headers: { authorization: basic(WRITE_KEY) },
      duplex: 'half',
    } as RequestInit);
    expect(declared.status).toBe(413);
    expect(await inbox()).toBe(0);
  });

  it('an unknown write key, or none, is 401 with a Basic challenge', async () => {
    const body = JSON.stringify({ userId: 'u1', event: 'Signed Up' });
    const wrong = await post('/v1/track', body, 'wk_someone_else');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await post('/v1/track', body, null)).status).toBe(401);
    expect(await inbox()).toBe(0);
  });

  it('a key named in config whose environment variable is unset accepts nothing', async () => {
    deps = { ...deps, env: {} };
    expect((await post('/v1/track', JSON.stringify({ userId: 'u1', event: 'Signed Up' }), '')).status).toBe(401);
    expect(await inbox()).toBe(0);
  });

  it('a single message without userId or anonymousId is 400 with the reason', async () => {
    const res = await post('/v1/identify', JSON.stringify({ traits: { email: 'a@example.com' } }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/userId.*anonymousId/);
    expect(await inbox()).toBe(0);
  });
});

describe('a batch', () => {
  it('refuses each invalid message alone, with its index and reason, and stores the valid ones', async () => {
    const batch = [
      {
        type: 'track',
        userId: 'u1',
        event: 'Order Completed',
        messageId: 'm1',
        properties: { revenue: 42.5, currency: 'eur', order_id: 'o-1' },
      },
      { type: 'track', event: 'Signed Up', messageId: 'm2' },
      { type: 'identify', userId: 'u2', messageId: 'm3', traits: { email: ' Bea@Example.COM ', firstName: 'Bea' } },
      { type: 'track', userId: 'u3', event: 'Big', messageId: 'm4', properties: { pad: 'x'.repeat(33 * 1024) } },
      { type: 'merge', userId: 'u4', previousId: 'u0', messageId: 'm5' },
      { type: 'page', anonymousId: 'anon-9', messageId: 'm6', properties: { url: 'https://shop.example.com/pricing' } },
    ];
    const res = await post('/v1/batch', JSON.stringify({ batch }));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      accepted: number;
      stored: number;
      refused: { index: number; reason: string }[];
    };
    expect(answer.accepted).toBe(3);
    expect(answer.stored).toBe(3);
    expect(answer.refused.map((r) => r.index)).toEqual([1, 3, 4]);
    expect(answer.refused[0]?.reason).toMatch(/neither a userId nor an anonymousId/);
    expect(answer.refused[1]?.reason).toMatch(/32 KB/);
    expect(answer.refused[2]?.reason).toMatch(/unknown type "merge"/);
    expect(await waitingMessages(deps.store)).toBe(3);
  });

  it('whose every message is invalid is 400, listing them', async () => {
    const res = await post(
      '/v1/batch',
      JSON.stringify({
        batch: [
          { type: 'track', event: 'x' },
          { type: 'group', userId: 'u1' },
        ],
      }),
    );
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: { refused: { index: number }[] } };
    expect(answer.error.refused.map((r) => r.index)).toEqual([0, 1]);
    expect(await inbox()).toBe(0);
  });

  it('without a batch array is 400 naming the field', async () => {
    const res = await post('/v1/batch', JSON.stringify({ messages: [] }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('batch');
  });
});

describe('deduplication and mapping', () => {
  it('a message sent twice (same messageId) is stored once and loads one event', async () => {
    const message = JSON.stringify({
      userId: 'u1',
      event: 'Order Completed',
      messageId: 'dup-1',
      properties: { revenue: 10 },
    });
    expect(((await (await post('/v1/track', message)).json()) as { duplicate: boolean }).duplicate).toBe(false);
    expect(((await (await post('/v1/track', message)).json()) as { duplicate: boolean }).duplicate).toBe(true);
    const again = await post(
      '/v1/batch',
      JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'Order Completed', messageId: 'dup-1' }] }),
    );
    expect(((await again.json()) as { duplicates: number }).duplicates).toBe(1);
    expect(await inbox()).toBe(1);
    await loadWaitingMessages(deps.store);
    expect((await events()).length).toBe(1);
    // Loaded: the inbox keeps the id (still a duplicate) but no copy of the payload for an erasure to miss.
    expect(((await (await post('/v1/track', message)).json()) as { duplicate: boolean }).duplicate).toBe(true);
    expect(await deps.store.all('SELECT records FROM realtime_inbox')).toEqual([{ records: '[]' }]);
  });

  it('maps track, page and identify onto the canonical model, under the shared tracking source', async () => {
    await post(
      '/v1/batch',
      JSON.stringify({
        batch: [
          {
            type: 'identify',
            userId: 'u7',
            anonymousId: 'a7',
            messageId: 'i1',
            timestamp: '2026-01-02T10:00:00Z',
            traits: { email: 'Zoe@Example.com', firstName: 'Zoe', plan: 'pro' },
          },
          {
            type: 'identify',
            userId: 'u7',
            messageId: 'i2',
            timestamp: '2026-01-03T10:00:00Z',
            traits: { lastName: 'Lind' },
          },
          {
            type: 'track',
            userId: 'u7',
            event: 'Order Completed',
            messageId: 't1',
            timestamp: '2026-01-03T11:00:00Z',
            properties: { revenue: 99.9, currency: 'usd', orderId: 'o-9' },
          },
          {
            type: 'track',
            anonymousId: 'a7',
            event: 'Video Watched',
            messageId: 't2',
            timestamp: '2026-01-03T12:00:00Z',
            properties: { length: 30 },
          },
          { type: 'page', userId: 'u7', messageId: 'p1', context: { page: { url: 'https://shop.example.com/' } } },
        ],
      }),
    );
    const load = await loadWaitingMessages(deps.store);
    expect(load.messages).toBe(5);
    const rows = await events();
    expect(rows.map((e) => [e.source, e.source_event_id, e.type, e.value])).toEqual([
      ['tracking', 't1', 'purchase', 99.9],
      ['tracking', 't2', 'custom', null],
      ['tracking', 'p1', 'page_view', null],
    ]);
    expect(JSON.parse(rows[0]!.properties)).toMatchObject({ currency: 'USD', order_id: 'o-9' });
    expect(JSON.parse(rows[1]!.properties)).toMatchObject({ name: 'Video Watched', length: 30 });
    expect(JSON.parse(rows[2]!.properties)).toMatchObject({ url: 'https://shop.example.com/' });

    // The anonymous visitor and the identified user are one contact; identify traits accumulate, email normalised.
    const contact = await findContactByExternalId(deps.store, 'tracking', 'u7');
    expect(contact).toBeDefined();
    expect((await findContactByExternalId(deps.store, 'tracking', 'anonymous:a7'))?.id).toBe(contact?.id);
    const traits = JSON.parse(
      (
        (await deps.store.get("SELECT traits FROM identities WHERE source = 'tracking' AND external_id = 'u7'")) as {
          traits: string;
        }
      ).traits,
    ) as Record<string, unknown>;
    expect(traits).toMatchObject({ email: 'zoe@example.com', first_name: 'Zoe', last_name: 'Lind', plan: 'pro' });
    const owners = (await deps.store.all('SELECT DISTINCT contact_id FROM events')) as { contact_id: number }[];
    expect(owners.map((o) => o.contact_id)).toEqual([contact?.id]);
  });
});
