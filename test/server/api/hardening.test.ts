/**
 * What an attacker or a careless client sends the admin API gets a 4xx, never a 500 and never a reach into the code:
 * names that every JavaScript object inherits (`__proto__`, `constructor`, `toString`) name no job or model, and rules
 * past the rule limits (depth, number of conditions, window length) are a 400 naming the limit.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { command as segmentsCommand } from '../../../cli/commands/segments.js';
import { command as validateCommand } from '../../../cli/commands/validate.js';
import { loadConfig, type Config } from '../../../config/index.js';
import { openStore, RULE_LIMITS, type Store } from '../../../core/index.js';
import type { Logger } from '../../../plugins/index.js';
import { createServer } from '../../../server/index.js';
import { runCommand } from '../../support/cli.js';
import { tempDir } from '../../support/temp.js';

const ADMIN = 'hardening-admin-7c1e5a0b9d3f4e2a8b6c';
const READ = 'hardening-read-2b9f4d6e1a3c5e7f9a0d';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field
type Body = Record<string, any>;

let dir: string;
let config: Config;
let store: Store;
let app: ReturnType<typeof createServer>;
const started: string[] = [];

beforeAll(async () => {
  dir = tempDir('segflow-hardening-');
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
segments:
  - key: french
    rule: { trait: country, eq: FR }
models:
  churn: { kind: churn }
jobs:
  nightly:
    steps:
      - compute: {}
`,
  );
  config = await loadConfig(file, { registry: builtinRegistry() });
  store = await openStore(config.store.path);
  app = createServer({
    config,
    store,
    registry: builtinRegistry(),
    logger: quiet,
    env: { SEGFLOW_ADMIN_TOKEN: ADMIN, SEGFLOW_READ_TOKEN: READ },
    startJob: (job) => {
      started.push(job);
      return Promise.resolve({ runId: 1, status: 'running' });
    },
  });
});
afterAll(async () => {
  await store.close();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await app.request(path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Body };
}

const INHERITED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

describe('names every object inherits', () => {
  it.each(INHERITED)('%s is no job: running or unlocking it is a 404 and starts nothing', async (name) => {
    const run = await call('POST', `/jobs/${name}/run`, {});
    expect(run.status).toBe(404);
    expect(run.json.error.code).toBe('not_found');
    const unlock = await call('POST', `/jobs/${name}/unlock`, {});
    expect(unlock.status).toBe(404);
    expect(started).toEqual([]);
  });

  it.each(INHERITED)('%s is no model, segment or connection: a 404', async (name) => {
    expect((await call('GET', `/models/${name}`)).status).toBe(404);
    expect((await call('GET', `/segments/${name}`)).status).toBe(404);
    expect((await call('GET', `/segments/${name}/members`)).status).toBe(404);
    expect((await call('POST', `/connections/${name}/check`)).status).toBe(404);
  });

  it('a job and a model the config defines still answer', async () => {
    expect((await call('GET', '/models/churn')).status).toBe(200);
    expect((await call('POST', '/jobs/nightly/run', {})).status).toBe(202);
    expect(started).toEqual(['nightly']);
  });

  it('a rule on a trait named like an inherited property compiles to a trait lookup', async () => {
    const preview = await call('POST', '/segments/preview', { rule: { trait: 'constructor', eq: 'x' } });
    expect(preview.status).toBe(200);
    expect(preview.json.count).toBe(0);
  });
});

describe('rule limits through the preview', () => {
  it('a window longer than a century is a 400 naming the limit on windows', async () => {
    for (const rule of [
      { event: 'purchase', within: '99999999999d' },
      { event: 'purchase', before: '101y' },
      { trait: 'signed_up_at', within: '36501d' },
      { event: 'purchase', where: { occurred_at: { within: '1e400d' } } },
    ]) {
      const res = await call('POST', '/segments/preview', { rule });
      expect(res.status, JSON.stringify(rule)).toBe(400);
      expect(res.json.error.code).toBe('invalid_body');
      expect(res.json.error.message).toMatch(/limit on windows|duration/);
    }
    const century = await call('POST', '/segments/preview', { rule: { event: 'purchase', within: '100y' } });
    expect(century.status).toBe(200);
  });

  it('a rule of 20,000 conditions is a 400 naming the limit on conditions', async () => {
    const any = Array.from({ length: 20_000 }, (_, i) => ({ trait: 'country', eq: `C${i}` }));
    const res = await call('POST', '/segments/preview', { rule: { any } });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain(`limit of ${RULE_LIMITS.conditions} conditions per rule`);
  });

  it('a rule nested deeper than the limit is a 400 naming the limit on depth', async () => {
    let rule: Body = { trait: 'country', eq: 'FR' };
    for (let i = 0; i < RULE_LIMITS.depth + 5; i++) rule = i % 2 ? { not: rule } : { all: [rule] };
    const res = await call('POST', '/segments/preview', { rule });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('limit on rule depth');
  });

  it('a rule at the limit on conditions is previewed', async () => {
    const any = Array.from({ length: RULE_LIMITS.conditions - 1 }, (_, i) => ({ trait: 'country', eq: `C${i}` }));
    const res = await call('POST', '/segments/preview', { rule: { any } });
    expect(res.status).toBe(200);
    expect(res.json.count).toBe(0);
  });
});

describe('rule limits through the CLI', () => {
  const huge = `[${Array.from({ length: 1500 }, (_, i) => `{ trait: country, eq: C${i} }`).join(', ')}]`;

  it('segflow validate refuses a century-plus window and too many conditions at their line, naming the limits', async () => {
    const file = join(dir, 'limits.yaml');
    writeFileSync(
      file,
      `segments:
  - key: ancient
    rule: { event: purchase, within: 99999999999d }
  - key: huge
    rule:
      any: ${huge}
`,
    );
    const { code, err } = await runCommand(validateCommand, file);
    expect(code).toBe(2);
    expect(err).toMatch(/limits\.yaml:3:\d+: .*limit on windows/);
    expect(err).toMatch(/limits\.yaml:6:\d+: .*the rule has 1501 conditions, more than the limit of 1000/);
  });

  it('segflow segments preview of a segments file refuses them the same way', async () => {
    const segments = join(dir, 'try.yaml');
    writeFileSync(
      segments,
      `segments:
  - { key: ancient, rule: { event: purchase, within: 99999999999d } }
  - { key: huge, rule: { any: ${huge} } }
`,
    );
    const { code, err } = await runCommand(segmentsCommand, 'preview', join(dir, 'segflow.yaml'), segments);
    expect(code).toBe(2);
    expect(err).toContain('limit on windows');
    expect(err).toContain('more than the limit of 1000 conditions per rule');
  });
});
