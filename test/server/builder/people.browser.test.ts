/**
 * Predictions that lead to people, and nested groups in the builder, in headless Chromium on a store seeded from the
 * sandboxes: the customers it costs most to lose are ranked by churn risk × value as the API ranks them; clicking a
 * churn-risk bar lists exactly that bar's people, and "make a segment from this" opens the builder whose live count is
 * that bar's; a cluster's members likewise; and a rule with a negated nested group is built in the form, previewed with
 * the API's count, and saved as that tree.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleInBrowser, type ConsoleInBrowser } from '../../support/browser.js';
import { seedStore, type SeededStore } from '../console/seed.js';

const ADMIN = 'people-admin-token-6a2c8e0f4b1d';
const READ = 'people-read-token-3f7b9d1e5c0a';

describe('predictions and clusters that lead to people, and nested groups in the builder', () => {
  let seeded: SeededStore;
  let inBrowser: ConsoleInBrowser;
  let base: string;
  let page: Page;
  let problems: string[];

  const api = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(base + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${READ}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };

  const open = (path: string) => inBrowser.open(page, path);

  /** The live count the builder shows once its preview has settled on `expected`. */
  const countShown = (expected: number) =>
    page.waitForFunction(
      (n) => document.getElementById('preview-count')?.textContent === n,
      expected.toLocaleString('en'),
    );

  beforeAll(async () => {
    seeded = await seedStore({ people: 300, seed: 'people', adminToken: ADMIN, readToken: READ });
    inBrowser = await consoleInBrowser(
      {
        ...seeded.server,
        startJob: () => Promise.resolve({ status: 'not started' }),
      },
      { timeoutMs: 30_000 },
    );
    ({ base, problems } = inBrowser);
    page = await inBrowser.signedIn(ADMIN);
  }, 300_000);

  afterAll(async () => {
    await inBrowser?.close();
    await seeded?.close();
  });

  it('ranks customers by churn risk × value; a risk bar lists its people and makes a segment of them', async () => {
    const ranked = await api<{ people: { email: string | null; contactId: number }[] }>(
      '/models/churn/people?output=risk&per_page=10',
    );
    await open('/console/predictions?model=churn');
    const shown = await page.$$eval('#ranked-people tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    expect(shown).toEqual(ranked.people.map((p) => p.email ?? `contact #${p.contactId}`));

    // the fullest bar, clicked where Chart.js drew it
    const churn = await api<{ distributions: { risk: { bins: { from: number; to: number; contacts: number }[] } } }>(
      '/models/churn',
    );
    const bins = churn.distributions.risk.bins;
    const fullest = bins.reduce((best, b, i) => (b.contacts > bins[best]!.contacts ? i : best), 0);
    expect(bins[fullest]!.contacts).toBeGreaterThan(0);
    const at = await page.evaluate((i) => {
      const canvas = document.getElementById('risk-chart') as HTMLCanvasElement;
      const chart = (
        window as unknown as {
          Chart: {
            getChart(c: HTMLCanvasElement): {
              getDatasetMeta(n: number): { data: { x: number; y: number; base: number }[] };
            };
          };
        }
      ).Chart.getChart(canvas);
      canvas.scrollIntoView({ block: 'center' });
      const bar = chart.getDatasetMeta(0).data[i]!;
      const box = canvas.getBoundingClientRect();
      return { x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2 };
    }, fullest);
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#bin:not([hidden]) #bin-people table');
    expect(Number(await page.getAttribute('#bin', 'data-total'))).toBe(bins[fullest]!.contacts);

    await Promise.all([page.waitForURL(/\/console\/builder\?rule=/), page.click('#make-segment')]);
    await page.waitForSelector('body[data-state="ready"]');
    await countShown(bins[fullest]!.contacts);
    expect(await page.inputValue('#segment-name')).toMatch(/^Churn risk /);
    expect(problems).toEqual([]);
  });

  it('lists a cluster’s members and makes a segment of the cluster', async () => {
    const clusters = await api<{ run: { metrics: { profiles: { cluster: number; name: string; size: number }[] } } }>(
      '/models/clusters',
    );
    const profile = clusters.run.metrics.profiles[0]!;
    await open('/console/clustering?model=clusters');
    await page.click(`#cluster-members-${profile.cluster}`);
    await page.waitForSelector('#bin:not([hidden]) #bin-people table');
    expect(Number(await page.getAttribute('#bin', 'data-total'))).toBe(profile.size);
    await Promise.all([page.waitForURL(/\/console\/builder\?rule=/), page.click('#make-segment')]);
    await page.waitForSelector('body[data-state="ready"]');
    await countShown(profile.size);
    expect(problems).toEqual([]);
  });

  it('builds a rule with a negated nested group, previews the API’s count, and saves that tree', async () => {
    const rule = {
      all: [
        { event: 'purchase', count: { gte: 2 }, within: '90d' },
        {
          not: {
            any: [
              { feature: 'frequency_365d', gt: 5 },
              { trait: 'country', eq: 'FR' },
            ],
          },
        },
      ],
    };
    const expected = await api<{ count: number }>('/segments/preview', { rule });
    await open('/console/builder');
    await page.click('#add-group');
    const group = page.locator('li.rule-group').first();
    await group.locator('input[aria-label="not"]').first().check();
    const first = group.locator('li.rule-row').nth(0);
    await first.locator('select[aria-label="condition kind"]').selectOption('feature');
    await first.locator('input[name="field"]').fill('frequency_365d');
    await first.locator('select[aria-label="operator"]').selectOption('gt');
    await first.locator('input[name="value"]').fill('5');
    await group.getByRole('button', { name: 'Add a condition' }).click();
    const second = group.locator('li.rule-row').nth(1);
    await second.locator('select[aria-label="condition kind"]').selectOption('trait');
    await second.locator('input[name="field"]').fill('country');
    await second.locator('select[aria-label="operator"]').selectOption('eq');
    await second.locator('input[name="value"]').fill('FR');
    await countShown(expected.count);
    await page.fill('#segment-key', 'repeat_not_frequent');
    await page.fill('#segment-name', 'Repeat, not frequent nor French');
    await page.click('#save');
    await page.waitForSelector('#save-outcome .ok');
    expect((await api<{ rule: unknown }>('/library/segments/repeat_not_frequent')).rule).toEqual(rule);
    // reopened, the form shows the same tree (not the JSON fallback)
    await open('/console/builder?key=repeat_not_frequent');
    expect(await page.locator('#rule-json').count()).toBe(0);
    expect(await page.locator('li.rule-group li.rule-row').count()).toBe(2);
    expect(problems).toEqual([]);
  });
});
