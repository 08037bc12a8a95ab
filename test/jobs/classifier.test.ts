// A job run hands the connector's own error classifier to the contexts it builds: a plugin that knows its tool's
// "daily quota used up" and "list archived" answers (both 5xx, which the default classifier retries as transient)
// stops at once with its own reason, as `segflow run`, `serve` and `schedule` should.
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig, type Config } from '../../config/index.js';
import {
  ConfigError,
  createRegistry,
  defineDestination,
  defineSource,
  type ConnectorContext,
  type Registry,
} from '../../plugins/index.js';
import { runJob } from '../../sync/index.js';
import { tempDir } from '../support/temp.js';

/** What the tool answers each request to a path, in turn; the last answer repeats. */
type Answer = { status: number; body: unknown; headers?: Record<string, string> };

let dir: string;
let server: Server;
let baseUrl: string;
let script: Map<string, Answer[]>;
let requests: Map<string, number>;
let classified: string[];
let registry: Registry;

const CONTACTS = ['ada', 'bob', 'cy'].map((p, i) => ({
  id: `c${i}`,
  email: `${p}@example.com`,
  updated_at: `2024-01-0${i + 1}T00:00:00Z`,
}));

/** Calls the tool through the context; a non-2xx answer is thrown as the SDKs do: status, headers and parsed body. */
async function callTool(ctx: ConnectorContext, operation: string, url: string, init?: RequestInit): Promise<unknown> {
  return ctx.call(operation, async (signal) => {
    const response = await fetch(url, { ...init, signal });
    const body: unknown = await response.json();
    if (!response.ok) {
      throw Object.assign(new Error(`HTTP ${response.status}`), {
        status: response.status,
        headers: response.headers,
        body,
      });
    }
    return body;
  });
}

/** The plugin's mapping of its tool's errors; it notes each error it is asked about. */
function classifyMeteredError(error: unknown): Error | undefined {
  const code = (error as { body?: { error?: string } }).body?.error;
  classified.push(code ?? String((error as { status?: number }).status));
  if (code === 'DAILY_QUOTA_EXCEEDED')
    return new ConfigError('the daily API quota is used up', { fix: 'run again after midnight UTC' });
  if (code === 'LIST_ARCHIVED') return new ConfigError('the list is archived in the tool', { fix: 'unarchive it' });
  return undefined;
}

const spec = z.object({ baseUrl: z.string(), path: z.string() });

const meteredSource = defineSource({
  name: 'metered',
  spec,
  classifyError: classifyMeteredError,
  async check() {
    return { ok: true };
  },
  streams: () => [
    {
      name: 'contacts',
      recordKind: 'contact',
      primaryKey: 'externalId',
      cursorField: 'traits.updated_at',
      modes: ['full_refresh'],
      async *read({ config }, ctx) {
        const rows = (await callTool(ctx, 'contacts.list', `${config.baseUrl}${config.path}`)) as typeof CONTACTS;
        for (const row of rows) {
          yield {
            type: 'record',
            record: {
              kind: 'contact',
              source: 'metered',
              externalId: row.id,
              traits: { email: row.email, updated_at: row.updated_at },
            },
          };
        }
        yield { type: 'state', state: { cursor: rows.at(-1)?.updated_at ?? null } };
      },
    },
  ],
});

const meteredLists = defineDestination({
  name: 'metered-lists',
  spec,
  batchSize: 100,
  classifyError: classifyMeteredError,
  async check() {
    return { ok: true };
  },
  async write(batch, config, ctx) {
    await callTool(ctx, 'members.add', `${config.baseUrl}${config.path}`, {
      method: 'POST',
      body: JSON.stringify(batch.changes.map((c) => c.contact.email)),
    });
    return batch.changes.map(() => ({ status: 'accepted' as const }));
  },
  async readMembership() {
    return [];
  },
});

async function config(): Promise<Config> {
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store:
  path: ${JSON.stringify(join(dir, 'segflow.db'))}
sources:
  crm:
    connector: metered
    config: { baseUrl: ${JSON.stringify(baseUrl)}, path: /crm/contacts }
  quota:
    connector: metered
    config: { baseUrl: ${JSON.stringify(baseUrl)}, path: /quota/contacts }
destinations:
  lists:
    connector: metered-lists
    config: { baseUrl: ${JSON.stringify(baseUrl)}, path: /lists/members }
segments:
  - key: everyone
    name: Everyone with an email
    rule: { trait: email, exists: true }
jobs:
  pull:
    steps:
      - read: { sources: [quota], mode: full }
  sync:
    steps:
      - read: { sources: [crm], mode: full }
      - compute: {}
      - push: { destination: lists, segments: [everyone], mode: mirror }
`,
  );
  return loadConfig(file, { registry, env: {} });
}

const rateLimited: Answer = { status: 429, body: { error: 'TOO_MANY_REQUESTS' }, headers: { 'retry-after': '0' } };

beforeEach(async () => {
  dir = tempDir('segflow-classifier-');
  classified = [];
  requests = new Map();
  script = new Map([
    ['/crm/contacts', [{ status: 200, body: CONTACTS }]],
    // a burst limit first, then the daily quota: a 503 the default classifier would retry
    ['/quota/contacts', [rateLimited, { status: 503, body: { error: 'DAILY_QUOTA_EXCEEDED' } }]],
    ['/lists/members', [rateLimited, { status: 500, body: { error: 'LIST_ARCHIVED' } }]],
  ]);
  server = createServer((req, res) => {
    const path = req.url ?? '';
    const n = requests.get(path) ?? 0;
    requests.set(path, n + 1);
    const answers = script.get(path) ?? [{ status: 404, body: { error: 'NOT_FOUND' } }];
    const answer = answers[Math.min(n, answers.length - 1)]!;
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  registry = createRegistry([meteredSource, meteredLists]);
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('a job run uses the connector’s error classifier', () => {
  it('a read that hits the daily quota stops with the plugin’s reason instead of retrying a 503', async () => {
    const result = await runJob(await config(), 'pull', { registry, computeIn: 'here' });

    expect(result.status).toBe('failed');
    const step = result.steps[0];
    expect(step?.kind).toBe('read');
    const stream = step?.kind === 'read' ? step.sources[0]?.streams[0] : undefined;
    expect(stream?.status).toBe('failed');
    expect(stream?.error).toContain('the daily API quota is used up');
    // the 429 was waited out and tried again; the quota answer, a config error, was not retried
    expect(requests.get('/quota/contacts')).toBe(2);
    expect(classified).toEqual(['TOO_MANY_REQUESTS', 'DAILY_QUOTA_EXCEEDED']);
  });

  it('a push to an archived list fails the segment with the plugin’s reason after one try', async () => {
    const result = await runJob(await config(), 'sync', { registry, computeIn: 'here', retryDelayMs: 1 });

    expect(result.status).toBe('partial');
    const push = result.steps.find((s) => s.kind === 'push');
    const segment = push?.kind === 'push' ? push.outcome.segments[0] : undefined;
    expect(segment?.status).toBe('failed');
    expect(segment?.error).toContain('the list is archived in the tool');
    expect(requests.get('/lists/members')).toBe(2);
    expect(classified).toEqual(['TOO_MANY_REQUESTS', 'LIST_ARCHIVED']);
  });
});
