/**
 * Issue #30's "done when", as a marketer does it in headless Chromium on a store seeded from the sandboxes: build
 * "bought at least twice in 90 days and churn risk above 0.5" in the builder and see the count `segflow segments
 * preview` prints for the same rule; save it; dry-run the job that pushes it to HubSpot from the console, run it, and
 * find exactly its members in the HubSpot sandbox's list; open its page (the rule in words, the delivery) and export
 * its members as CSV, the same as the API's; edit it in two pages and see the second save refused; archive it and see
 * the next run push it no more.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { consoleInBrowser, jobsInBackground, type ConsoleInBrowser } from '../../support/browser.js';
import { seedStore, type SeededStore } from '../console/seed.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const ADMIN = 'marketer-admin-token-5c1d9e7f3a2b';
const READ = 'marketer-read-token-0e8f6a4c2d7b';
const KEY = 'repeat_at_risk';
const NAME = 'Repeat buyers at risk';
const LIST = `segflow: ${NAME}`;
const RULE = {
  all: [
    { event: 'purchase', count: { gte: 2 }, within: '90d' },
    { model: 'churn.risk', gt: 0.5 },
  ],
};

interface Member {
  contactId: number;
  email: string | null;
}

describe('a marketer builds a segment, pushes it to HubSpot, exports it and archives it', () => {
  let seeded: SeededStore;
  let inBrowser: ConsoleInBrowser;
  let jobs: ReturnType<typeof jobsInBackground>;
  let base: string;
  let problems: string[];
  const signedIn = (token: string) => inBrowser.signedIn(token, { acceptDownloads: true });
  const open = (page: Page, path: string) => inBrowser.open(page, path);

  const api = async <T = Record<string, unknown>>(path: string, token = READ): Promise<T> => {
    const response = await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };

  const allMembers = async (): Promise<Member[]> =>
    (await api<{ members: Member[] }>(`/segments/${KEY}/members?per_page=500`)).members;

  /** The emails of the contacts in the HubSpot sandbox's list of this segment. */
  const listEmails = () => {
    const list = [...seeded.hubspot.portal.lists.values()].find((l) => l.name === LIST);
    return [...(list?.members.keys() ?? [])].map((id) =>
      // HubSpot keeps an email as typed; the store holds it normalised
      String(seeded.hubspot.portal.contacts.get(id)?.properties.email).toLowerCase(),
    );
  };

  /** Starts a run of the job from the console and waits, without reloading, for that run to finish. */
  async function finishedRun(page: Page, job: string): Promise<number> {
    const { runs } = await api<{ runs: { id: number }[] }>('/runs?per_page=1');
    const next = (runs[0]?.id ?? 0) + 1;
    await page.click(`#run-now-${job}`);
    await page.waitForFunction((id) => {
      const detail = document.getElementById('run-detail');
      return (
        document.getElementById('run-title')?.textContent?.includes(`#${id} `) === true &&
        detail?.dataset.status !== undefined &&
        detail.dataset.status !== 'running'
      );
    }, next);
    return next;
  }

  beforeAll(async () => {
    seeded = await seedStore({
      people: 400,
      seed: 'marketer',
      // 60 days after the world's last day, some recent repeat buyers have gone quiet: non-zero members
      daysAfterWorld: 60,
      adminToken: ADMIN,
      readToken: READ,
      createMissingContacts: true,
      campaignSegments: [KEY],
    });
    jobs = jobsInBackground(seeded.config, { registry: builtinRegistry(), now: seeded.now });
    inBrowser = await consoleInBrowser({ ...seeded.server, startJob: jobs.startJob }, { timeoutMs: 30_000 });
    ({ base, problems } = inBrowser);
  }, 300_000);

  afterAll(async () => {
    await jobs?.settled();
    await inBrowser?.close();
    await seeded?.close();
    if (seeded) rmSync(seeded.dir, { recursive: true, force: true });
  }, 120_000);

  it('builds the segment with the count the CLI previews, saves it, dry-runs and runs its push', async () => {
    // what `segflow segments preview` says of the same rule, as of the world's clock
    const file = join(seeded.dir, 'candidate.yaml');
    writeFileSync(file, `segments:\n  - key: ${KEY}\n    name: ${NAME}\n    rule: ${JSON.stringify(RULE)}\n`);
    const cli = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin/segflow.js'),
        'segments',
        'preview',
        join(seeded.dir, 'segflow.yaml'),
        file,
        '--json',
        '--now',
        seeded.now.toISOString(),
      ],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...seeded.env }, timeout: 60_000 },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const expected = (JSON.parse(cli.stdout) as { segments: { count: number }[] }).segments[0]!.count;
    expect(expected, 'the seeded world has repeat buyers at risk').toBeGreaterThan(0);

    const page = await signedIn(ADMIN);
    await open(page, '/console/builder');
    await page.click('#add-row');
    const row = page.locator('li.rule-row').nth(1);
    await row.locator('select[aria-label="condition kind"]').selectOption('model');
    await row.locator('input[name="field"]').fill('churn.risk');
    await row.locator('select[aria-label="operator"]').selectOption('gt');
    await row.locator('input[name="value"]').fill('0.5');
    await page.waitForFunction((n) => document.getElementById('preview-count')?.textContent === n, String(expected));
    await page.fill('#segment-key', KEY);
    await page.fill('#segment-name', NAME);
    await page.click('#save');
    await page.waitForSelector('#save-outcome .ok');
    expect((await api(`/library/segments/${KEY}`)).rule).toEqual(RULE);

    // the dry run plans the adds and sends nothing
    await open(page, '/console/runs');
    await page.click('#dry-run-campaign');
    await page.waitForSelector('#dry-run-plan tbody tr');
    const plan = await page.$$eval('#dry-run-plan tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)),
    );
    // never evaluated yet: the plan says the run computes it first, rather than planning no adds
    expect(plan.map((cells) => cells.slice(0, 3))).toEqual([
      ['hubspot_lists', NAME, 'not evaluated yet: the run computes it, then adds its members'],
    ]);
    expect(listEmails(), 'a dry run sends nothing').toEqual([]);

    // the run pushes exactly the segment's members into its HubSpot list
    const runId = await finishedRun(page, 'campaign');
    expect(await page.getAttribute('#run-detail', 'data-status')).toBe('succeeded');
    const members = await allMembers();
    expect(members).toHaveLength(expected);
    expect(listEmails().sort()).toEqual(members.map((m) => m.email).sort());
    // and a dry run now plans nothing more to send
    await open(page, '/console/runs');
    await page.click('#dry-run-campaign');
    await page.waitForSelector('#dry-run-plan tbody tr');
    expect(
      await page.$$eval('#dry-run-plan tbody tr td', (tds) => tds.slice(0, 4).map((td) => td.textContent)),
    ).toEqual(['hubspot_lists', NAME, '0', '0']);

    // its page: the rule in words, where it comes from, and that delivery
    await open(page, `/console/segment?key=${KEY}`);
    expect(await page.innerText('#segment-words')).toBe(
      'all of:\n  at least 2 purchase events in the last 90d\n  model output churn.risk is above 0.5',
    );
    expect(await page.innerText('#segment-origin')).toContain('version 1, saved by admin');
    const delivery = await page.$$eval('#delivery-list tbody tr td', (tds) => tds.map((td) => td.textContent));
    expect(delivery.slice(0, 2)).toEqual(['hubspot_lists', `#${runId}`]);
    expect(delivery[4]).toBe(String(expected));
    expect(problems).toEqual([]);
  });

  it('exports the members as CSV from the segment’s page, the same as the members API', async () => {
    const page = await signedIn(READ);
    await open(page, `/console/segment?key=${KEY}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#members-csv')]);
    const path = await download.path();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\r\n');
    await download.delete();
    expect(lines[0]).toBe('contact_id,email,first_name,last_name,entered_at');
    const fromCsv = lines.slice(1).map((line) => {
      const [id, email] = line.split(',');
      return { contactId: Number(id), email: email || null };
    });
    expect(fromCsv).toEqual((await allMembers()).map((m) => ({ contactId: m.contactId, email: m.email })));
    // and a member's link opens that contact
    const first = (await allMembers()).find((m) => m.email)!;
    await Promise.all([page.waitForURL(/\/console\/contacts\?email=/), page.click(`#member-list a >> nth=0`)]);
    await page.waitForSelector('#contact-profile article');
    expect(await page.innerText('#contact-profile')).toContain(first.email!);
    expect(problems).toEqual([]);
  });

  it('refuses the second of two saves of the segment opened in two pages', async () => {
    const first = await signedIn(ADMIN);
    const second = await signedIn(ADMIN);
    for (const page of [first, second]) {
      await open(page, `/console/segment?key=${KEY}`);
      await Promise.all([page.waitForURL(/\/console\/builder\?key=/), page.click('#edit-segment')]);
      await page.waitForSelector('body[data-state="ready"]');
    }
    await first.fill('#segment-name', `${NAME} (first edit)`);
    await first.click('#save');
    await first.waitForSelector('#save-outcome .ok');
    await second.fill('#segment-name', `${NAME} (second edit)`);
    await second.click('#save');
    const refused = await second.waitForSelector('#save-outcome .error');
    expect(await refused.textContent()).toContain('version 2');
    expect(await api(`/library/segments/${KEY}`)).toMatchObject({ version: 2, name: `${NAME} (first edit)` });
    // the refused save is the one failed request the browser saw
    expect(problems.splice(0)).toEqual([
      'console error: Failed to load resource: the server responded with a status of 409 (Conflict)',
    ]);
  });

  it('archives the segment from its page, and the next run pushes it no more', async () => {
    const page = await signedIn(ADMIN);
    const before = listEmails().sort();
    expect(before.length).toBeGreaterThan(0);
    await open(page, `/console/segment?key=${KEY}`);
    await page.click('#archive-segment');
    await page.waitForFunction(() => document.getElementById('segment-origin')?.textContent?.includes('archived'));
    expect(await api(`/library/segments/${KEY}`)).toMatchObject({ archived: true });

    await open(page, '/console/runs');
    await page.click('#dry-run-campaign');
    await page.waitForSelector('#dry-run-plan .empty');
    await finishedRun(page, 'campaign');
    expect(await page.innerText('#run-pushes')).toContain('This run pushed nothing.');
    // the list keeps what was last sent: emptying it in the tool is a separate, explicit action
    expect(listEmails().sort()).toEqual(before);
    expect(problems).toEqual([]);
  });
});
