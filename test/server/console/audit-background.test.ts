/**
 * The audit page's report is ready before anyone asks: a served process (startServing, as `segflow serve` runs it)
 * builds it in the background after it starts and again after every job run, so GET /audit answers the kept report
 * (X-Audit-Fresh: false) on the first visit, and a report newer than the run after it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { loadConfig } from '../../../config/index.js';
import { startServing, type Serving } from '../../../server/index.js';
import { tempDir } from '../../support/temp.js';

const ADMIN = 'audit-bg-admin-token-1f5c9a3e7b2d';
const DATA = resolve(import.meta.dirname, '../../../config/examples/data');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let dir: string;
let serving: Serving;
const saved = { ...process.env };

const call = (method: string, path: string, body?: unknown) =>
  fetch(serving.url + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** Polls until `check` holds (the background build has no event to wait on from outside the process). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never: ${what}`);
}

/** When the kept audit report was built, as the overview tells it (reading it builds nothing). */
const keptBuiltAt = async (): Promise<string | null> => {
  const response = await call('GET', '/overview');
  expect(response.status).toBe(200);
  return ((await response.json()) as { audit: { builtAt: string } | null }).audit?.builtAt ?? null;
};

beforeAll(async () => {
  dir = tempDir('segflow-audit-bg-');
  Object.assign(process.env, { SEGFLOW_ADMIN_TOKEN: ADMIN, SEGFLOW_READ_TOKEN: 'audit-bg-read-token-8e2a6c0f4d9b' });
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
sources:
  shop:
    connector: file
    config:
      source: shop
      contacts: { path: ${JSON.stringify(join(DATA, 'contacts.csv'))} }
      events: { path: ${JSON.stringify(join(DATA, 'events.jsonl'))}, emailColumn: email, valueColumn: total, types: { order: purchase } }
segments:
  - key: buyers
    name: Bought in the last year
    rule: { event: purchase, within: 365d }
jobs:
  nightly:
    steps:
      - read: { sources: [shop] }
      - compute: {}
`,
  );
  const registry = builtinRegistry();
  serving = await startServing(await loadConfig(file, { registry }), {
    registry,
    logger: quiet,
    scheduler: false,
    host: '127.0.0.1',
    port: 0,
  });
}, 60_000);

afterAll(async () => {
  await serving?.stop();
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('the audit report kept by a served process', () => {
  it('is built after start and after each run, so the first GET /audit reads it instead of building it', async () => {
    // nobody has asked for the audit: the build after start keeps one all the same
    await eventually(async () => (await keptBuiltAt()) !== null, 'a kept audit report after start');
    const audit = await call('GET', '/audit');
    expect(audit.status).toBe(200);
    expect(audit.headers.get('x-audit-fresh')).toBe('false');

    const started = await call('POST', '/jobs/nightly/run', {});
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: number };
    await eventually(async () => {
      const run = (await (await call('GET', `/runs/${runId}`)).json()) as { status: string; finishedAt: string | null };
      if (run.status === 'running') return false;
      const builtAt = await keptBuiltAt();
      return builtAt !== null && builtAt > run.finishedAt!;
    }, 'a kept audit report built after the run');
    const after = await call('GET', '/audit');
    expect(after.headers.get('x-audit-fresh')).toBe('false');
  });
});
