/**
 * The admin API through `createServer(deps).request()`, on a store seeded by running a job against the HubSpot and
 * Segment sandboxes and a file source: every endpoint, auth, limits, malformed bodies, the erasure request end to end,
 * and no secret in any response body or log line.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { runJob } from '../../../sync/index.js';
import { loadConfig, type Config } from '../../../config/index.js';
import * as hubspot from '../../../connectors/hubspot/index.js';
import * as segment from '../../../connectors/segment/index.js';
import { acquireJobLock, openStore, readRun, startRun, type Store } from '../../../core/index.js';
import type { Logger } from '../../../plugins/index.js';
import { createServer } from '../../../server/index.js';
import { tempDir } from '../../support/temp.js';

const ADMIN = 'admin-token-5f1c2a9e7b3d8a0c4e6f';
const READ = 'read-token-0d3e8c4b21a7f9e5b3c1';

let dir: string;
let hub: hubspot.HubSpotSandbox;
let seg: segment.SegmentSandbox;
let config: Config;
let store: Store;
let app: ReturnType<typeof createServer>;
let env: Record<string, string>;
let erasedEmail: string;
let erasedHubSpotId: string;
let identitiesOfErased = 0;
const logged: string[] = [];
const bodies: string[] = [];
const registry = builtinRegistry();
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field
type Body = Record<string, any>;

const logger: Logger = {
  debug: (m, f) => logged.push(`${m} ${JSON.stringify(f ?? {})}`),
  info: (m, f) => logged.push(`${m} ${JSON.stringify(f ?? {})}`),
  warn: (m, f) => logged.push(`${m} ${JSON.stringify(f ?? {})}`),
  error: (m, f) => logged.push(`${m} ${JSON.stringify(f ?? {})}`),
};

async function call(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; raw?: string; cookie?: string } = {},
) {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? ADMIN : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (options.cookie) headers.Cookie = options.cookie;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  bodies.push(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json: json as Body, headers: res.headers };
}

async function waitForRun(runId: number): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const status = (await readRun(store, runId))?.status;
    if (status && status !== 'running') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${runId} did not finish`);
}

beforeAll(async () => {
  dir = tempDir('segflow-api-');
  hub = await hubspot.startSandbox({ seed: 'api', people: 60 });
  seg = await segment.startSandbox({ port: 0, limits: { dedupWindowMs: 0 } });
  const withEmail = [...hub.portal.contacts.values()].filter((c) => !c.archived && c.properties.email);
  const chosen = withEmail[0]!;
  erasedEmail = chosen.properties.email!.toLowerCase();
  erasedHubSpotId = chosen.id;
  // The shop also knows the person: a source that cannot erase, so only suppression keeps them out afterwards.
  writeFileSync(
    join(dir, 'contacts.csv'),
    `id,email,updated_at\ns1,${erasedEmail},2026-01-01T00:00:00Z\ns2,only-in-shop@example.com,2026-01-02T00:00:00Z\n`,
  );
  writeFileSync(
    join(dir, 'events.jsonl'),
    `${JSON.stringify({ id: 'o1', type: 'order', email: erasedEmail, total: 40, occurred_at: '2026-05-01T00:00:00Z' })}\n`,
  );
  const hubConfig = hubspot.sandboxConfig(hub);
  const segConfig = segment.sandboxConfig(seg);
  env = {
    HUBSPOT_TOKEN: hubConfig.accessToken!,
    HUBSPOT_BASE_PATH: hubConfig.basePath!,
    SEGMENT_WRITE_KEY: segConfig.writeKey,
    SEGMENT_HOST: segConfig.host,
    SEGMENT_SPACE_ID: segConfig.spaceId,
    SEGMENT_PROFILES_TOKEN: segConfig.profilesToken,
    SEGFLOW_ADMIN_TOKEN: ADMIN,
    SEGFLOW_READ_TOKEN: READ,
  };
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  hubspot:
    connector: hubspot
    config:
      accessToken: \${HUBSPOT_TOKEN}
      basePath: \${HUBSPOT_BASE_PATH}
    streams: [contacts]
  shop:
    connector: file
    config:
      source: shop
      contacts: { path: ${JSON.stringify(join(dir, 'contacts.csv'))} }
      events: { path: ${JSON.stringify(join(dir, 'events.jsonl'))}, emailColumn: email, valueColumn: total, types: { order: purchase } }
destinations:
  hubspot_lists:
    connector: hubspot
    config:
      accessToken: \${HUBSPOT_TOKEN}
      basePath: \${HUBSPOT_BASE_PATH}
      listPrefix: "segflow: "
    identities_from: hubspot
  segment:
    connector: segment
    config:
      writeKey: \${SEGMENT_WRITE_KEY}
      host: \${SEGMENT_HOST}
      profilesUrl: \${SEGMENT_HOST}
      spaceId: \${SEGMENT_SPACE_ID}
      profilesToken: \${SEGMENT_PROFILES_TOKEN}
segments:
  - key: reachable
    name: Has an email
    rule: { trait: email, exists: true }
  - key: buyers
    name: Bought this year
    rule: { event: purchase, within: 365d }
  - key: reachable_held
    name: Has an email, a fifth held out
    rule: { trait: email, exists: true }
    holdout: { share: 20%, outcome: purchases, days: 30 }
jobs:
  sync:
    schedule: "0 2 * * *"
    timezone: Europe/Paris
    steps:
      - read: { sources: [hubspot, shop], mode: full }
      - compute: {}
      - push: { destination: hubspot_lists, segments: [reachable], mode: mirror }
      - push: { destination: segment, segments: [reachable, buyers], mode: mirror }
server:
  body_limit: 4kb
`,
  );
  config = await loadConfig(file, { registry, env });
  const now = () => new Date('2026-06-30T00:00:00Z');
  const first = await runJob(config, 'sync', { registry, now: now() });
  expect(first.status).toBe('succeeded');
  store = await openStore(config.store.path);
  app = createServer({
    config,
    store,
    registry,
    logger,
    env,
    now,
    startJob: (job, options) =>
      new Promise((resolve, reject) => {
        runJob(config, job, {
          registry,
          now: now(),
          ...(options.dryRun ? { dryRun: true } : {}),
          onRunStarted: (runId) => resolve({ runId, status: 'running' }),
        }).then(
          (result) =>
            resolve({ status: result.status, ...(result.runId ? { runId: result.runId } : {}), plan: result.steps }),
          reject,
        );
      }),
  });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await hub?.close();
  await seg?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('auth', () => {
  it('answers /health without a token', async () => {
    const res = await call('GET', '/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', store: 'reachable' });
  });

  it('refuses every API endpoint without a token, or with a wrong one (401)', async () => {
    for (const path of [
      '/metrics',
      '/openapi.json',
      '/connections',
      '/jobs',
      '/runs',
      '/segments',
      '/models',
      '/contacts/1',
      '/audit',
    ]) {
      const res = await call('GET', path, { token: null });
      expect([path, res.status, res.json?.error?.code]).toEqual([path, 401, 'unauthorized']);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/Bearer/);
      expect((await call('GET', path, { token: 'not-the-token' })).status).toBe(401);
    }
  });

  it('lets the read-only token read but not act (403)', async () => {
    expect((await call('GET', '/segments', { token: READ })).status).toBe(200);
    for (const [method, path] of [
      ['POST', '/jobs/sync/run'],
      ['POST', '/connections/hubspot/check'],
      ['POST', '/runs/1/cancel'],
      ['POST', '/jobs/sync/unlock'],
      ['DELETE', '/contacts/1'],
    ] as const) {
      const res = await call(method, path, { token: READ, body: {} });
      expect([path, res.status, res.json?.error?.code]).toEqual([path, 403, 'forbidden']);
    }
  });

  it('opens a console session from a token in an HttpOnly, SameSite=Strict cookie, and closes it', async () => {
    expect((await call('POST', '/session', { token: null, body: { token: 'wrong' } })).status).toBe(401);
    const opened = await call('POST', '/session', { token: null, body: { token: READ } });
    expect(opened.status).toBe(201);
    const cookie = opened.headers.get('Set-Cookie')!;
    expect(cookie).toMatch(/^segflow_session=[A-Za-z0-9_-]{20,};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    const session = cookie.split(';')[0]!;
    expect((await call('GET', '/segments', { token: null, cookie: session })).status).toBe(200);
    expect((await call('DELETE', '/contacts/1', { token: null, cookie: session })).status).toBe(403);
    expect((await call('DELETE', '/session', { token: null, cookie: session })).status).toBe(204);
    expect((await call('GET', '/segments', { token: null, cookie: session })).status).toBe(401);
  });

  it("the console's sign-out form ends the session and sends the browser to the login page", async () => {
    const session = (await call('POST', '/session', { token: null, body: { token: READ } })).headers
      .get('Set-Cookie')!
      .split(';')[0]!;
    expect((await call('GET', '/', { token: null, cookie: session })).status).toBe(200);
    const signedOut = await call('POST', '/console/sign-out', { token: null, cookie: session });
    expect([signedOut.status, signedOut.headers.get('Location')]).toEqual([303, '/console/login']);
    expect(signedOut.headers.get('Set-Cookie')).toMatch(/^segflow_session=;.*Max-Age=0/);
    expect((await call('GET', '/segments', { token: null, cookie: session })).status).toBe(401);
    expect((await call('GET', '/', { token: null, cookie: session })).headers.get('Location')).toBe(
      '/console/login?next=%2F',
    );
  });
});

describe('bodies', () => {
  it('refuses a body over the limit with 413', async () => {
    const res = await call('POST', '/segments/preview', { body: { rule: { trait: 'email', eq: 'x'.repeat(8000) } } });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('payload_too_large');
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const res = await call('POST', '/segments/preview', { raw: '{"rule": ' });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('malformed_json');
  });

  it('answers an invalid body with 400 naming the field', async () => {
    const run = await call('POST', '/jobs/sync/run', { body: { dryRun: 'yes' } });
    expect(run.status).toBe(400);
    expect(run.json.error).toMatchObject({ code: 'invalid_body', field: 'dryRun' });
    const rule = await call('POST', '/segments/preview', { body: { rule: { all: [{ trait: 'email', gt: [1] }] } } });
    expect(rule.status).toBe(400);
    expect(rule.json.error).toMatchObject({ code: 'invalid_body', field: 'rule.all.0.gt' });
    expect(rule.text).not.toMatch(/at \w+ \(|\.ts:\d+/);
  });
});

describe('reading', () => {
  it('lists connections with their connector, without any secret, and checks one', async () => {
    const list = await call('GET', '/connections', { token: READ });
    const names = list.json.connections.map((c: { kind: string; name: string }) => `${c.kind}:${c.name}`);
    expect(names).toEqual(['source:hubspot', 'source:shop', 'destination:hubspot_lists', 'destination:segment']);
    const lists = list.json.connections.find((c: { name: string }) => c.name === 'hubspot_lists');
    expect(lists).toMatchObject({
      connector: 'hubspot',
      canErase: true,
      lastCheck: null,
      config: { basePath: hub.url },
    });
    expect(lists.secrets).toContain('accessToken');
    const checked = await call('POST', '/connections/hubspot_lists/check');
    expect(checked.json).toMatchObject({ name: 'hubspot_lists', ok: true });
    const again = await call('GET', '/connections', { token: READ });
    expect(again.json.connections.find((c: { name: string }) => c.name === 'hubspot_lists').lastCheck.ok).toBe(true);
    expect((await call('POST', '/connections/nope/check')).status).toBe(404);
  });

  it('lists jobs with their schedule and next run, starts a run and shows it', async () => {
    const jobs = await call('GET', '/jobs', { token: READ });
    const sync = jobs.json.jobs[0];
    expect(sync).toMatchObject({
      name: 'sync',
      schedule: '0 2 * * *',
      timezone: 'Europe/Paris',
      lastRun: { status: 'succeeded' },
    });
    // 02:00 in Paris is 00:00 or 01:00 UTC
    expect(sync.nextRun).toMatch(/T0[01]:00:00\.000Z$/);

    const started = await call('POST', '/jobs/sync/run', { body: {} });
    expect(started.status).toBe(202);
    const runId = started.json.runId as number;
    expect(await waitForRun(runId)).toBe('succeeded');
    const run = await call('GET', `/runs/${runId}`, { token: READ });
    expect(run.json).toMatchObject({ id: runId, job: 'sync', status: 'succeeded', rejected: { total: 0, rows: [] } });
    expect(run.json.durationMs).toBeGreaterThanOrEqual(0);
    expect(run.json.counts.read).toBeGreaterThan(0);

    const page = await call('GET', '/runs?job=sync&per_page=1', { token: READ });
    expect(page.json).toMatchObject({ total: 2, pages: 2, page: 1 });
    expect(page.json.runs[0].id).toBe(runId);
    expect((await call('GET', '/runs/999999', { token: READ })).status).toBe(404);
    expect((await call('POST', `/runs/${runId}/cancel`)).json.error.code).toBe('conflict');

    // A lock left by a machine that will not come back: cleared by hand, its unfinished run marked abandoned.
    const stuck = await startRun(store, 'sync');
    await acquireJobLock(store, 'sync', 'gone', 600_000, new Date(), { host: 'gone/boot', pid: 9, started: '1' });
    expect((await call('POST', '/jobs/sync/run', { body: {} })).status).toBe(409);
    const unlocked = await call('POST', '/jobs/sync/unlock', { body: {} });
    expect(unlocked.json).toEqual({ job: 'sync', cleared: true, abandonedRuns: [stuck] });
    expect((await call('GET', `/runs/${stuck}`, { token: READ })).json.status).toBe('abandoned');
    expect((await call('POST', '/jobs/nope/unlock', { body: {} })).status).toBe(404);
    expect((await call('POST', '/jobs/sync/unlock', { body: { force: 'yes' } })).status).toBe(400);
    expect((await call('GET', '/runs?per_page=0', { token: READ })).json.error).toMatchObject({
      code: 'invalid_query',
      field: 'per_page',
    });
  });

  it('plans a dry run without recording one', async () => {
    const before = (await call('GET', '/runs', { token: READ })).json.total;
    const dry = await call('POST', '/jobs/sync/run', { body: { dryRun: true } });
    expect(dry.status).toBe(200);
    expect(dry.json.dryRun).toBe(true);
    expect((await call('GET', '/runs', { token: READ })).json.total).toBe(before);
  });

  it('shows segments with size and trend, a segment, its members, a preview and the migration', async () => {
    const hubspotEmails = new Set(
      [...hub.portal.contacts.values()]
        .filter((c) => !c.archived && c.properties.email)
        .map((c) => c.properties.email!.toLowerCase()),
    );
    const list = await call('GET', '/segments', { token: READ });
    const reachable = list.json.segments.find((s: { key: string }) => s.key === 'reachable');
    // every distinct email of the HubSpot portal, plus the shop's own customer
    expect(reachable.size).toBe(new Set([...hubspotEmails, 'only-in-shop@example.com']).size);
    expect(reachable.trend.length).toBeGreaterThanOrEqual(2);

    const one = await call('GET', '/segments/buyers', { token: READ });
    expect(one.json).toMatchObject({
      key: 'buyers',
      name: 'Bought this year',
      rule: { event: 'purchase', within: '365d' },
      latest: { size: 1 },
    });
    expect(one.json.profile.members).toBe(1);
    expect(one.json.latest.stability).toBe(1);

    const search = await call('GET', `/segments/reachable/members?q=${encodeURIComponent(erasedEmail.slice(0, 6))}`, {
      token: READ,
    });
    expect(search.json.members.map((m: { email: string }) => m.email)).toContain(erasedEmail);
    const pageOne = await call('GET', '/segments/reachable/members?per_page=5&page=2', { token: READ });
    expect(pageOne.json.members).toHaveLength(5);
    expect(pageOne.json.total).toBe(reachable.size);

    const preview = await call('POST', '/segments/preview', {
      token: READ,
      body: { rule: { trait: 'email', eq: 'only-in-shop@example.com' } },
    });
    expect(preview.json, preview.text).toMatchObject({ count: 1 });
    expect(preview.json.sample[0].email).toBe('only-in-shop@example.com');
    const unknown = await call('POST', '/segments/preview', { body: { rule: { feature: 'no_such_feature', gt: 1 } } });
    expect(unknown.json.error.code).toBe('invalid_rule');

    const migration = await call('GET', '/segments/migration', { token: READ });
    expect(migration.status).toBe(200);
    const stayed = migration.json.cells.find(
      (c: { from: string; to: string }) => c.from === 'buyers' && c.to === 'buyers',
    );
    expect(stayed.contacts).toBe(1);
    expect((await call('GET', '/segments/nope', { token: READ })).status).toBe(404);
  });

  it('shows a holdout segment with its treated and control members compared once their window has ended', async () => {
    const held = await call('GET', '/segments/reachable_held', { token: READ });
    const { size, control } = held.json.latest as { size: number; control: number };
    expect(size).toBeGreaterThan(0);
    expect(control).toBeGreaterThan(0);
    // everyone entered at the first run (the server's now): all still in their 30-day window
    expect(held.json.holdoutComparison).toMatchObject({
      key: 'reachable_held',
      outcome: 'purchases',
      days: 30,
      treated: { members: 0, pending: size, mean: null },
      control: { members: 0, pending: control, mean: null },
      difference: null,
    });
    expect((await call('GET', '/segments/buyers', { token: READ })).json.holdoutComparison).toBeNull();

    // 45 days on, every window has ended; nobody bought after entering (the one order is from May)
    const later = createServer({
      config,
      store,
      registry,
      logger,
      env,
      now: () => new Date('2026-08-14T00:00:00Z'),
      startJob: () => Promise.reject(new Error('not here')),
    });
    const res = await later.request('/segments/reachable_held', { headers: { Authorization: `Bearer ${READ}` } });
    const comparison = ((await res.json()) as Body).holdoutComparison;
    expect(comparison).toMatchObject({
      treated: { members: size, pending: 0, mean: 0 },
      control: { members: control, pending: 0, mean: 0 },
      method: 'welch',
    });
  });

  it('shows models and the unified profile of a contact by email and by id', async () => {
    expect((await call('GET', '/models', { token: READ })).json).toEqual({ models: [] });
    const found = await call('GET', `/contacts?email=${encodeURIComponent(erasedEmail.toUpperCase())}`, {
      token: READ,
    });
    expect(found.json.contacts).toHaveLength(1);
    const profile = found.json.contacts[0];
    const ids = profile.identities.filter((i: { externalId: string | null }) => i.externalId !== null);
    expect(ids.map((i: { source: string; externalId: string }) => `${i.source}:${i.externalId}`).sort()).toEqual([
      `hubspot:${erasedHubSpotId}`,
      'shop:s1',
    ]);
    identitiesOfErased = profile.identities.length;
    expect(profile.recentEvents.map((e: { type: string; value: number }) => [e.type, e.value])).toEqual([
      ['purchase', 40],
    ]);
    expect(
      profile.segments
        .filter((s: { current: boolean }) => s.current)
        .map((s: { segment: string }) => s.segment)
        .sort(),
    ).toEqual(['buyers', 'reachable']);
    expect(profile.features.frequency_all).toBe(1);
    const byId = await call('GET', `/contacts/${profile.id}`, { token: READ });
    expect(byId.json.email).toBe(erasedEmail);
  });

  it('serves metrics in the Prometheus format and the OpenAPI document', async () => {
    const metrics = await call('GET', '/metrics', { token: READ });
    expect(metrics.headers.get('Content-Type')).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^segflow_runs_total\{job="sync",status="succeeded"\} [1-9]/m);
    expect(metrics.text).toMatch(/^segflow_api_calls_total\{connection="hubspot_lists"\} [1-9]/m);
    expect(metrics.text).toMatch(/^# TYPE segflow_changes_sent_total counter$/m);
    const doc = await call('GET', '/openapi.json', { token: READ });
    expect(doc.json.openapi).toBe('3.1.0');
    expect(
      doc.json.paths['/jobs/{name}/run'].post.requestBody.content['application/json'].schema.properties.dryRun.type,
    ).toBe('boolean');
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/health', '/segments/preview', '/contacts/{id}', '/runs/{id}/cancel']),
    );
  });
});

describe('erasure', () => {
  it('erases the contact in HubSpot, reports Segment as unable, removes it from the store, and the next sync does not bring it back', async () => {
    const id = (
      (await call('GET', `/contacts?email=${encodeURIComponent(erasedEmail)}`, { token: READ })).json.contacts[0] as {
        id: number;
      }
    ).id;
    expect(hub.portal.contacts.has(erasedHubSpotId)).toBe(true);
    const erased = await call('DELETE', `/contacts/${id}`);
    expect(erased.status).toBe(200);
    expect(erased.json.destinations).toEqual([
      { destination: 'hubspot_lists', connector: 'hubspot', status: 'erased' },
      { destination: 'segment', connector: 'segment', status: 'not_supported' },
    ]);
    expect(erased.json.complete).toBe(true);
    expect(erased.json.store.removed).toMatchObject({ contacts: 1, identities: identitiesOfErased, events: 1 });
    expect(hub.portal.contacts.has(erasedHubSpotId)).toBe(false);
    expect((await call('GET', `/contacts/${id}`, { token: READ })).status).toBe(404);
    expect(logged.some((line) => line.startsWith('erasure request'))).toBe(true);
    expect(logged.filter((line) => line.startsWith('erasure request')).join('\n')).not.toContain(erasedEmail);

    // the shop still lists the person: only the suppression keeps them out of a full re-read
    const started = await call('POST', '/jobs/sync/run', { body: {} });
    expect(await waitForRun(started.json.runId)).toBe('succeeded');
    expect(
      (await call('GET', `/contacts?email=${encodeURIComponent(erasedEmail)}`, { token: READ })).json.contacts,
    ).toEqual([]);
    const n = (await store.get(
      "SELECT COUNT(*) AS n FROM identities WHERE source = 'shop' AND external_id = 's1'",
    )) as { n: number };
    expect(n.n).toBe(0);
    expect((await call('DELETE', `/contacts/${id}`)).status).toBe(404);
  });

  it('never shows a secret in a response body or a log line', () => {
    const secrets = [ADMIN, READ, env.HUBSPOT_TOKEN!, env.SEGMENT_WRITE_KEY!, env.SEGMENT_PROFILES_TOKEN!];
    for (const secret of secrets) {
      expect(bodies.filter((b) => b.includes(secret))).toEqual([]);
      expect(logged.filter((l) => l.includes(secret))).toEqual([]);
    }
    expect(bodies.length).toBeGreaterThan(40);
  });

  it('never writes a secret into the store file or its write-ahead log', () => {
    // after jobs ran (read, compute, push), checks, an erasure and every API call above
    const files = [config.store.path, `${config.store.path}-wal`, `${config.store.path}-shm`].filter((f) =>
      existsSync(f),
    );
    expect(files).toContain(`${config.store.path}-wal`);
    const bytes = files.map((f) => [f, readFileSync(f)] as const);
    expect(bytes.reduce((n, [, b]) => n + b.length, 0)).toBeGreaterThan(100_000);
    // the scan finds what is there: the shop's customer is in the store, in plain text
    expect(bytes.some(([, b]) => b.includes('only-in-shop@example.com'))).toBe(true);
    for (const secret of [ADMIN, READ, env.HUBSPOT_TOKEN!, env.SEGMENT_WRITE_KEY!, env.SEGMENT_PROFILES_TOKEN!]) {
      expect(
        bytes.filter(([, b]) => b.includes(secret) || b.includes(Buffer.from(secret, 'utf16le'))).map(([f]) => f),
        secret.slice(0, 4),
      ).toEqual([]);
    }
  });
});
