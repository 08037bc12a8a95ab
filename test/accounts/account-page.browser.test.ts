// The console's account page in headless Chromium, on a store holding a few firms: found by name, it shows the
// account's traits, its records in each tool, its members linking to their contact pages and the account segments
// it is in (named as the config names them); the audit page shows account coverage.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../cli/builtins.js';
import { loadConfig, type Config } from '../../config/index.js';
import { computeAccountFeatures, evaluateAccountSegments, loadPage, openStore, type Store } from '../../core/index.js';
import type { StreamRecord } from '../../plugins/model/index.js';
import { consoleInBrowser, type ConsoleInBrowser } from '../support/browser.js';
import { tempDir } from '../support/temp.js';

const ADMIN_TOKEN = 'account-page-admin-token-5e1d9c3b7a';
const READ_TOKEN = 'account-page-read-token-8f2a6c4e0d';
const NOW = new Date('2026-06-30T12:00:00Z');

const firms: StreamRecord[] = [
  {
    kind: 'account',
    source: 'hubspot',
    externalId: 'c1',
    traits: { name: 'Acme', domain: 'acme.example', industry: 'Software', employees: 1200 },
    members: ['h1', 'h2'],
  },
  { kind: 'account', source: 'salesforce', externalId: '001A', traits: { name: 'ACME Corp', website: 'acme.example' } },
  { kind: 'account', source: 'hubspot', externalId: 'c2', traits: { name: 'Globex', domain: 'globex.example' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h1', traits: { email: 'ada@acme.example', first_name: 'Ada' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h2', traits: { email: 'bob@acme.example' } },
  { kind: 'contact', source: 'hubspot', externalId: 'h3', traits: { email: 'cy@elsewhere.example' } },
];

describe('the console account page in a browser', () => {
  let dir: string;
  let config: Config;
  let store: Store;
  let inBrowser: ConsoleInBrowser;
  let base: string;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    dir = tempDir('segflow-account-page-');
    const file = join(dir, 'segflow.yaml');
    writeFileSync(
      file,
      `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
account_segments:
  - key: large_firms
    name: Large firms
    rule: { trait: employees, gte: 1000 }
`,
    );
    config = await loadConfig(file, { registry: builtinRegistry(), env: {} });
    store = await openStore(config.store.path);
    await loadPage(store, { connection: 'crm', stream: 'firms', records: firms, checkpoint: null, now: NOW });
    await computeAccountFeatures(store, NOW);
    await evaluateAccountSegments(store, config.account_segments ?? [], [], { now: NOW });
    inBrowser = await consoleInBrowser(
      {
        config,
        store,
        env: { SEGFLOW_ADMIN_TOKEN: ADMIN_TOKEN, SEGFLOW_READ_TOKEN: READ_TOKEN },
        now: () => NOW,
        startJob: async () => ({ status: 'failed' }),
      },
      { errorAnswers: true },
    );
    ({ base, problems } = inBrowser);
    page = await inBrowser.signedIn(READ_TOKEN);
    await page.goto(`${base}/console/accounts`);
  }, 120_000);

  afterAll(async () => {
    await inBrowser?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds an account by name and shows its traits, tool records, members and account segments', async () => {
    await page.waitForSelector('body[data-state=ready]', { state: 'attached' });
    await page.fill('#account-query', 'acme');
    await page.click('#account-search button[type=submit]');
    await page.waitForSelector('#account-name');
    expect(await page.textContent('#account-name')).toBe('Acme');
    const profile = (await page.textContent('#account-profile')) ?? '';
    expect(profile).toContain('Large firms');
    expect(profile).toContain('Software');
    expect(profile).toContain('001A');
    expect(profile).toContain('2 members');
    const links = await page.$$eval('#account-members a', (as) =>
      as.map((a) => ({ text: a.textContent, href: a.getAttribute('href') })),
    );
    expect(links).toEqual([
      { text: 'Ada <ada@acme.example>', href: '/console/contacts?email=ada%40acme.example' },
      { text: 'bob@acme.example', href: '/console/contacts?email=bob%40acme.example' },
    ]);
    // A member's link opens their contact page.
    await Promise.all([page.waitForURL(/\/console\/contacts\?email=ada/), page.click('#account-members a >> nth=0')]);
    await page.waitForSelector('body[data-state=ready]', { state: 'attached' });
    expect(await page.textContent('#contact-profile')).toContain('ada@acme.example');
    expect(problems).toEqual([]);
  });

  it("opens the config's account segment's page: its rule in words, read-only, and its accounts", async () => {
    await page.goto(`${base}/console/segment?key=large_firms`);
    await page.waitForSelector('#member-list table');
    expect(await page.textContent('#member-list caption')).toContain('1 account');
    const links = await page.$$eval('#member-list tbody tr a', (as) =>
      as.map((a) => ({ text: a.textContent, href: a.getAttribute('href') })),
    );
    const acme = (await store.get("SELECT id FROM accounts WHERE name = 'Acme'")) as { id: number };
    expect(links).toEqual([{ text: 'Acme', href: `/console/accounts?id=${acme.id}` }]);
    expect(await page.textContent('body')).toContain('Large firms');
    expect(problems).toEqual([]);
  });

  it('opens an account by id and says when it has no members; the audit shows account coverage', async () => {
    const globex = (await store.get("SELECT id FROM accounts WHERE name = 'Globex'")) as { id: number };
    await page.goto(`${base}/console/accounts?id=${globex.id}`);
    await page.waitForSelector('body[data-state=ready]', { state: 'attached' });
    expect(await page.textContent('#account-name')).toBe('Globex');
    expect(await page.textContent('#account-profile')).toContain('No members.');

    await page.goto(`${base}/console/audit`);
    await page.waitForSelector('body[data-state=ready]', { state: 'attached' });
    const audit = (await page.textContent('#audit-accounts + *')) ?? '';
    expect(audit).toContain('Contacts With Account2');
    expect(audit).toContain('Contact Share66.7%'); // Ada and Bob of three contacts
    expect(audit).toContain('Globex');
    expect(await page.textContent('#findings')).toContain('1 of 2 accounts have no members');
    expect(problems).toEqual([]);
  });
});
