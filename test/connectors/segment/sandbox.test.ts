/**
 * Segment sandbox fidelity: what API-FACTS.md says Segment's tracking API and `@segment/analytics-node` do, checked
 * with raw fetch and with the SDK (calls the connector does not make), independent of the connector.
 */
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type SegmentSandbox } from '../../../connectors/segment/index.js';
import { tempDir } from '../../support/temp.js';

let sandbox: SegmentSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'fidelity' });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.recorder.clear();
  sandbox.faults.clear();
});

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

const postBatch = (batch: unknown[], key = sandbox.credentials.writeKey) =>
  fetch(`${sandbox.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(key) },
    body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
  });

const identify = (userId: string, messageId: string, traits: Record<string, unknown> = {}) => ({
  type: 'identify',
  userId,
  messageId,
  traits,
  timestamp: new Date().toISOString(),
});

const sdk = (
  writeKey = sandbox.credentials.writeKey,
  extra: Partial<ConstructorParameters<typeof Analytics>[0]> = {},
) => new Analytics({ writeKey, host: sandbox.url, path: '/v1/batch', maxRetries: 0, flushInterval: 50, ...extra });

/** Sends one identify through the SDK and resolves with the delivery error, if any. */
const sdkIdentify = (analytics: Analytics, userId: string, traits: Record<string, unknown>) =>
  new Promise<unknown>((resolve) => analytics.identify({ userId, traits }, (error) => resolve(error)));

const profileTraits = async (userId: string) => {
  const { spaceId, profilesToken } = sandbox.credentials;
  const response = await fetch(
    `${sandbox.url}/v1/spaces/${spaceId}/collections/users/profiles/user_id:${userId}/traits`,
    {
      headers: { authorization: basic(profilesToken) },
    },
  );
  return { status: response.status, body: (await response.json()) as { traits?: Record<string, unknown> } };
};

describe('Segment sandbox: auth', () => {
  it('accepts the write key as Basic auth username, and answers a wrong one 200 as Segment does, storing nothing', async () => {
    const good = await postBatch([identify('auth-ok', 'auth-1', { plan: 'pro' })]);
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({ success: true });

    const bad = await postBatch([identify('auth-bad', 'auth-2')], 'wrong-key');
    expect(bad.status).toBe(200);
    expect((await profileTraits('auth-bad')).status).toBe(404);
    expect((await profileTraits('auth-ok')).body.traits).toEqual({ plan: 'pro' });
  });

  it('the SDK sends Basic base64(writeKey + ":") to POST /v1/batch, with writeKey and sentAt in the body', async () => {
    const analytics = sdk();
    expect(await sdkIdentify(analytics, 'sdk-user', { tier: 'gold' })).toBeUndefined();
    await analytics.closeAndFlush();
    const [request] = sandbox.recorder.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/batch');
    expect(request?.headers.authorization).toBe(basic(sandbox.credentials.writeKey));
    const body = JSON.parse(request?.body ?? '{}') as {
      batch: { type: string; userId: string; messageId: string }[];
      writeKey: string;
      sentAt: string;
    };
    expect(body.writeKey).toBe(sandbox.credentials.writeKey);
    expect(Number.isNaN(Date.parse(body.sentAt))).toBe(false);
    expect(body.batch).toHaveLength(1);
    expect(body.batch[0]).toMatchObject({ type: 'identify', userId: 'sdk-user' });
    expect(typeof body.batch[0]?.messageId).toBe('string');
  });

  it('the SDK with a wrong write key reports success while Segment drops the message (nothing to retry, nothing stored)', async () => {
    const analytics = sdk('not-the-key');
    const error = await sdkIdentify(analytics, 'sdk-bad', { tier: 'x' });
    await analytics.closeAndFlush();
    expect(error).toBeUndefined();
    expect(sandbox.recorder.count('/v1/batch')).toBe(1);
    expect((await profileTraits('sdk-bad')).status).toBe(404);
  });
});

describe('Segment sandbox: size limits', () => {
  it('refuses a batch holding one message over 32 KB with 400 naming it, and stores none of the batch', async () => {
    const response = await postBatch([
      identify('size-small', 'size-1', { a: 1 }),
      identify('size-big', 'size-2', { blob: 'x'.repeat(33 * 1024) }),
    ]);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/index 1.*32 KB/);
    expect((await profileTraits('size-small')).status).toBe(404);
  });

  it('refuses a single /v1/identify over 32 KB', async () => {
    const response = await fetch(`${sandbox.url}/v1/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic(sandbox.credentials.writeKey) },
      body: JSON.stringify(identify('single-big', 'single-1', { blob: 'y'.repeat(33 * 1024) })),
    });
    expect(response.status).toBe(400);
  });

  it('refuses a request body over 500 KB with 400, even when each message is under 32 KB', async () => {
    const batch = Array.from({ length: 20 }, (_, i) =>
      identify(`bulk-${i}`, `bulk-${i}`, { blob: 'z'.repeat(30 * 1024) }),
    );
    const response = await postBatch(batch);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('payload_too_large');
    expect((await profileTraits('bulk-0')).status).toBe(404);
  });

  // The SDK sizes an event as encodeURI(JSON).split(/%..|i/).length: it counts percent-escapes and the letter "i"
  // only, so its 32 KB / 480 KB checks see text of other letters as almost nothing. The connector sizes events itself.
  it('the SDK refuses a message it measures over 32 KB without sending it', async () => {
    const analytics = sdk();
    const error = await sdkIdentify(analytics, 'sdk-big', { blob: 'i'.repeat(40 * 1024) });
    await analytics.closeAndFlush();
    expect(String(error)).toMatch(/32 KB/);
    expect(sandbox.recorder.count('/v1/batch')).toBe(0);
  });

  it('the SDK under-measures most text: a 40 KB message of other letters is sent, and Segment answers 400', async () => {
    const analytics = sdk();
    const error = await sdkIdentify(analytics, 'sdk-big-q', { blob: 'q'.repeat(40 * 1024) });
    await analytics.closeAndFlush();
    expect(String(error)).toMatch(/400/);
    expect(sandbox.recorder.requests.map((r) => r.status)).toEqual([400]);
    expect((await profileTraits('sdk-big-q')).status).toBe(404);
  });

  it('the SDK splits a queue it measures over 480 KB into requests that each stay under 500 KB', async () => {
    const analytics = sdk(sandbox.credentials.writeKey, { flushAt: 100, flushInterval: 10_000 });
    const errors = await Promise.all(
      Array.from({ length: 40 }, (_, i) => sdkIdentify(analytics, `split-${i}`, { blob: 'i'.repeat(20 * 1024) })),
    );
    await analytics.closeAndFlush();
    expect(errors.every((e) => e === undefined)).toBe(true);
    const requests = sandbox.recorder.requests.filter((r) => r.path === '/v1/batch');
    expect(requests.length).toBeGreaterThanOrEqual(2);
    for (const r of requests) {
      expect(r.status).toBe(200);
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(500 * 1024);
    }
    expect((await profileTraits('split-39')).status).toBe(200);
  });
});

