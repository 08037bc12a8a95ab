/**
 * The segment builder as a marketer uses it, in headless Chromium on a store seeded from the sandboxes: build "bought
 * at least twice in 90 days and churn risk above 0.5", see the count the preview API gives, save it; open it in two
 * pages, save both, and see the second refused; as the read token, no save button and 403 from the API.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleInBrowser, type ConsoleInBrowser } from '../../support/browser.js';
import { seedStore, type SeededStore } from '../console/seed.js';

const ADMIN = 'builder-admin-token-4b7e2c9d1a';
const READ = 'builder-read-token-8f3a6d0c5e';
const RULE = {
  all: [
    { event: 'purchase', count: { gte: 2 }, within: '90d' },
    { model: 'churn.risk', gt: 0.5 },
  ],
};

describe('the segment builder in a browser', () => {
  let seeded: SeededStore;
  let inBrowser: ConsoleInBrowser;
  let base: string;
  const signedIn = (token: string) => inBrowser.signedIn(token);
  const open = (page: Page, path: string) => inBrowser.open(page, path);

  const api = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    seeded = await seedStore({ people: 200, seed: 'builder', adminToken: ADMIN, readToken: READ });
    inBrowser = await consoleInBrowser({
      ...seeded.server,
      startJob: () => Promise.resolve({ status: 'succeeded' }),
    });
    base = inBrowser.base;
  }, 180_000);

  afterAll(async () => {
    await inBrowser?.close();
    await seeded?.close();
  });

  it('builds, previews and saves a segment, and refuses the second of two saves', { timeout: 120_000 }, async () => {
    const page = await signedIn(ADMIN);
    await open(page, '/console/builder');
    // the form starts with "purchase at least 2 times within 90d"; add the churn condition
    await page.click('#add-row');
    const row = page.locator('li.rule-row').nth(1);
    await row.locator('select[aria-label="condition kind"]').selectOption('model');
    await row.locator('input[name="field"]').fill('churn.risk');
    await row.locator('select[aria-label="operator"]').selectOption('gt');
    await row.locator('input[name="value"]').fill('0.5');
    const expected = await api('POST', '/segments/preview', READ, { rule: RULE });
    expect(expected.status).toBe(200);
    await page.waitForFunction(
      (n) => document.getElementById('preview-count')?.textContent === n,
      String(expected.json.count),
    );
    await page.fill('#segment-key', 'repeat_at_risk');
    await page.fill('#segment-name', 'Repeat buyers at risk');
    await page.click('#save');
    await page.waitForSelector('#save-outcome .ok');
    const saved = await api('GET', '/library/segments/repeat_at_risk', READ);
    expect(saved.json).toMatchObject({ version: 1, rule: RULE, savedBy: 'admin' });

    const first = await signedIn(ADMIN);
    const second = await signedIn(ADMIN);
    await open(first, '/console/builder?key=repeat_at_risk');
    await open(second, '/console/builder?key=repeat_at_risk');
    await first.fill('#segment-name', 'First edit');
    await first.click('#save');
    await first.waitForSelector('#save-outcome .ok');
    await second.fill('#segment-name', 'Second edit');
    await second.click('#save');
    const refused = await second.waitForSelector('#save-outcome .error');
    expect(await refused.textContent()).toContain('version 2');
    expect((await api('GET', '/library/segments/repeat_at_risk', READ)).json).toMatchObject({
      version: 2,
      name: 'First edit',
    });
  });

  it('shows the read token no save button, and its API saves get 403', { timeout: 60_000 }, async () => {
    const page = await signedIn(READ);
    await open(page, '/console/builder');
    expect(await page.locator('#save').count()).toBe(0);
    const refused = await api('POST', '/library/segments', READ, { key: 'nope', name: 'nope', rule: RULE });
    expect(refused.status).toBe(403);
  });
});
