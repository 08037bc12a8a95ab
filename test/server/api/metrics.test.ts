/**
 * /metrics of a served process (startServing, as `segflow serve` runs it): the API calls and 429s of the job runs it
 * starts and of its real-time flusher, per connection, equal what the HubSpot sandbox received and answered.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { startServing, type Serving } from '../../../server/index.js';
import { loadConfig } from '../../../config/index.js';
import * as hubspot from '../../../connectors/hubspot/index.js';
import type { Logger } from '../../../plugins/index.js';
import { tempDir } from '../../support/temp.js';

const ADMIN = 'metrics-admin-token-7c2e9a41';
const WRITE_KEY = 'metrics-write-key-3b8d5f60';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let dir: string;
let hub: hubspot.HubSpotSandbox;
let serving: Serving;
const saved = { ...process.env };

async function api(method: string, path: string): Promise<Response> {
  return fetch(serving.url + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
}

async function runToEnd(job: string): Promise<string> {
  const started = (await (await api('POST', `/jobs/${job}/run`)).json()) as { runId: number };
  for (let i = 0; i < 1200; i++) {
    const run = (await (await api('GET', `/runs/${started.runId}`)).json()) as { status: string };
    if (run.status !== 'running') return run.status;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${started.runId} did not finish`);
}

/** Sample values of one metric, by connection label. */
async function series(name: string): Promise<Record<string, number>> {
  const text = await (await api('GET', '/metrics')).text();
  const out: Record<string, number> = {};
  for (const match of text.matchAll(new RegExp(`^${name}\\{connection="([^"]+)"\\} (\\d+)$`, 'gm')))
    out[match[1]!] = Number(match[2]);
  return out;
}

const apiRequests = () => hub.recorder.requests.filter((r) => r.path !== '/oauth/v1/token');

beforeAll(async () => {
  dir = tempDir('segflow-metrics-');
  hub = await hubspot.startSandbox({ seed: 'metrics', people: 40, recordBodies: false });
  const hubConfig = hubspot.sandboxConfig(hub);
  Object.assign(process.env, {
    HUBSPOT_TOKEN: hubConfig.accessToken,
    HUBSPOT_BASE_PATH: hubConfig.basePath,
    SEGFLOW_ADMIN_TOKEN: ADMIN,
    WEBSITE_WRITE_KEY: WRITE_KEY,
  });
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
sources:
  hubspot:
    connector: hubspot
    config: { accessToken: "\${HUBSPOT_TOKEN}", basePath: "\${HUBSPOT_BASE_PATH}" }
    streams: [contacts]
destinations:
  crm_lists:
    connector: hubspot
    config: { accessToken: "\${HUBSPOT_TOKEN}", basePath: "\${HUBSPOT_BASE_PATH}", listPrefix: "segflow: " }
    identities_from: hubspot
segments:
  - key: reachable
    name: Has an email
    rule: { trait: email, exists: true }
  - key: buyers
    name: Bought this year
    rule: { event: purchase, within: 365d }
jobs:
  sync:
    steps:
      - read: { sources: [hubspot], mode: full }
      - compute: {}
      - push: { destination: crm_lists, segments: [reachable, buyers], mode: mirror }
server:
  write_keys: { website: WEBSITE_WRITE_KEY }
`,
  );
  const registry = builtinRegistry();
  const config = await loadConfig(file, { registry });
  serving = await startServing(config, { registry, logger: quiet, scheduler: false, host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await serving?.stop();
  await hub?.close();
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('/metrics of a served process', () => {
  it("reports the process's memory, CPU and event-loop lag, in the Prometheus format", async () => {
    const response = await api('GET', '/metrics');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(text).toMatch(/^# TYPE process_resident_memory_bytes gauge$/m);
    expect(sample('process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(sample('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sample('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    // every metric name appears in one # TYPE line only: segflow's own and the process's do not clash
    const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(new Set(types).size).toBe(types.length);
  });

  it('reports the real-time queues: messages waiting to load and contacts waiting per destination', async () => {
    const text = await (await api('GET', '/metrics')).text();
    expect(text).toMatch(/^segflow_queue_depth\{queue="inbox"\} \d+$/m);
    expect(text).toMatch(/^segflow_queue_depth\{queue="pending:crm_lists"\} \d+$/m);
  });

  it('counts the API calls and 429s of the runs it started, per connection, as the tool saw them', async () => {
    expect(await series('segflow_api_calls_total')).toEqual({});
    hub.recorder.clear();
    hub.faults.storm(2);
    expect(await runToEnd('sync')).toBe('succeeded');

    const calls = await series('segflow_api_calls_total');
    const limited = await series('segflow_api_rate_limited_total');
    // both connections called the tool: the read through the source, the lists through the destination
    expect(calls.hubspot).toBeGreaterThan(0);
    expect(calls.crm_lists).toBeGreaterThan(0);
    const received = apiRequests();
    expect(calls.hubspot! + calls.crm_lists!).toBe(received.length);
    expect(limited.hubspot! + limited.crm_lists!).toBe(received.filter((r) => r.status === 429).length);
    expect(limited.hubspot! + limited.crm_lists!).toBe(2);
    // the read came first, so it met the two injected 429s
    expect(limited).toEqual({ hubspot: 2, crm_lists: 0 });
  });

  it('keeps counting across runs', async () => {
    const before = await series('segflow_api_calls_total');
    const received = apiRequests().length;
    expect(await runToEnd('sync')).toBe('succeeded');
    const after = await series('segflow_api_calls_total');
    expect(after.hubspot! + after.crm_lists! - before.hubspot! - before.crm_lists!).toBe(
      apiRequests().length - received,
    );
    expect(after.hubspot).toBeGreaterThan(before.hubspot!);
  });

  it('counts the real-time flusher’s calls too', async () => {
    const before = await series('segflow_api_calls_total');
    const received = apiRequests().length;
    const email = [...hub.portal.contacts.values()].find((c) => !c.archived && c.properties.email)!.properties.email!;
    // a HubSpot contact identified on the website buys: they enter "buyers", which the flusher adds to its HubSpot list
    const res = await fetch(`${serving.url}/v1/batch`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        batch: [
          { type: 'identify', userId: 'w1', messageId: 'identify-1', traits: { email } },
          {
            type: 'track',
            userId: 'w1',
            event: 'Order Completed',
            messageId: 'order-1',
            properties: { revenue: 30, currency: 'USD' },
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    for (let i = 0; i < 600 && apiRequests().length === received; i++) await new Promise((r) => setTimeout(r, 50));
    expect(apiRequests().length, 'the flusher called HubSpot').toBeGreaterThan(received);
    // the flush may still be making calls: the counts agree once it is done
    const delta = async () => ((await series('segflow_api_calls_total')).crm_lists ?? 0) - before.crm_lists!;
    await expect.poll(async () => (await delta()) === apiRequests().length - received, { timeout: 20_000 }).toBe(true);
    expect((await series('segflow_api_calls_total')).hubspot).toBe(before.hubspot);
  });
});