describe('Segment sandbox: deduplication', () => {
  it('a replayed messageId within 24 h changes nothing; after 24 h it is a new message; the recorder keeps every request', async () => {
    const first = { type: 'track', userId: 'dedup-user', messageId: 'dedup-1', event: 'Signed Up', properties: {} };
    expect((await postBatch([first])).status).toBe(200);
    expect((await postBatch([first])).status).toBe(200);
    const tracked = () => sandbox.workspace.profile('dedup-user')?.events.length;
    expect(tracked()).toBe(1);
    expect(sandbox.recorder.count('/v1/batch')).toBe(2);

    const replayedIdentify = identify('dedup-user', 'dedup-2', { stage: 'lead' });
    await postBatch([replayedIdentify]);
    await postBatch([{ ...replayedIdentify, traits: { stage: 'customer' } }]);
    expect((await profileTraits('dedup-user')).body.traits).toEqual({ stage: 'lead' });

    sandbox.advance(24 * 60 * 60 * 1000 + 1);
    await postBatch([first]);
    expect(tracked()).toBe(2);
  });
});

describe('Segment sandbox: throttling and server errors', () => {
  it('answers 429 with Retry-After, which the SDK waits out without counting it as a retry', async () => {
    sandbox.faults.set({ script: ['rate_limited'], retryAfterSeconds: 1, match: '/v1/batch' });
    const analytics = sdk();
    expect(await sdkIdentify(analytics, 'throttled', { ok: true })).toBeUndefined();
    await analytics.closeAndFlush();
    const requests = sandbox.recorder.requests;
    expect(requests.map((r) => r.status)).toEqual([429, 200]);
    expect((await profileTraits('throttled')).body.traits).toEqual({ ok: true });
  });

  it('the 429 carries Retry-After in seconds and a JSON body', async () => {
    sandbox.faults.set({ script: ['rate_limited'], retryAfterSeconds: 3 });
    const response = await postBatch([identify('raw-429', 'raw-429')]);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(((await response.json()) as { success: boolean }).success).toBe(false);
    expect((await profileTraits('raw-429')).status).toBe(404);
  });

  it('answers a 5xx fault without storing, and the SDK with maxRetries 0 reports it', async () => {
    sandbox.faults.set({ script: ['server_error'], serverErrorStatus: 503 });
    const analytics = sdk();
    const error = await sdkIdentify(analytics, 'failed-5xx', { x: 1 });
    await analytics.closeAndFlush();
    expect(String(error)).toMatch(/503/);
    expect(sandbox.recorder.count('/v1/batch')).toBe(1);
    expect((await profileTraits('failed-5xx')).status).toBe(404);
  });
});

describe('Segment sandbox: profiles read and persistence', () => {
  it('the Profiles read refuses a wrong token and reads merged traits of a user', async () => {
    await postBatch([identify('merge', 'merge-1', { a: 1 }), identify('merge', 'merge-2', { b: 2 })]);
    expect((await profileTraits('merge')).body.traits).toEqual({ a: 1, b: 2 });
    const { spaceId } = sandbox.credentials;
    const refused = await fetch(`${sandbox.url}/v1/spaces/${spaceId}/collections/users/profiles/user_id:merge/traits`, {
      headers: { authorization: basic('wrong') },
    });
    expect(refused.status).toBe(401);
  });

  it('a sandbox restarted on the same state file finds its profiles and still deduplicates', async () => {
    const { join } = await import('node:path');
    const statePath = join(tempDir('segment-sandbox-'), 'segment.json');
    const one = await startSandbox({ seed: 'persist', statePath });
    const key = one.credentials.writeKey;
    const send = (s: SegmentSandbox) =>
      fetch(`${s.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic(key) },
        body: JSON.stringify({ batch: [{ type: 'track', userId: 'p1', messageId: 'persist-1', event: 'Entered' }] }),
      });
    await send(one);
    await one.close();
    const two = await startSandbox({ seed: 'persist', statePath });
    try {
      expect(two.credentials.writeKey).toBe(key);
      expect((await send(two)).status).toBe(200);
      expect(two.workspace.profile('p1')?.events).toHaveLength(1);
    } finally {
      await two.close();
    }
  });
});
