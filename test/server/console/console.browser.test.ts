import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { runJob } from '../../../sync/index.js';
import { PAGES } from '../../../server/console/pages.js';
import { consoleInBrowser, type ConsoleInBrowser } from '../../support/browser.js';
import { seedStore, type SeededStore } from './seed.js';
import { TEXT_YAML } from '../voice/world.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../artifacts/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'planted-admin-token-3f9c1e7a5b2d4c6e8f0a';
const READ_TOKEN = 'planted-read-token-9a8b7c6d5e4f3a2b1c0d';

interface ChartData {
  type: string;
  labels: unknown[];
  datasets: { label: string; data: (number | null)[] }[];
}

const nameOf = (path: string) => (path === '/' ? 'overview' : path.split('/').pop()!);

/**
 * The console as a visitor sees it: a real server on a store seeded from the sandboxes, opened in headless Chromium.
 * Charts are read back from the page (Chart.getChart(canvas).data) and compared with what the API answers.
 */
describe('the web console in a browser', () => {
  let seeded: SeededStore;
  let inBrowser: ConsoleInBrowser;
  let base: string;
  let page: Page;
  let problems: string[];
  const logged: string[] = [];
  const texts = new Map<string, string>();

  const apiGet = async <T>(path: string): Promise<T> => {
    const response = await fetch(base + path, { headers: { Authorization: `Bearer ${READ_TOKEN}` } });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };

  const open = (path: string) => inBrowser.open(page, path);

  const chartOf = (id: string) =>
    page.evaluate((canvasId) => {
      const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
      const chart = (
        window as unknown as {
          Chart: { getChart(c: HTMLCanvasElement): { config: { type: string }; data: ChartData } | undefined };
        }
      ).Chart.getChart(canvas);
      if (!chart) return null;
      return {
        type: chart.config.type,
        labels: [...chart.data.labels],
        datasets: chart.data.datasets.map((d) => ({ label: d.label, data: [...d.data] })),
      } as ChartData;
    }, id);

  beforeAll(async () => {
    seeded = await seedStore({
      people: 300,
      seed: 'console',
      adminToken: ADMIN_TOKEN,
      readToken: READ_TOKEN,
      text: TEXT_YAML,
    });
    const registry = builtinRegistry();
    const line = (level: string) => (message: string, fields?: Record<string, unknown>) =>
      logged.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    inBrowser = await consoleInBrowser(
      {
        ...seeded.server,
        registry,
        logger: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
        startJob: async (job, options) => {
          const result = await runJob(seeded.config, job, { registry, now: seeded.now, ...options });
          return { status: result.status, ...(result.runId === undefined ? {} : { runId: result.runId }) };
        },
      },
      { warnings: true, failedRequests: true, errorAnswers: true, elsewhere: true },
    );
    ({ base, problems } = inBrowser);
    page = await inBrowser.newPage();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await inBrowser?.close();
    await seeded?.close();
  }, 120_000);

  it('sends a visitor without a session to the login page from every page, and the API refuses it', async () => {
    for (const { path } of PAGES) {
      const response = await fetch(base + path, { redirect: 'manual' });
      expect(response.status, path).toBe(302);
      expect(response.headers.get('location'), path).toBe(`/console/login?next=${encodeURIComponent(path)}`);
    }
    expect((await fetch(`${base}/segments`)).status).toBe(401);
    const login = await fetch(`${base}/console/login`);
    expect(login.status).toBe(200);

    await page.goto(`${base}/console/runs`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(await page.isVisible('input#token[type=password]')).toBe(true);
  });

  it('refuses a wrong token, then signs in once with the read token into an HttpOnly, SameSite=Strict session', async () => {
    await page.goto(`${base}/console/login?next=${encodeURIComponent('/console/runs')}`);
    await page.fill('#token', 'not-a-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#status')).toBe('That token was not accepted.');
    expect(new URL(page.url()).pathname).toBe('/console/login');
    // the refused sign-in itself, which the browser also reports in its console
    const refused = problems.splice(0);
    expect(refused).toContain(`401 ${base}/session`);
    expect(refused.filter((p) => !p.includes('401'))).toEqual([]);

    await page.fill('#token', READ_TOKEN);
    await Promise.all([page.waitForURL(`${base}/console/runs`), page.click('button[type=submit]')]);
    const cookie = (await page.context().cookies(base)).find((c) => c.name === 'segflow_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie!.value).not.toContain(READ_TOKEN);
    await page.waitForSelector('body[data-state]', { state: 'attached' });
    expect(problems).toEqual([]);

    // a login link that names another site as `next` lands on the overview instead
    const visitor = await inBrowser.newPage();
    await visitor.goto(`${base}/console/login?next=${encodeURIComponent('//example.com/')}`);
    await visitor.fill('#token', READ_TOKEN);
    await Promise.all([visitor.waitForURL(`${base}/`), visitor.click('button[type=submit]')]);
    await visitor.context().close();
  });

  it('opens every page without console errors or failed requests, and saves a screenshot of each', async () => {
    const took: string[] = [];
    for (const { path } of PAGES) {
      const started = performance.now();
      await open(path);
      took.push(`${path}\t${Math.round(performance.now() - started)} ms`);
      await page.screenshot({ path: join(SCREENSHOTS, `${nameOf(path)}.png`), fullPage: true });
      const text = await page.innerText('body');
      texts.set(path, text);
      writeFileSync(join(SCREENSHOTS, `${nameOf(path)}.txt`), text);
    }
    // load times, for the record (not asserted: they depend on the machine)
    writeFileSync(join(SCREENSHOTS, 'load-times.txt'), `${took.join('\n')}\n`);
    expect(problems).toEqual([]);
    expect(texts.size).toBe(PAGES.length);
  });

  /** Elements wider than their box: a table or chart overflowing its card, a card its page, the page the window. */
  const overflowing = () =>
    page.evaluate(() => {
      const found: string[] = [];
      const name = (e: Element) =>
        `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className && typeof e.className === 'string' ? `.${e.className.split(' ').join('.')}` : ''}`;
      const root = document.documentElement;
      if (root.scrollWidth > root.clientWidth + 1) found.push(`the page (${root.scrollWidth} > ${root.clientWidth})`);
      for (const e of Array.from(
        document.querySelectorAll('main, section, .card, .table-wrap, .chart, .pair, .cards, dl, form'),
      )) {
        if (e.scrollWidth > e.clientWidth + 1) found.push(`${name(e)} (${e.scrollWidth} > ${e.clientWidth})`);
      }
      for (const e of Array.from(document.querySelectorAll('table, canvas'))) {
        const card = e.closest('.card, section, main')!;
        const box = e.getBoundingClientRect();
        const outer = card.getBoundingClientRect();
        if (box.right > outer.right + 1 || box.left < outer.left - 1)
          found.push(
            `${name(e)} in ${name(card)} (${Math.round(box.left)}–${Math.round(box.right)} outside ${Math.round(outer.left)}–${Math.round(outer.right)})`,
          );
      }
      return found;
    });

  it('no table or chart overflows its card on any page, at 1440 px and at 390 px wide', async () => {
    const found: string[] = [];
    try {
      for (const [width, height] of [
        [1440, 900],
        [390, 844],
      ] as const) {
        await page.setViewportSize({ width, height });
        for (const { path } of PAGES) {
          await open(path);
          if (path === '/console/contacts') {
            const { members } = await apiGet<{ members: { email: string | null }[] }>('/segments/churned/members');
            await page.fill('#contact-email', members.find((m) => m.email)!.email!);
            await page.click('#contact-search button[type=submit]');
            await page.waitForSelector('#contact-profile article');
          }
          found.push(...(await overflowing()).map((what) => `${width} px ${path}: ${what}`));
          // the pages' other states: a segment's own page, a histogram bar's people, a cluster's or a topic's members
          const states: Record<string, [string, string | null]> = {
            '/console/voice': ['/console/voice', '#voice-topics button'],
            '/console/segment': ['/console/segment?key=churned', null],
            '/console/predictions': ['/console/predictions?model=churn', '#risk-bins button'],
            '/console/clustering': ['/console/clustering?model=clusters', '#cluster-profiles button'],
          };
          const other = states[path];
          if (other) {
            await open(other[0]);
            if (other[1]) {
              await page.click(other[1]);
              await page.waitForSelector('#bin:not([hidden]) #bin-people table');
            }
            found.push(...(await overflowing()).map((what) => `${width} px ${other[0]}: ${what}`));
            if (width === 390)
              await page.screenshot({ path: join(SCREENSHOTS, `${nameOf(path)}-state-390.png`), fullPage: true });
          }
          if (width === 390)
            await page.screenshot({ path: join(SCREENSHOTS, `${nameOf(path)}-390.png`), fullPage: true });
        }
      }
      expect(found).toEqual([]);
      // the check sees an overflow when there is one: a table wider than its card
      await page.evaluate(() => {
        const wide = document.createElement('table');
        wide.style.width = '3000px';
        wide.innerHTML = '<tr><td>wide</td></tr>';
        document.querySelector('main section, main .card, main')!.append(wide);
      });
      expect((await overflowing()).length).toBeGreaterThan(0);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    expect(problems).toEqual([]);
  });

  it('segments: the sizes chart plots the six largest segments by default, each its own colour, and the boxes choose', async () => {
    const { segments } = await apiGet<{
      segments: { key: string; name: string; size: number | null; trend: { runId: number; size: number }[] }[];
    }>('/segments');
    const runIds = [...new Set(segments.flatMap((s) => s.trend.map((t) => t.runId)))].sort((a, b) => a - b);
    expect(runIds.length).toBe(2);
    expect(segments.length).toBeGreaterThan(6);
    await open('/console/segments');
    const sizes = (await chartOf('sizes-chart'))!;
    expect(sizes.type).toBe('line');
    expect(sizes.labels).toHaveLength(runIds.length);
    const largest = [...segments].sort((a, b) => (b.size ?? -1) - (a.size ?? -1)).slice(0, 6);
    const series = (list: typeof segments) =>
      segments
        .filter((s) => list.includes(s))
        .map((s) => ({ label: s.name, data: runIds.map((id) => s.trend.find((t) => t.runId === id)?.size ?? null) }));
    expect(sizes.datasets).toEqual(series(largest));
    // the two evaluations differ, so the chart shows a change over time
    expect(sizes.datasets.some((d) => d.data[0] !== d.data[1])).toBe(true);
    const colours = await page.evaluate(() => {
      const canvas = document.getElementById('sizes-chart') as HTMLCanvasElement;
      const chart = (
        window as unknown as {
          Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { borderColor: string }[] } } };
        }
      ).Chart.getChart(canvas);
      return chart.data.datasets.map((d) => d.borderColor);
    });
    expect(new Set(colours).size).toBe(colours.length);

    // ticking a seventh segment adds its line, and the address keeps the choice
    const seventh = segments.find((s) => !largest.includes(s))!;
    await page.check(`#sizes-pick input[value="${seventh.key}"]`);
    expect((await chartOf('sizes-chart'))!.datasets).toEqual(series([...largest, seventh]));
    expect(new URL(page.url()).searchParams.get('plot')?.split(',')).toContain(seventh.key);
  });

  it('segments: the migration chart counts the contacts GET /segments/migration counts, among the plotted segments', async () => {
    const { segments } = await apiGet<{ segments: { key: string; name: string; size: number | null }[] }>('/segments');
    const plottedKeys = new Set(
      [...segments]
        .sort((a, b) => (b.size ?? -1) - (a.size ?? -1))
        .slice(0, 6)
        .map((s) => s.key),
    );
    const shown = (key: string | null) => key === null || plottedKeys.has(key);
    const migration = await apiGet<{ cells: { from: string | null; to: string | null; contacts: number }[] }>(
      '/segments/migration',
    );
    expect(migration.cells.length).toBeGreaterThan(1);
    await open('/console/segments');
    const chart = (await chartOf('migration-chart'))!;
    const keyOf = new Map<string, string | null>([
      ...segments.map((s) => [s.name, s.key] as [string, string]),
      ['(none)', null],
    ]);
    const plotted: { from: string | null; to: string | null; contacts: number }[] = [];
    for (const dataset of chart.datasets) {
      const to = keyOf.get(dataset.label.replace(/^→ /, ''));
      expect(to, dataset.label).not.toBeUndefined();
      dataset.data.forEach((contacts, i) => {
        if (contacts) plotted.push({ from: keyOf.get(String(chart.labels[i]))!, to: to!, contacts });
      });
    }
    const order = (c: { from: string | null; to: string | null }) => `${c.from}→${c.to}`;
    expect(plotted.sort((a, b) => order(a).localeCompare(order(b)))).toEqual(
      migration.cells
        .filter((c) => shown(c.from) && shown(c.to) && !(c.from === null && c.to === null))
        .sort((a, b) => order(a).localeCompare(order(b))),
    );
  });

  it('overview: each segment’s drift flag and the drift alerts are those of its latest evaluation (GET /segments/:key)', async () => {
    const { segments } = await apiGet<{ segments: { key: string; name: string }[] }>('/segments');
    const latest = await Promise.all(
      segments.map((s) => apiGet<{ latest: { drift: boolean } | null }>(`/segments/${s.key}`)),
    );
    await open('/');
    const shown = await page.$$eval('#segment-sizes tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)),
    );
    expect(shown.map((cells) => [cells[0], cells[3]])).toEqual(
      segments.map((s, i) => [s.name, latest[i]!.latest === null ? '—' : latest[i]!.latest!.drift ? 'yes' : 'no']),
    );
    const alerts = await page.$$eval('#alerts .alert', (ps) => ps.map((p) => p.textContent ?? ''));
    const drifting = segments.filter((_, i) => latest[i]!.latest?.drift).map((s) => s.name);
    expect(drifting.length).toBeGreaterThan(0);
    expect(alerts.filter((a) => a.startsWith('Drift: ')).map((a) => /^Drift: (.*) changed by/.exec(a)?.[1])).toEqual(
      drifting,
    );
  });

  it('segments: the profile shows the segment’s member count and the base from GET /segments/:key', async () => {
    const detail = await apiGet<{ name: string; profile: { members: number; base: number } }>('/segments/churned');
    await open('/console/segments?key=churned');
    const text = await page.innerText('#segment-profile');
    expect(text).toContain(
      `${detail.profile.members.toLocaleString('en')} members of ${detail.profile.base.toLocaleString('en')} contacts`,
    );
  });

  it('clustering and predictions: the curves and histograms plot the model run GET /models/:name returns', async () => {
    const clusters = await apiGet<{
      run?: { metrics: { sweep: { k: number; inertia: number; silhouette: number }[]; choice?: { k: number } } };
    }>('/models/clusters');
    await open('/console/clustering?model=clusters');
    const elbow = (await chartOf('elbow-chart'))!;
    const silhouette = (await chartOf('silhouette-chart'))!;
    expect(clusters.run, 'the seeded job ran the clustering').toBeTruthy();
    const sweep = clusters.run!.metrics.sweep;
    expect(sweep.length).toBeGreaterThan(1);
    expect(elbow.labels).toEqual(sweep.map((p) => p.k));
    expect(elbow.datasets[0]!.data).toEqual(sweep.map((p) => p.inertia));
    expect(silhouette.datasets[0]!.data).toEqual(sweep.map((p) => p.silhouette));
    const chosen = clusters.run!.metrics.choice!.k;
    // the chosen k is marked: the second series holds exactly that one point, on both curves
    expect(elbow.datasets[1]!.data).toEqual(sweep.map((p) => (p.k === chosen ? p.inertia : null)));
    expect(silhouette.datasets[1]!.data).toEqual(sweep.map((p) => (p.k === chosen ? p.silhouette : null)));

    const churn = await apiGet<{ run?: unknown; distributions?: Record<string, { bins: { contacts: number }[] }> }>(
      '/models/churn',
    );
    expect(churn.run, 'the seeded job ran the churn model').toBeTruthy();
    await open('/console/predictions?model=churn');
    for (const [id, output] of [
      ['risk-chart', 'risk'],
      ['clv-chart', 'clv'],
    ] as const) {
      const histogram = (await chartOf(id))!;
      expect(histogram.type).toBe('bar');
      const bins = churn.distributions![output]!.bins.map((b) => b.contacts);
      expect(
        bins.reduce((a, b) => a + b, 0),
        `${output} histogram counts customers`,
      ).toBeGreaterThan(0);
      expect(histogram.datasets[0]!.data).toEqual(bins);
    }
  });

  it('runs: the history lists every run with its counts, and a run shows its rejected rows', async () => {
    const listing = await apiGet<{ runs: { id: number; counts: Record<string, number> }[]; total: number }>('/runs');
    expect(listing.total).toBe(2);
    const details = await Promise.all(
      listing.runs.map((r) =>
        apiGet<{ id: number; rejected: { total: number; rows: { reason: string }[] } }>(`/runs/${r.id}`),
      ),
    );
    // the latest run with rejected rows, else the latest run (whose page then says it has none)
    const shown = details.find((d) => d.rejected.total > 0) ?? details[0]!;
    await open(`/console/runs?id=${shown.id}`);
    const rows = await page.$$eval('#run-history tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText));
    expect(rows).toHaveLength(listing.total);
    expect(rows[0]).toContain(`#${listing.runs[0]!.id}`);
    expect(await page.innerText('#run-title')).toContain(`Run #${shown.id}`);
    if (shown.rejected.total > 0) {
      expect(await page.innerText('#run-errors caption')).toContain(`${shown.rejected.total} rejected rows`);
      expect(await page.innerText('#run-errors tbody')).toContain(shown.rejected.rows[0]!.reason);
    } else {
      expect(await page.innerText('#run-errors')).toContain('No rejected rows.');
    }
  });

  it('contact: searching an email shows that contact’s identities and segments', async () => {
    const members = await apiGet<{ members: { email: string | null }[] }>('/segments/churned/members');
    const email = members.members.find((m) => m.email)!.email!;
    const found = await apiGet<{
      contacts: { id: number; identities: { source: string }[]; segments: { segment: string }[] }[];
    }>(`/contacts?email=${encodeURIComponent(email)}`);
    await open('/console/contacts');
    await page.fill('#contact-email', email);
    await page.click('#contact-search button[type=submit]');
    await page.waitForSelector('#contact-profile article');
    const profile = await page.innerText('#contact-profile');
    expect(profile).toContain(`Contact #${found.contacts[0]!.id}`);
    for (const identity of found.contacts[0]!.identities) expect(profile).toContain(identity.source);
    // segments by name, not by key
    expect(profile).toContain('Churned');
    expect(
      await page.$$eval('#contact-profile a[href*="key=churned"]', (as) => as.map((a) => a.textContent)),
    ).toContain('Churned');
    expect(problems).toEqual([]);
  });

  it('audit: the page lists the findings GET /audit reports, in order, each with its severity', async () => {
    const report = await apiGet<{ findings: { section: string; severity: 'warning' | 'notice'; message: string }[] }>(
      '/audit',
    );
    expect(report.findings.length, 'the seeded store has something to report').toBeGreaterThan(0);
    await open('/console/audit');
    const shown = await page.$$eval('#findings li', (lis) =>
      lis.map((li) => ({
        severity: li.getAttribute('data-severity'),
        label: li.querySelector('.severity')?.textContent,
        message: li.querySelector('.message')?.textContent,
        notice: li.classList.contains('notice'),
      })),
    );
    expect(shown).toEqual(
      report.findings.map((f) => ({
        severity: f.severity,
        label: f.severity === 'notice' ? 'Notice' : 'Warning',
        message: f.message,
        notice: f.severity === 'notice',
      })),
    );
    const warnings = report.findings.filter((f) => f.severity === 'warning').length;
    expect(await page.innerText('#findings-summary')).toBe(
      `${warnings} warning${warnings === 1 ? '' : 's'}, ${report.findings.length - warnings} notice${report.findings.length - warnings === 1 ? '' : 's'}`,
    );
    // the seeded store has both kinds, and a warning and a notice look different on the page
    expect(warnings).toBeGreaterThan(0);
    expect(warnings).toBeLessThan(report.findings.length);
    const colours = await page.$$eval('#findings li', (lis) => [
      ...new Set(lis.map((li) => getComputedStyle(li).borderLeftColor)),
    ]);
    expect(colours).toHaveLength(2);
    expect(problems).toEqual([]);
  });

  it('no page, nor its visible text, holds a planted secret (API tokens, connector credentials)', async () => {
    const secrets = [ADMIN_TOKEN, READ_TOKEN, ...seeded.secrets];
    expect(secrets.every((s) => s.length >= 8)).toBe(true);
    for (const { path } of PAGES) {
      await open(path);
      const html = await page.content();
      for (const secret of secrets) {
        expect(html.includes(secret), `${path} HTML`).toBe(false);
        expect(texts.get(path)?.includes(secret), `${path} text`).toBe(false);
      }
    }
    for (const secret of secrets) expect(logged.join('\n').includes(secret)).toBe(false);
  });

  it('signing out ends the session: pages send the visitor back to the login page', async () => {
    await open('/');
    await Promise.all([page.waitForURL(`${base}/console/login`), page.click('#sign-out button')]);
    await page.goto(`${base}/console/segments`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(problems).toEqual([]);
  });
});
