import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import {
  concurrencyLimit,
  createFaults,
  createRecorder,
  createSandboxState,
  rateLimit,
  serveSandbox,
  type ServedSandbox,
} from '../../plugins/sandbox/index.js';
import { tempDir } from '../support/temp.js';

const served: ServedSandbox[] = [];
afterEach(async () => {
  await Promise.all(served.splice(0).map((s) => s.close()));
});

describe('rate limiter', () => {
  it('never lets more than N requests into any rolling window under bursts, and answers in the tool’s shape', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const recorder = createRecorder({ now });
    const limiter = rateLimit({
      requests: 5,
      intervalMs: 1_000,
      now,
      onLimited: (c, s) =>
        c.json({ status: 'error', policyName: 'TEN_SECONDLY_ROLLING', retryAfterMs: s.retryAfterMs }, 429),
      headers: (_c, s) => ({ 'X-RateLimit-Remaining': String(s.remaining) }),
    });
    const app = new Hono()
      .use('*', recorder)
      .use('*', limiter)
      .get('/contacts', (c) => c.json({ results: [] }));

    const refusals: unknown[] = [];
    for (let burst = 0; burst < 40; burst++) {
      const answers = await Promise.all(
        Array.from({ length: 1 + (burst % 4) * 3 }, () => Promise.resolve(app.request('/contacts'))),
      );
      for (const a of answers) if (a.status === 429) refusals.push(await a.json());
      clock += 137;
    }

    const admitted = recorder.requests.filter((r) => r.status === 200).map((r) => r.at);
    for (const t of admitted) {
      expect(admitted.filter((x) => x >= t && x < t + 1_000).length).toBeLessThanOrEqual(5);
    }
    // Not over-strict: over 40 bursts spanning ~5.5 s, about 5 per second get through.
    expect(admitted.length).toBeGreaterThanOrEqual(5 * Math.floor((40 * 137) / 1_000));
    expect(refusals[0]).toMatchObject({ status: 'error', policyName: 'TEN_SECONDLY_ROLLING' });
    expect(limiter.counts().refused).toBe(recorder.count((r) => r.status === 429));
    const first = await new Hono()
      .use(
        '*',
        rateLimit({
          requests: 2,
          intervalMs: 10,
          onLimited: (c) => c.body(null, 429),
          headers: (_c, s) => ({ 'X-RateLimit-Remaining': String(s.remaining) }),
        }),
      )
      .get('/', (c) => c.text('ok'))
      .request('/');
    expect(first.headers.get('X-RateLimit-Remaining')).toBe('1');
  });

  it('stops at the daily budget with the daily policy, and can be switched at runtime', async () => {
    let clock = Date.parse('2026-06-29T23:59:00Z');
    const limiter = rateLimit({
      daily: 3,
      now: () => clock,
      onLimited: (c, s) => c.json([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', policy: s.policy }], 403),
    });
    const app = new Hono().use('*', limiter).get('/q', (c) => c.text('ok'));
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await app.request('/q')).status);
    expect(statuses).toEqual([200, 200, 200, 403, 403]);
    expect(await (await app.request('/q')).json()).toEqual([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', policy: 'daily' }]);
    clock += 120_000; // a new UTC day
    expect((await app.request('/q')).status).toBe(200);
    limiter.set({ requests: 1, intervalMs: 60_000 });
    expect((await app.request('/q')).status).toBe(200);
    expect((await app.request('/q')).status).toBe(403);
    expect(limiter.counts().refusedBy.interval).toBe(1);
    limiter.set({ requests: undefined, intervalMs: undefined });
    expect((await app.request('/q')).status).toBe(200);
    expect((await app.request('/q')).status).toBe(403); // the daily budget of 3 still holds
    expect(limiter.counts().refusedBy.daily).toBe(4);
    expect(() => limiter.set({ requests: 5 })).toThrow(/intervalMs/);
  });
});

describe('concurrency limiter', () => {
  it('refuses requests beyond the cap while others are in flight (Mailchimp’s 10 connections)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const limiter = concurrencyLimit({
      max: 10,
      onLimited: (c) => c.json({ title: 'Too Many Requests', status: 429 }, 429),
    });
    const app = new Hono().use('*', limiter).get('/3.0/lists', async (c) => {
      await gate;
      return c.json({ lists: [] });
    });
    const sandbox = await serveSandbox(app);
    served.push(sandbox);
    const pending = Array.from({ length: 15 }, () => fetch(`${sandbox.url}/3.0/lists`));
    while (limiter.counts().inFlight + limiter.counts().refused < 15) await new Promise((r) => setTimeout(r, 5));
    release();
    const statuses = (await Promise.all(pending)).map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(limiter.counts()).toEqual({ inFlight: 0, peak: 10, refused: 5 });
    expect((await fetch(`${sandbox.url}/3.0/lists`)).status).toBe(200);
  });
});

