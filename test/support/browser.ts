/**
 * The console in headless Chromium, as the browser tests drive it. {@link consoleInBrowser} serves the admin API and
 * console of a store on loopback and launches Chromium; each page it gives (in a browser context of its own, signed in
 * through POST /session as the login form does, or not signed in at all) records what goes wrong on it in `problems`,
 * which a test expects empty; `open` waits until a console page says it is ready; `close` closes it all.
 */
import type { ServerType } from '@hono/node-server';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { expect } from 'vitest';
import { builtinRegistry } from '../../cli/builtins.js';
import type { Config } from '../../config/index.js';
import { createServer, startJobOver, type ServerDeps, type StartJob } from '../../server/index.js';
import { runJob, type JobResult, type RunJobOptions } from '../../sync/index.js';
import { launchChromium } from './chromium.js';
import { serveOnLoopback } from './serve.js';

/** What a page's problems are, besides its uncaught errors and console errors (always recorded), and its patience. */
export interface Watch {
  /** Console warnings too. */
  warnings?: boolean;
  /** Requests that failed without an answer. */
  failedRequests?: boolean;
  /** Answers of 400 and over. */
  errorAnswers?: boolean;
  /** Requests to anywhere but the server. */
  elsewhere?: boolean;
  /** Console errors that are not problems (a refused preview of a half-typed rule, shown in the page). */
  expected?: (text: string) => boolean;
  /** How long a page waits for a selector, ms. Default 15 s. */
  timeoutMs?: number;
}

/** The console in a browser: see {@link consoleInBrowser}. */
export interface ConsoleInBrowser {
  base: string;
  browser: Browser;
  /** What went wrong on the pages, in order: a test expects none, or takes out what it caused with `splice(0)`. */
  problems: string[];
  /** A page in a new browser context, signed in with `token`. */
  signedIn(token: string, options?: BrowserContextOptions): Promise<Page>;
  /** A page in a new browser context, not signed in (to sign in through the login form). */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** Goes to `path` and waits until the page says it is ready (its `#status` otherwise in the failure). */
  open(page: Page, path: string): Promise<void>;
  close(): Promise<void>;
}

const quiet = () => {};

/** The window every browser test uses, unless it says otherwise. */
const VIEWPORT = { viewport: { width: 1280, height: 900 } };

/**
 * Serves the console for `deps` (the built-in registry and a quiet logger unless given) and launches Chromium; its
 * pages record the problems `watch` names.
 *
 * @example
 * const inBrowser = await consoleInBrowser({ config, store, env, startJob }, { errorAnswers: true });
 * const page = await inBrowser.signedIn(READ_TOKEN);
 * await inBrowser.open(page, '/console/segments');
 * expect(inBrowser.problems).toEqual([]);
 */
export async function consoleInBrowser(
  deps: Omit<ServerDeps, 'registry' | 'logger'> & Partial<Pick<ServerDeps, 'registry' | 'logger'>>,
  watch: Watch = {},
): Promise<ConsoleInBrowser> {
  const app = createServer({
    registry: builtinRegistry(),
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    ...deps,
  });
  const { server, base } = await serveOnLoopback(app);
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  const problems: string[] = [];
  const contexts: BrowserContext[] = [];

  const watched = (page: Page): Page => {
    page.setDefaultTimeout(watch.timeoutMs ?? 15_000);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (m) => {
      const type = m.type();
      if ((type === 'error' && !watch.expected?.(m.text())) || (type === 'warning' && watch.warnings))
        problems.push(`console ${type}: ${m.text()}`);
    });
    if (watch.failedRequests)
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    if (watch.errorAnswers)
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
      });
    if (watch.elsewhere)
      page.on('request', (r) => {
        if (!r.url().startsWith(base)) problems.push(`left the server: ${r.url()}`);
      });
    return page;
  };
  const newContext = async (options: BrowserContextOptions = {}) => {
    const context = await browser.newContext({ ...VIEWPORT, ...options });
    contexts.push(context);
    return context;
  };

  return {
    base,
    browser,
    problems,
    async signedIn(token, options) {
      const context = await newContext(options);
      expect((await context.request.post(`${base}/session`, { data: { token } })).status(), 'signed in').toBe(201);
      return watched(await context.newPage());
    },
    async newPage(options) {
      return watched(await (await newContext(options)).newPage());
    },
    async open(page, path) {
      await page.goto(base + path);
      expect(new URL(page.url()).pathname, `${path}: still signed in`).not.toBe('/console/login');
      await page.waitForSelector('body[data-state]', { state: 'attached' });
      expect(await page.getAttribute('body', 'data-state'), `${path}: ${await page.textContent('#status')}`).toBe(
        'ready',
      );
    },
    async close() {
      for (const context of contexts) await context.close();
      await browser.close();
      await closeServer(server);
    },
  };
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A `startJob` that runs a job of `config` as `segflow serve` does: answered once the run exists, while it goes on in
 * the background; `settled()` waits for every run it started (before the store closes).
 *
 * @example
 * const jobs = jobsInBackground(seeded.config, { now: seeded.now });
 * const inBrowser = await consoleInBrowser({ ..., startJob: jobs.startJob });
 * afterAll(() => jobs.settled());
 */
export function jobsInBackground(
  config: Config,
  options: Omit<RunJobOptions, 'dryRun' | 'onRunStarted'>,
): { startJob: StartJob; settled(): Promise<void> } {
  const running = new Set<Promise<JobResult>>();
  return {
    startJob: startJobOver((job, extra) => {
      const done = runJob(config, job, { ...options, ...extra });
      running.add(done);
      return done;
    }),
    async settled() {
      await Promise.allSettled([...running]);
    },
  };
}
