/**
 * "Empty it in the tools" from the segment's page in headless Chromium (#30): a marketer archives a console segment a
 * job pushed to a HubSpot list, clicks "Empty it in the tools", sees the dry run (what each tool would lose, and some
 * of the people) while the list is untouched, confirms, and sees the outcome; the HubSpot sandbox's list is empty.
 */
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { createStoredSegment } from '../../../core/index.js';
import { runJob } from '../../../sync/index.js';
import { consoleInBrowser, type ConsoleInBrowser } from '../../support/browser.js';
import { seedStore, type SeededStore } from '../../server/console/seed.js';

const ADMIN = 'empty-browser-admin-token-7e3a9c1d5b2f';
const READ = 'empty-browser-read-token-2c8f4a6e0d1b';
const KEY = 'recent_buyers';
const NAME = 'Recent buyers';
const LIST = `segflow: ${NAME}`;

describe('a marketer archives a segment and empties it in the tools from its page', () => {
  let seeded: SeededStore;
  let inBrowser: ConsoleInBrowser;
  let problems: string[];

  /** The emails in the HubSpot sandbox's list of the segment. */
  const listEmails = () => {
    const list = [...seeded.hubspot.portal.lists.values()].find((l) => l.name === LIST);
    return [...(list?.members.keys() ?? [])].map((id) =>
      String(seeded.hubspot.portal.contacts.get(id)?.properties.email).toLowerCase(),
    );
  };

  const cells = (page: Page, selector: string) =>
    page.$$eval(selector, (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));

  beforeAll(async () => {
    seeded = await seedStore({
      people: 200,
      seed: 'empty-browser',
      adminToken: ADMIN,
      readToken: READ,
      createMissingContacts: true,
      campaignSegments: [KEY],
    });
    const registry = builtinRegistry();
    await createStoredSegment(
      seeded.store,
      { key: KEY, name: NAME, rule: { event: 'purchase', count: { gte: 1 }, within: '365d' }, tags: [] },
      'admin',
    );
    const pushed = await runJob(seeded.config, 'campaign', { registry, now: seeded.now, computeIn: 'here' });
    expect(pushed.status, pushed.error).toBe('succeeded');
    inBrowser = await consoleInBrowser(
      {
        ...seeded.server,
        registry,
        startJob: () => Promise.reject(new Error('no job runs from this page')),
      },
      { timeoutMs: 30_000 },
    );
    ({ problems } = inBrowser);
  }, 300_000);

  afterAll(async () => {
    await inBrowser?.close();
    await seeded?.close();
    if (seeded) rmSync(seeded.dir, { recursive: true, force: true });
  }, 120_000);

  it('archive → empty → the dry run → confirm → the outcome, and the HubSpot list is empty', async () => {
    const before = listEmails();
    expect(before.length, 'the job pushed the segment to its HubSpot list').toBeGreaterThan(0);

    const page = await inBrowser.signedIn(ADMIN);
    await inBrowser.open(page, `/console/segment?key=${KEY}`);
    // a live segment cannot be emptied: archive it first
    expect(await page.$('#empty-segment')).toBeNull();

    await page.click('#archive-segment');
    await page.click('#empty-segment');
    await page.waitForSelector('#empty-panel tbody tr');
    expect(await page.innerText('#empty-panel')).toContain('nothing has been sent yet');
    const plan = await cells(page, '#empty-panel tbody tr');
    expect(plan.map((row) => row.slice(0, 3))).toEqual([
      ['hubspot_lists', String(before.length), String(before.length)],
    ]);
    // some of the people it would remove, by email
    const sample = await page.$$eval('#empty-panel ul.sample li', (lis) => lis.map((li) => li.textContent));
    expect(sample.length).toBe(Math.min(10, before.length));
    for (const email of sample) expect(before).toContain(email);
    expect(listEmails().sort(), 'the dry run sends nothing').toEqual([...before].sort());

    await page.click('#confirm-empty');
    await page.waitForSelector('#empty-outcome');
    const outcome = await cells(page, '#empty-panel tbody tr');
    expect(outcome.map((row) => row.slice(0, 5))).toEqual([
      ['hubspot_lists', 'succeeded', String(before.length), '0', '0'],
    ]);
    expect(await page.innerText('#status')).toContain(`${before.length} members removed`);
    expect(await page.innerText('#empty-outcome')).toMatch(/run #\d+/);
    expect(listEmails()).toEqual([]);
    // the deliveries show the emptying as the list's last delivery
    const delivery = await page.$$eval('#delivery-list tbody tr td', (tds) => tds.map((td) => td.textContent));
    expect([delivery[0], delivery[5]]).toEqual(['hubspot_lists', String(before.length)]);

    // emptied already: a second try finds nothing to remove
    await page.click('#empty-segment');
    await page.waitForSelector('#empty-nothing');
    expect(problems).toEqual([]);
  });
});
