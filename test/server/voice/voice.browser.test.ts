import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORLD_TOPICS } from '../../../plugins/sandbox/index.js';
import { consoleInBrowser, type ConsoleInBrowser } from '../../support/browser.js';
import { seedStore, type SeededStore } from '../console/seed.js';
import { TEXT_YAML } from './world.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../artifacts/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'voice-browser-admin-token-6e2a9c4f1b7d';
const READ_TOKEN = 'voice-browser-read-token-3c8f1a5e9d2b';

interface Topic {
  topic: string;
  tickets: number;
  people: number;
  examples: string[];
}

/**
 * The Voice page as a marketer with the read-only token sees it, in headless Chromium, on a store the console's seed
 * fills from the sandboxes with text kept and five topics: the world's topics with their examples, NPS by segment,
 * the month-by-month chart, and from a topic its people, one person's messages, and a segment made from the topic.
 */
describe('the Voice page in a browser', () => {
  let seeded: SeededStore;
  let inBrowser: ConsoleInBrowser;
  let base: string;
  let page: Page;
  let problems: string[];

  const apiGet = async <T>(path: string): Promise<T> => {
    const response = await fetch(base + path, { headers: { Authorization: `Bearer ${READ_TOKEN}` } });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };

  const open = (path: string) => inBrowser.open(page, path);

  beforeAll(async () => {
    seeded = await seedStore({
      people: 300,
      seed: 'voice',
      adminToken: ADMIN_TOKEN,
      readToken: READ_TOKEN,
      text: TEXT_YAML,
    });
    inBrowser = await consoleInBrowser(
      {
        ...seeded.server,
        startJob: () => Promise.resolve({ status: 'succeeded' }),
      },
      { warnings: true, errorAnswers: true, elsewhere: true },
    );
    ({ base, problems } = inBrowser);
    page = await inBrowser.signedIn(READ_TOKEN);
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await inBrowser?.close();
    await seeded?.close();
  }, 120_000);

  it("shows the world's topics with their size and redacted examples, NPS by segment, and the months", async () => {
    const { topics } = await apiGet<{ topics: Topic[] }>('/voice/topics');
    await open('/console/voice');
    const cards = await page.$$eval('#voice-topics article', (articles) =>
      articles.map((a) => ({
        topic: a.querySelector('h3')?.textContent,
        line: a.querySelector('.hint')?.textContent,
        examples: Array.from(a.querySelectorAll('.examples q')).map((q) => q.textContent),
      })),
    );
    expect(cards.map((c) => c.topic).sort()).toEqual([...WORLD_TOPICS].sort());
    expect(cards.map((c) => c.topic)).toEqual(topics.map((t) => t.topic));
    cards.forEach((card, i) => {
      const t = topics[i]!;
      expect(card.line).toContain(`${t.tickets.toLocaleString('en')} tickets from ${t.people.toLocaleString('en')}`);
      expect(card.examples).toEqual(t.examples);
      for (const example of card.examples) expect(example).not.toMatch(/@example\.com|4242 4242/);
    });

    const segments = await page.$$eval('#voice-segments tbody tr', (rows) =>
      rows.map((r) => ({
        name: r.querySelector('td a')?.textContent,
        href: r.querySelector('td a')?.getAttribute('href'),
        nps: r.querySelector('td[data-label="NPS"]')?.textContent,
      })),
    );
    expect(segments).toContainEqual({
      name: 'Detractors at Risk',
      href: '/console/segment?key=detractors_at_risk',
      nps: '\u2212100',
    });

    const { months } = await apiGet<{ months: { month: string; sentiment: number | null; nps: number | null }[] }>(
      '/voice/trend',
    );
    const plotted = await page.evaluate(() => {
      const canvas = document.getElementById('trend-chart') as HTMLCanvasElement;
      const chart = (
        window as unknown as {
          Chart: { getChart(c: HTMLCanvasElement): { data: { labels: string[]; datasets: { data: unknown[] }[] } } };
        }
      ).Chart.getChart(canvas);
      return { labels: chart.data.labels, datasets: chart.data.datasets.map((d) => d.data) };
    });
    expect(plotted).toEqual({
      labels: months.map((m) => m.month),
      datasets: [months.map((m) => m.sentiment), months.map((m) => m.nps)],
    });
    expect(problems).toEqual([]);
  });

  it('follows a topic to its people, one person’s messages, and a segment made from the topic', async () => {
    const { topics } = await apiGet<{ topics: Topic[] }>('/voice/topics');
    const billing = topics.findIndex((t) => t.topic === 'billing');
    expect(billing).toBeGreaterThanOrEqual(0);
    const people = await apiGet<{ total: number; people: { email: string | null; tickets: number }[] }>(
      '/voice/people?topic=billing&per_page=20',
    );
    await open('/console/voice');
    await page.click(`#topic-people-${billing}`);
    await page.waitForSelector('#bin:not([hidden]) #bin-people table');
    expect(await page.textContent('#bin-title')).toBe('People who wrote about billing');
    expect(await page.getAttribute('#bin', 'data-total')).toBe(String(people.total));
    const listed = await page.$$eval('#bin-people tbody tr td[data-label="Contact"]', (cells) =>
      cells.map((c) => c.textContent),
    );
    expect(listed).toEqual(people.people.map((p) => p.email));
    await page.screenshot({ path: join(SCREENSHOTS, 'voice-topic-people.png'), fullPage: true });

    // a person's page lists what they wrote, with the billing ticket and its sentiment
    const email = people.people.find((p) => p.email)!.email!;
    await Promise.all([
      page.waitForURL(/\/console\/contacts\?email=/),
      page.click(`#bin-people a[href*="${encodeURIComponent(email)}"]`),
    ]);
    await page.waitForSelector('body[data-state=ready]');
    await page.waitForSelector('#contact-profile [id^=voice-] table');
    const wrote = await page.$$eval('#contact-profile [id^=voice-] tbody tr', (rows) =>
      rows.map((r) => ({
        what: r.querySelector('td[data-label="What"]')?.textContent ?? '',
        sentiment: r.querySelector('td[data-label="Sentiment"]')?.textContent ?? '',
      })),
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'voice-contact.png'), fullPage: true });
    // their voice features above the messages, as GET /voice/contacts/:id gives them
    const contactId = Number((await page.getAttribute('#contact-profile [id^=voice-]', 'id'))!.slice('voice-'.length));
    const { features } = await apiGet<{ features: { sentiment90d: number | null; npsLast: number | null } }>(
      `/voice/contacts/${contactId}`,
    );
    const summary = await page.textContent('#contact-profile [id^=voice-] .hint');
    expect(summary).toContain('Sentiment over 90 days');
    expect(summary).toContain(`last NPS ${features.npsLast === null ? '—' : `${features.npsLast} (`}`);
    const ticket = wrote.find((w) => w.what.includes('on billing'));
    expect(ticket, JSON.stringify(wrote)).toBeDefined();
    expect(ticket!.sentiment).toMatch(/^(positive|neutral|negative) \([+\u2212]?\d\.\d\d\)$|^—$/);

    // "make a segment from this": the builder opens on the topic's rule and counts the same people
    await open('/console/voice');
    await page.click(`#topic-people-${billing}`);
    await page.waitForSelector('#bin:not([hidden]) #make-segment');
    await Promise.all([page.waitForURL(/\/console\/builder\?/), page.click('#make-segment')]);
    await page.waitForSelector('body[data-state=ready]');
    await expect.poll(() => page.textContent('#preview-count')).toBe(people.total.toLocaleString('en'));
    expect(problems).toEqual([]);
  });
});
