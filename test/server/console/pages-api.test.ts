/**
 * What the console's segment and predictions pages read, on both engines: a segment's members as CSV (the same rows
 * as the members API, safe to open in a spreadsheet), its rule in words and who is left out or refused and why, the
 * people a churn model scored ranked by churn risk × value (a histogram bar's range, a cluster's label); and the
 * activity log's record of every sign-in, accepted or refused, without the token.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { loadConfig, type Config } from '../../../config/index.js';
import { createStoredSegment, recordDelivery, type Store } from '../../../core/index.js';
import { createServer } from '../../../server/index.js';
import { engines } from '../../support/engines.js';
import { tempDir } from '../../support/temp.js';

const ADMIN = 'pages-admin-token-7d3f1a9c5e2b';
const READ = 'pages-read-token-2b8e4c6a0f1d';
const NOW = '2026-06-01T00:00:00.000Z';

/** Contacts 1..6: an email, a name, a churn risk and a lifetime value (contact 6 has none: not scored). */
const PEOPLE = [
  { email: 'ada@example.com', first: 'Ada', risk: 0.9, clv: 100 },
  { email: '=cmd@example.com', first: 'Formula', risk: 0.6, clv: 1000 },
  { email: 'bo, "quoted"@example.com', first: 'Bo', risk: 0.2, clv: 5000 },
  { email: 'cy@example.com', first: 'Cy', risk: 0.55, clv: 10 },
  { email: null, first: 'Nomail', risk: 1, clv: 50 },
  { email: 'dee@example.com', first: 'Dee', risk: null, clv: null },
];

