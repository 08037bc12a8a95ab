/**
 * The segment library API through `createServer(deps).request()`: config segments read-only with their file and line,
 * console segments created, saved from a version (a stale save refused with the other change), archived, exported to
 * YAML and imported back, and the read-only token allowed to read and preview but never to write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { loadConfig } from '../../../config/index.js';
import type { Logger } from '../../../plugins/index.js';
import { createServer } from '../../../server/index.js';
import { withConsoleSegments } from '../../../sync/jobs/console-segments.js';
import { compileAccountSegments, type AccountCondition } from '../../../core/index.js';
import { engines } from '../../support/engines.js';
import { tempDir } from '../../support/temp.js';
import { loadFirms, NOW, SOFTWARE_BUYERS, SOFTWARE_BUYERS_NAMES } from './firms.js';

const ADMIN = 'admin-token-builder-7c1d-5e8a0f3b';
const READ = 'read-token-builder-2e9a-6b1c4d7f';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field
type Body = Record<string, any>;

const CONFIG = `
protected_attributes: [ethnicity]
models:
  churn:
    kind: churn
segments:
  - key: big_spenders
    name: Big spenders
    rule: { feature: monetary_365d, gte: 500 }
`;

async function library(
  location: string,
  store: Parameters<typeof createServer>[0]['store'],
  now = new Date('2026-12-06T07:00:00Z'),
) {
  const dir = tempDir('segflow-library-');
  writeFileSync(
    join(dir, 'segflow.yaml'),
    `store: { ${location.startsWith('postgres') ? 'url' : 'path'}: ${JSON.stringify(location)} }\n${CONFIG}`,
  );
  const config = await loadConfig(join(dir, 'segflow.yaml'), { registry: builtinRegistry(), env: {} });
  const app = createServer({
    config,
    store,
    registry: builtinRegistry(),
    logger: quiet,
    env: { SEGFLOW_ADMIN_TOKEN: ADMIN, SEGFLOW_READ_TOKEN: READ },
    startJob: () => Promise.resolve({ status: 'succeeded' }),
    now: () => now,
  });
  const call = async (method: string, path: string, options: { token?: string; body?: unknown; raw?: string } = {}) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${options.token ?? ADMIN}` };
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let json: Body = {};
    try {
      json = JSON.parse(text) as Body;
    } catch {
      // YAML or empty
    }
    return { status: res.status, text, json };
  };
  return Object.assign(call, { config, dir });
}

const repeatBuyers = {
  key: 'repeat_buyers',
  name: 'Repeat buyers',
  tags: ['crm'],
  rule: {
    all: [
      { event: 'purchase', count: { gte: 2 }, within: '90d' },
      { model: 'churn.risk', gt: 0.5 },
    ],
  },
};

for (const engine of engines) {
  describe(`the segment library API (${engine.name})`, () => {
    it('lists config segments read-only with their file and line, and console segments with their version', async () => {
      const { store, location, close } = await engine.open();
      try {
        const call = await library(location, store);
        const created = await call('POST', '/library/segments', { body: repeatBuyers });
        expect(created.text).toContain('repeat_buyers');
        expect(created.status).toBe(201);
        const { json } = await call('GET', '/library/segments', { token: READ });
        const [fromConfig, fromConsole] = json.segments as Body[];
        expect(fromConfig).toMatchObject({ key: 'big_spenders', origin: 'config', readOnly: true, line: 8 });
        expect(fromConfig!.file).toContain('segflow.yaml');
        expect(fromConsole).toMatchObject({ key: 'repeat_buyers', origin: 'console', version: 1, savedBy: 'admin' });
        const one = await call('GET', '/library/segments/repeat_buyers', { token: READ });
        expect(one.json.versions).toHaveLength(1);
        // the names the builder offers as you type
        const names = (await call('GET', '/library/names', { token: READ })).json;
        expect(names.events).toContain('purchase');
        expect(names.features).toContain('monetary_365d');
        expect(names.models).toEqual(['churn']);
        expect(names.segments).toEqual(['big_spenders', 'repeat_buyers']);
        expect(names.accountFeatures).toContain('engaged_members_30d');
        expect(names.accountTraits).toContain('industry');
      } finally {
        await close();
      }
    });

    it('refuses the second of two saves started from one version, showing the first', async () => {
      const { store, location, close } = await engine.open();
      try {
        const call = await library(location, store);
        await call('POST', '/library/segments', { body: repeatBuyers });
        const { key: _key, ...fields } = repeatBuyers;
        const first = await call('POST', '/library/segments/repeat_buyers', {
          body: { ...fields, version: 1, name: 'Repeat buyers (first)' },
        });
        expect(first.json).toMatchObject({ version: 2, name: 'Repeat buyers (first)' });
        const second = await call('POST', '/library/segments/repeat_buyers', {
          body: { ...fields, version: 1, name: 'Repeat buyers (second)' },
        });
        expect(second.status).toBe(409);
        expect(second.json.error.code).toBe('conflict');
        expect(second.json.error.current).toMatchObject({
          version: 2,
          name: 'Repeat buyers (first)',
          rule: fields.rule,
        });
      } finally {
        await close();
      }
    });

    it('refuses a taken key, a rule the compiler rejects (with its suggestion) and a protected attribute', async () => {
      const { store, location, close } = await engine.open();
      try {
        const call = await library(location, store);
        const taken = await call('POST', '/library/segments', { body: { ...repeatBuyers, key: 'big_spenders' } });
        expect(taken.status).toBe(409);
        const typo = await call('POST', '/library/segments', {
          body: { key: 'x', name: 'x', rule: { feature: 'monetary_356d', gt: 1 } },
        });
        expect(typo.status).toBe(400);
        expect(typo.json.error.message).toContain('monetary_365d');
        const guarded = await call('POST', '/library/segments', {
          body: { key: 'y', name: 'y', rule: { trait: 'ethnicity', eq: 'x' } },
        });
        expect(guarded.status).toBe(400);
        expect(guarded.json.error.message).toContain('protected');
      } finally {
        await close();
      }
    });

    it('gives the read token reads and previews, and 403 on every write', async () => {
      const { store, location, close } = await engine.open();
      try {
        const call = await library(location, store);
        await call('POST', '/library/segments', { body: repeatBuyers });
        const preview = await call('POST', '/segments/preview', {
          token: READ,
          body: { rule: { in_segment: 'repeat_buyers' } },
        });
        expect(preview.status).toBe(200);
        expect(preview.json.count).toBe(0);
        expect((await call('GET', '/library/segments.yaml', { token: READ })).status).toBe(200);
        const { key: _key, ...fields } = repeatBuyers;
        const writes = [
          await call('POST', '/library/segments', { token: READ, body: { ...repeatBuyers, key: 'other' } }),
          await call('POST', '/library/segments/repeat_buyers', { token: READ, body: { ...fields, version: 1 } }),
          await call('POST', '/library/segments/repeat_buyers/archive', { token: READ, body: { version: 1 } }),
          await call('POST', '/library/segments/import', { token: READ, raw: 'segments: []' }),
        ];
        expect(writes.map((w) => w.status)).toEqual([403, 403, 403, 403]);
        expect((await call('GET', '/library/segments/repeat_buyers')).json.version).toBe(1);
      } finally {
        await close();
      }
    });

    it('exports YAML that imports back, and archives out of the list', async () => {
      const { store, location, close } = await engine.open();
      try {
        const call = await library(location, store);
        await call('POST', '/library/segments', { body: repeatBuyers });
        const exported = await call('GET', '/library/segments.yaml');
        expect(exported.text).toContain('key: repeat_buyers');
        const archived = await call('POST', '/library/segments/repeat_buyers/archive', { body: { version: 1 } });
        expect(archived.json).toMatchObject({ archived: true, version: 2 });
        const keys = async () => ((await call('GET', '/library/segments')).json.segments as Body[]).map((s) => s.key);
        expect(await keys()).toEqual(['big_spenders']);
        const renamed = exported.text.replace('name: Repeat buyers', 'name: Repeat buyers again');
        const imported = await call('POST', '/library/segments/import', { raw: renamed });
        expect(imported.json).toEqual({ created: [], updated: ['repeat_buyers'], unchanged: [] });
        expect(await keys()).toEqual(['big_spenders', 'repeat_buyers']);
        const again = await call('POST', '/library/segments/import', { raw: renamed });
        expect(again.json.unchanged).toEqual(['repeat_buyers']);
        const intoConfigKey = await call('POST', '/library/segments/import', {
          raw: 'segments:\n  - key: big_spenders\n    rule: { trait: country, eq: FR }\n',
        });
        expect(intoConfigKey.status).toBe(409);
      } finally {
        await close();
      }
    });

    it('saves, previews, lists, exports and imports a segment of accounts, and a push step picks it by tag', async () => {
      const { store, location, close } = await engine.open();
      try {
        await loadFirms(store);
        const call = await library(location, store, NOW);
        const segment = { key: 'software_buyers', kind: 'accounts', name: 'Software buyers', tags: ['b2b'] };
        // an account rule is checked as account_segments: checks one, not as a contact rule
        const wrongShape = await call('POST', '/library/segments', {
          body: { ...segment, rule: { event: 'purchase' } },
        });
        expect(wrongShape.status).toBe(400);
        expect(wrongShape.json.error.field).toBe('rule.event');
        const typo = await call('POST', '/library/segments', {
          body: { ...segment, rule: { feature: 'memebrs', gte: 2 } },
        });
        expect(typo.status).toBe(400);
        expect(typo.json.error.message).toContain('members');

        const preview = await call('POST', '/segments/preview', {
          token: READ,
          body: { kind: 'accounts', rule: SOFTWARE_BUYERS },
        });
        expect(preview.status).toBe(200);
        expect(preview.json.count).toBe(2);
        expect((preview.json.sample as Body[]).map((a) => a.name)).toEqual(SOFTWARE_BUYERS_NAMES);

        const created = await call('POST', '/library/segments', { body: { ...segment, rule: SOFTWARE_BUYERS } });
        expect(created.status).toBe(201);
        expect(created.json).toMatchObject({ kind: 'accounts', tags: ['b2b'], version: 1 });
        const saved = await call('POST', '/library/segments/software_buyers', {
          body: { version: 1, name: 'Software buyers', tags: ['b2b', 'crm'], rule: SOFTWARE_BUYERS },
        });
        expect(saved.json).toMatchObject({ kind: 'accounts', tags: ['b2b', 'crm'], version: 2 });
        const listed = (await call('GET', '/library/segments', { token: READ })).json.segments as Body[];
        expect(listed.find((s) => s.key === 'software_buyers')).toMatchObject({ kind: 'accounts', origin: 'console' });
        expect(listed.find((s) => s.key === 'big_spenders')).toMatchObject({ kind: 'contacts', origin: 'config' });

        // its YAML export is an account_segments: section that validates and compiles to the same SQL
        const exported = await call('GET', '/library/segments.yaml');
        expect(exported.text).toContain('account_segments:');
        const file = join(call.dir, 'exported.yaml');
        writeFileSync(file, exported.text);
        writeFileSync(join(call.dir, 'with-export.yaml'), `segments:\n  - include: ${JSON.stringify(file)}\n`);
        const reloaded = await loadConfig(join(call.dir, 'with-export.yaml'), { registry: builtinRegistry(), env: {} });
        expect(reloaded.account_segments?.map((s) => s.key)).toEqual(['software_buyers']);
        const sqlOf = (rule: unknown) =>
          compileAccountSegments([{ key: 'software_buyers', rule: rule as AccountCondition }], [], {
            now: NOW,
            dialect: store.dialect,
          })[0]!.sql;
        expect(sqlOf(reloaded.account_segments![0]!.rule)).toBe(sqlOf(SOFTWARE_BUYERS));
        const again = await call('POST', '/library/segments/import', { raw: exported.text });
        expect(again.json).toEqual({ created: [], updated: [], unchanged: ['software_buyers'] });

        // a job sees it as it sees account_segments: computed, and pushed by a step naming its tag
        const effective = await withConsoleSegments(store, {
          ...call.config,
          jobs: {
            nightly: {
              steps: [
                {
                  push: {
                    destination: 'crm_lists',
                    segments: [],
                    console_segments: ['tag:crm'],
                    mode: 'upsert',
                  },
                },
              ],
            },
          },
        } as unknown as typeof call.config);
        expect(effective.account_segments?.map((s) => s.key)).toEqual(['software_buyers']);
        expect(effective.segments.map((s) => s.key)).toEqual(['big_spenders']);
        const step = effective.jobs.nightly!.steps[0] as { push: { segments: string[]; account_segments?: string[] } };
        expect(step.push).toMatchObject({ segments: [], account_segments: ['software_buyers'] });
      } finally {
        await close();
      }
    });
  });
}