describe('faults', () => {
  const appWith = (faults: ReturnType<typeof createFaults>) =>
    new Hono()
      .use('*', faults)
      .get('/a', (c) => c.text('a'))
      .get('/b', (c) => c.text('b'));

  it('plays a scripted sequence, then lets requests through', async () => {
    const faults = createFaults({
      respond: {
        unauthorized: (c) => c.json([{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }], 401),
      },
    });
    const app = appWith(faults);
    faults.set({ script: ['rate_limited', null, 'server_error', 'unauthorized'], serverErrorStatus: 502 });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await app.request('/a'));
    expect(answers.map((a) => a.status)).toEqual([429, 200, 502, 401, 200, 200]);
    expect(answers[0]!.headers.get('Retry-After')).toBe('1');
    expect(await answers[3]!.json()).toEqual([
      { errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' },
    ]);
    expect(faults.counts()).toEqual({ rate_limited: 1, server_error: 1, unauthorized: 1, slow: 0 });
  });

  it('fires a seeded share of faults: the same seed fires on the same requests, another seed elsewhere', async () => {
    const run = async (seed: string) => {
      const faults = createFaults({ seed, plan: { rate: 0.3, kinds: ['server_error'] } });
      const app = appWith(faults);
      for (let i = 0; i < 1000; i++) await app.request('/a');
      return faults.fired().map((f) => f.request);
    };
    const a = await run('x');
    const b = await run('x');
    const c = await run('y');
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // Binomial(1000, 0.3): sd ≈ 14.5; allow 4 sd.
    expect(Math.abs(a.length - 300)).toBeLessThan(58);
  });

  it('only hits matching paths, holds slow requests, and switches off at runtime', async () => {
    const slept: number[] = [];
    const faults = createFaults({ sleep: async (ms) => void slept.push(ms) });
    const app = appWith(faults);
    faults.set({ rate: 1, kinds: ['rate_limited'], match: '/b' });
    expect((await app.request('/a')).status).toBe(200);
    expect((await app.request('/b')).status).toBe(429);
    faults.set({ rate: 1, kinds: ['slow'], slowMs: 250 });
    const slow = await app.request('/a');
    expect(await slow.text()).toBe('a');
    expect(slept).toEqual([250]);
    faults.clear();
    expect((await app.request('/b')).status).toBe(200);
    faults.storm(3);
    const storm = [];
    for (let i = 0; i < 4; i++) storm.push((await app.request('/a')).status);
    expect(storm).toEqual([429, 429, 429, 200]);
    expect(() => faults.set({ rate: 2 })).toThrow(/between 0 and 1/);
  });
});

describe('recorder', () => {
  it('keeps raw requests with repeated query values, headers, body and the answered status', async () => {
    const recorder = createRecorder();
    const app = new Hono()
      .use('*', recorder)
      .post('/batch', async (c) => c.json(await c.req.json(), 207))
      .get('/contacts', (c) => c.json({}));
    await app.request('/contacts?properties=email&properties=firstname', { headers: { Authorization: 'Bearer t' } });
    const echoed = await app.request('/batch', {
      method: 'POST',
      body: '{"inputs":[1]}',
      headers: { 'content-type': 'application/json' },
    });
    expect(await echoed.json()).toEqual({ inputs: [1] }); // the handler still reads the body
    expect(recorder.requests[0]).toMatchObject({
      method: 'GET',
      path: '/contacts',
      query: { properties: ['email', 'firstname'] },
      headers: { authorization: 'Bearer t' },
      status: 200,
    });
    expect(recorder.requests[1]).toMatchObject({ method: 'POST', path: '/batch', body: '{"inputs":[1]}', status: 207 });
    expect(recorder.byPath()).toEqual({ 'GET /contacts': 1, 'POST /batch': 1 });
    expect(recorder.count(/^\/b/)).toBe(1);
    recorder.clear();
    expect(recorder.count()).toBe(0);
  });
});

describe('sandbox state', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('persists what was written across a restart, atomically', () => {
    const dir = tempDir('segflow-state-');
    dirs.push(dir);
    const path = join(dir, 'nested', 'mailchimp.json');
    const before = createSandboxState<{ segments: Record<string, string[]>; tags: string[] }>(path);
    const segments = before.ensure('segments', () => ({}));
    segments['VIP'] = ['a@example.com'];
    before.save();
    before.set('tags', ['churn-risk']);

    const after = createSandboxState<{ segments: Record<string, string[]>; tags: string[] }>(path);
    expect(after.get('segments')).toEqual({ VIP: ['a@example.com'] });
    expect(after.get('tags')).toEqual(['churn-risk']);
    after.delete('tags');
    expect(createSandboxState(path).all()).toEqual({ segments: { VIP: ['a@example.com'] } });
    expect(readdirSync(join(dir, 'nested'))).toEqual(['mailchimp.json']);
  });

  it('refuses a corrupt file, naming it, and keeps memory-only state without a path', () => {
    const dir = tempDir('segflow-state-');
    dirs.push(dir);
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{not json');
    expect(() => createSandboxState(path)).toThrow(path);
    const memory = createSandboxState<{ n: number }>();
    memory.set('n', 1);
    memory.save();
    expect(memory.get('n')).toBe(1);
    expect(existsSync(join(dir, 'n'))).toBe(false);
  });
});

describe('serveSandbox', () => {
  it('serves on a free port and closes', async () => {
    const app = new Hono().get('/ping', (c) => c.text('pong'));
    const one = await serveSandbox(app);
    const two = await serveSandbox(app);
    expect(one.port).not.toBe(two.port);
    expect(await (await fetch(`${one.url}/ping`)).text()).toBe('pong');
    await one.close();
    await two.close();
    await one.close();
    await expect(fetch(`${one.url}/ping`)).rejects.toThrow();
  });
});