for (const engine of engines) {
  describe(`the console's segment and prediction pages' API on ${engine.name}`, () => {
    let store: Store;
    let close: () => Promise<void>;
    let config: Config;
    let app: ReturnType<typeof createServer>;

    const get = async (path: string, token = READ) => {
      const response = await app.request(path, { headers: { Authorization: `Bearer ${token}` } });
      return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
    };
    const json = async <T>(path: string): Promise<T> => {
      const answer = await get(path);
      expect(answer.status, answer.text).toBe(200);
      return JSON.parse(answer.text) as T;
    };

    beforeAll(async () => {
      ({ store, close } = await engine.open());
      const dir = tempDir('segflow-pages-');
      const file = join(dir, 'segflow.yaml');
      writeFileSync(
        file,
        `store: { path: ${JSON.stringify(join(dir, 'unused.db'))} }
models:
  churn: { kind: churn }
server: { admin_token_env: PAGES_ADMIN, read_token_env: PAGES_READ }
`,
      );
      config = await loadConfig(file, { registry: builtinRegistry() });
      for (const p of PEOPLE) {
        const row = (await store.get(
          'INSERT INTO contacts (email, traits, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id',
          [p.email, JSON.stringify({ first_name: p.first }), NOW, NOW],
        )) as { id: number };
        await store.run('INSERT INTO memberships (segment_key, contact_id, entered_at) VALUES (?, ?, ?)', [
          'vip',
          row.id,
          NOW,
        ]);
        for (const [output, value] of [
          ['risk', p.risk],
          ['clv', p.clv],
        ] as const)
          if (value !== null)
            await store.run(
              'INSERT INTO model_outputs (contact_id, model, output, value, computed_at) VALUES (?, ?, ?, ?, ?)',
              [row.id, 'churn', output, value, NOW],
            );
      }
      await createStoredSegment(
        store,
        { key: 'vip', name: 'VIP', rule: { all: [{ feature: 'monetary_365d', gte: 500 }] }, tags: [] },
        'admin',
        { now: NOW },
      );
      await recordDelivery(store, { destination: 'crm', segmentKey: 'vip', contactId: 1, status: 'delivered' }, NOW);
      for (const id of [2, 4])
        await recordDelivery(
          store,
          { destination: 'crm', segmentKey: 'vip', contactId: id, status: 'rejected', error: 'INVALID_EMAIL' },
          NOW,
        );
      await recordDelivery(
        store,
        { destination: 'crm', segmentKey: 'vip', contactId: 5, status: 'skipped', error: 'no identity' },
        NOW,
      );
      app = createServer({
        config,
        store,
        registry: builtinRegistry(),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        env: { PAGES_ADMIN: ADMIN, PAGES_READ: READ },
        now: () => new Date(NOW),
        startJob: () => Promise.resolve({ status: 'not started' }),
      });
    });
    afterAll(async () => {
      await close?.();
    });

    it('exports the members as CSV: the rows of the members API, quoted, no cell a spreadsheet formula', async () => {
      const csv = await get('/segments/vip/members.csv');
      expect(csv.status).toBe(200);
      expect(csv.type).toContain('text/csv');
      const { members } = await json<{ members: { contactId: number }[] }>('/segments/vip/members?per_page=500');
      const lines = csv.text.trimEnd().split('\r\n');
      expect(lines).toHaveLength(members.length + 1);
      expect(lines.map((l) => Number(l.split(',')[0])).slice(1)).toEqual(members.map((m) => m.contactId));
      expect(lines[2]).toBe(`2,'=cmd@example.com,Formula,,${NOW}`);
      expect(lines[3]).toBe(`3,"bo, ""quoted""@example.com",Bo,,${NOW}`);
      // a search narrows the export as it narrows the page
      expect((await get('/segments/vip/members.csv?q=ada')).text).toBe(
        `contact_id,email,first_name,last_name,entered_at\r\n1,ada@example.com,Ada,,${NOW}\r\n`,
      );
      expect((await get('/segments/nope/members.csv')).status).toBe(404);
    });

    it('describes a console segment: the rule in words, where it comes from, who is refused or left out and why', async () => {
      const vip = await json<{
        words: string[];
        origin: { kind: string; savedBy: string };
        readOnly: boolean;
        reasons: { destination: string; status: string; reason: string; contacts: number }[];
      }>('/segments/vip');
      expect(vip.words).toEqual(['all of:', '  feature monetary_365d is at least 500']);
      expect(vip.origin).toMatchObject({ kind: 'console', savedBy: 'admin' });
      expect(vip.readOnly).toBe(false);
      expect(vip.reasons).toEqual([
        { destination: 'crm', status: 'rejected', reason: 'INVALID_EMAIL', contacts: 2 },
        { destination: 'crm', status: 'skipped', reason: 'no identity', contacts: 1 },
      ]);
    });

    it('lists the people a churn model scored in a range, the costliest to lose (risk × value) first', async () => {
      const all = await json<{ people: { contactId: number; atStake: number | null }[]; total: number }>(
        '/models/churn/people?output=risk',
      );
      expect(all.total).toBe(5);
      // risk × clv: 0.6 × 1000 = 600, 0.2 × 5000 = 1000, 0.9 × 100 = 90, 1 × 50 = 50, 0.55 × 10 = 5.5
      expect(all.people.map((p) => p.contactId)).toEqual([3, 2, 1, 5, 4]);
      expect(all.people[0]!.atStake).toBeCloseTo(1000);
      // a histogram bar: [0.5, 1] with its upper edge included, as the last bin counts it
      const bar = await json<{ people: { contactId: number }[]; total: number }>(
        '/models/churn/people?output=risk&from=0.5&to=1&to_inclusive=true',
      );
      expect(bar.people.map((p) => p.contactId)).toEqual([2, 1, 5, 4]);
      const upperExcluded = await json<{ total: number }>('/models/churn/people?output=risk&from=0.5&to=1');
      expect(upperExcluded.total).toBe(3);
      const paged = await json<{ people: { contactId: number }[]; pages: number }>(
        '/models/churn/people?output=risk&per_page=2&page=2',
      );
      expect(paged.people.map((p) => p.contactId)).toEqual([1, 5]);
      expect(paged.pages).toBe(3);
      expect((await get('/models/nope/people')).status).toBe(404);
    });

    it('records every sign-in in the activity log, accepted or refused, and never the token', async () => {
      const signIn = (token: string) =>
        app.request(
          '/session',
          { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) },
          { incoming: { socket: { remoteAddress: '198.51.100.9' } } },
        );
      expect((await signIn(READ)).status).toBe(201);
      expect((await signIn('not-the-token-at-all-000000')).status).toBe(401);
      const { entries } = await json<{
        entries: { action: string; role: string | null; status: number; path: string }[];
      }>('/activity');
      expect(entries.slice(0, 2).map((e) => [e.action, e.role, e.status, e.path])).toEqual([
        ['session.sign_in_refused', null, 401, '/session'],
        ['session.sign_in', 'read', 201, '/session'],
      ]);
      const text = (await get('/activity')).text;
      expect(text).not.toContain(READ);
      expect(text).not.toContain('not-the-token-at-all');
    });
  });
}
