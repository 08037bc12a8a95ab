/**
 * The real tracking libraries, wired up as a new user would, against `segflow serve`: Segment's current Node library,
 * the legacy analytics-node 6.x, RudderStack's Node SDK (gzip on by default), and analytics.js (analytics-next) in
 * Chromium on a page from another loopback origin — once bundled from the npm package and once through the stock
 * snippet with segflow as its CDN and API host. For each: identify, track, page, screen, group, alias and a batch land
 * in the store (checked by messageId), and the library reports no error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/index.js';
import { launchChromium } from '../support/chromium.js';
import { tempDir } from '../support/temp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

const KEYS = {
  segment_node: 'wk_lib_segment_node_01_a1b2c3d4e5',
  legacy_node: 'wk_lib_legacy_node_02_a1b2c3d4e5',
  rudder: 'wk_lib_rudder_03_a1b2c3d4e5',
  browser_npm: 'wk_lib_browser_npm_04_a1b2c3d4e5',
  browser_snippet: 'wk_lib_browser_snippet_05_a1b2c3d4e5',
} as const;

/** analytics-node 6.x has no types: the part of it these tests call. */
interface LegacyAnalytics {
  identify(message: object, callback: (error?: Error) => void): void;
  track(message: object, callback: (error?: Error) => void): void;
  page(message: object, callback: (error?: Error) => void): void;
  screen(message: object, callback: (error?: Error) => void): void;
  group(message: object, callback: (error?: Error) => void): void;
  alias(message: object, callback: (error?: Error) => void): void;
  flush(): Promise<unknown>;
}
const LegacyAnalytics = require('analytics-node') as new (
  key: string,
  options: { host: string; flushAt: number; flushInterval: number },
) => LegacyAnalytics;

let dir: string;
let segflow: string;
let child: ChildProcess;
let pages: Server;
let pagesOrigin: string;
let store: Store;
let browser: Browser | undefined;

/** Static pages of the "shop" origin: the npm bundle, and a page per variant. */
function pageServer(): Promise<Server> {
  const bundle = join(dirname(require.resolve('@segment/analytics-next')), '..', 'umd', 'index.js');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const html = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>shop</title></head><body><h1>shop</h1>${body}</body></html>`);
    };
    if (path === '/analytics-next.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      res.end(readFileSync(bundle));
    } else if (path === '/npm.html') html('<script src="/analytics-next.js"></script>');
    else if (path === '/snippet.html') html(snippet(KEYS.browser_snippet, segflow));
    else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * The stock snippet's work, pointed at segflow: a stub that queues calls, the write key and CDN on it (`_cdn`, as the
 * snippet does for a self-hosted or proxied analytics.js), and analytics.min.js loaded from the CDN host.
 */
function snippet(writeKey: string, cdn: string): string {
  return `<script>
  (function () {
    var analytics = (window.analytics = window.analytics || []);
    ['track', 'identify', 'page', 'screen', 'group', 'alias', 'ready', 'on', 'once', 'off', 'reset', 'setAnonymousId']
      .forEach(function (method) {
        analytics[method] = function () {
          var args = Array.prototype.slice.call(arguments);
          args.unshift(method);
          analytics.push(args);
          return analytics;
        };
      });
    analytics.load = function (key, options) {
      var script = document.createElement('script');
      script.async = true;
      script.src = analytics._cdn + '/analytics.js/v1/' + key + '/analytics.min.js';
      document.head.appendChild(script);
      analytics._loadOptions = options;
    };
    analytics._writeKey = ${JSON.stringify(writeKey)};
    analytics._cdn = ${JSON.stringify(cdn)};
    analytics.load(${JSON.stringify(writeKey)});
    analytics.page('Landing', { url: location.href });
  })();
</script>`;
}

beforeAll(async () => {
  dir = tempDir('segflow-libraries-');
  pages = await pageServer();
  pagesOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
server:
  write_keys:
${Object.keys(KEYS)
  .map((name) => `    ${name}: SEGFLOW_WK_${name.toUpperCase()}`)
  .join('\n')}
  tracking:
    cors_origins: ["${pagesOrigin}"]
`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, SEGFLOW_ADMIN_TOKEN: 'libraries-admin-token-0123456789abcdef' };
  for (const [name, key] of Object.entries(KEYS)) env[`SEGFLOW_WK_${name.toUpperCase()}`] = key;
  child = spawn(process.execPath, ['bin/segflow.js', 'serve', file, '--port', '0', '--no-scheduler'], {
    cwd: root,
    env,
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  segflow = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`segflow serve printed no URL: ${out}`)), 60_000);
    child.stdout?.on('data', () => {
      const match = /segflow serving (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ''));
      }
    });
  });
  store = await openStore(join(dir, 'segflow.db'));
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await store?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await new Promise((resolve) => pages?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until every message id is loaded from the inbox into the store; returns those that never were. */
async function missing(ids: readonly string[], timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = (await store.all(
      'SELECT message_id FROM realtime_inbox WHERE loaded_at IS NOT NULL AND message_id IN (SELECT value FROM json_each(?))',
      [JSON.stringify(ids)],
    )) as { message_id: string }[];
    const found = new Set(rows.map((r) => r.message_id));
    const left = ids.filter((id) => !found.has(id));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The calls every library makes, each with its own messageId, as [method, message]. */
function calls(library: string): [string, Record<string, unknown>][] {
  const user = `${library}-user`;
  const id = (what: string) => `${library}-${what}`;
  return [
    [
      'identify',
      {
        userId: user,
        anonymousId: `${library}-anon`,
        traits: { email: `${library}@example.com` },
        messageId: id('identify'),
      },
    ],
    ['track', { userId: user, event: 'Product Added', properties: { sku: 'p-1' }, messageId: id('track') }],
    [
      'page',
      { userId: user, name: 'Pricing', properties: { url: 'https://shop.example.com/pricing' }, messageId: id('page') },
    ],
    ['screen', { userId: user, name: 'Home', messageId: id('screen') }],
    ['group', { userId: user, groupId: 'acme', traits: { name: 'Acme' }, messageId: id('group') }],
    ['alias', { userId: user, previousId: `${library}-old`, messageId: id('alias') }],
  ];
}
const idsOf = (list: [string, Record<string, unknown>][]) => list.map(([, m]) => m.messageId as string);

describe('Node libraries', () => {
  it('@segment/analytics-node: every call lands, no error', async () => {
    const analytics = new Analytics({ writeKey: KEYS.segment_node, host: segflow, flushAt: 7, flushInterval: 200 });
    const errors: unknown[] = [];
    analytics.on('error', (error) => errors.push(error));
    const sent = calls('segment-node');
    const batch: [string, Record<string, unknown>][] = [1, 2, 3].map((n) => [
      'track',
      { userId: 'segment-node-user', event: 'Batched', messageId: `segment-node-batch-${n}` },
    ]);
    for (const [method, message] of [...sent, ...batch]) {
      (analytics as unknown as Record<string, (m: object) => void>)[method]!.call(analytics, message);
    }
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    expect(await missing(idsOf([...sent, ...batch]))).toEqual([]);
  });

  it('analytics-node 6.x: every call lands, the callbacks get no error and the host does not crash', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const analytics = new LegacyAnalytics(KEYS.legacy_node, { host: segflow, flushAt: 4, flushInterval: 200 });
      const sent = calls('legacy-node');
      const batch: [string, Record<string, unknown>][] = [1, 2, 3].map((n) => [
        'track',
        { userId: 'legacy-node-user', event: 'Batched', messageId: `legacy-node-batch-${n}` },
      ]);
      const outcomes = await Promise.all(
        [...sent, ...batch].map(
          ([method, message]) =>
            new Promise<Error | undefined>((resolve) => {
              (analytics as unknown as Record<string, (m: object, cb: (e?: Error) => void) => void>)[method]!.call(
                analytics,
                message,
                resolve,
              );
            }),
        ),
      );
      await analytics.flush();
      expect(outcomes.filter((e) => e !== undefined && e !== null)).toEqual([]);
      expect(await missing(idsOf([...sent, ...batch]))).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('@rudderstack/rudder-sdk-node with its default gzip: every call lands, no error', async () => {
    const errors: unknown[] = [];
    const analytics = new RudderAnalytics(KEYS.rudder, {
      dataPlaneUrl: segflow,
      flushAt: 9,
      flushInterval: 200,
      errorHandler: (error: unknown) => errors.push(error),
    } as ConstructorParameters<typeof RudderAnalytics>[1]);
    const sent = calls('rudder');
    const batch: [string, Record<string, unknown>][] = [1, 2, 3].map((n) => [
      'track',
      { userId: 'rudder-user', event: 'Batched', messageId: `rudder-batch-${n}` },
    ]);
    const outcomes = await Promise.all(
      [...sent, ...batch].map(
        ([method, message]) =>
          new Promise<unknown>((resolve) => {
            (analytics as unknown as Record<string, (m: object, cb: (e?: unknown) => void) => void>)[method]!.call(
              analytics,
              message,
              resolve,
            );
          }),
      ),
    );
    await analytics.flush();
    expect(outcomes.filter((e) => e !== undefined && e !== null)).toEqual([]);
    expect(errors).toEqual([]);
    expect(await missing(idsOf([...sent, ...batch]))).toEqual([]);
  });
});

describe('analytics.js in Chromium, on a page from another origin', () => {
  const external: string[] = [];
  const posted: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);

  async function openPage(path: string) {
    const context = await browser!.newContext();
    // Only loopback: anything else (Segment's own CDN or API) is refused and listed.
    await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => {
      external.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().startsWith(segflow))
        posted.push(new URL(request.url()).pathname);
    });
    await page.goto(`${pagesOrigin}${path}`);
    return { context, page, consoleErrors };
  }

  it('bundled from the npm package (settings from segflow as its CDN, batching on): every call lands', async () => {
    const { context, page, consoleErrors } = await openPage('/npm.html');
    const result = await page.evaluate(
      async ({ writeKey, cdnURL }) => {
        type Ctx = { event: { messageId?: string } };
        type Instance = Record<string, (...args: unknown[]) => Promise<Ctx>> & {
          on(event: string, listener: (e: unknown) => void): void;
        };
        const next = (
          window as unknown as { AnalyticsNext: { AnalyticsBrowser: { load(...a: unknown[]): Promise<[Instance]> } } }
        ).AnalyticsNext;
        const [analytics] = await next.AnalyticsBrowser.load(
          { writeKey, cdnURL },
          {
            integrations: {
              'Segment.io': { deliveryStrategy: { strategy: 'batching', config: { size: 9, timeout: 300 } } },
            },
          },
        );
        const errors: string[] = [];
        analytics.on('error', (e) => errors.push(JSON.stringify(e)));
        const contexts = [
          await analytics.identify!('browser-npm-user', { email: 'npm@example.com' }),
          await analytics.track!('Product Added', { sku: 'p-1' }),
          await analytics.page!('Pricing', { url: 'https://shop.example.com/pricing' }),
          await analytics.screen!('Home'),
          await analytics.group!('acme', { name: 'Acme' }),
          await analytics.alias!('browser-npm-user', 'browser-npm-old'),
          await analytics.track!('Batched', { n: 1 }),
          await analytics.track!('Batched', { n: 2 }),
          await analytics.track!('Batched', { n: 3 }),
        ];
        return { ids: contexts.map((c) => c.event.messageId ?? ''), errors };
      },
      { writeKey: KEYS.browser_npm, cdnURL: segflow },
    );
    expect(result.ids.every((id) => id !== '')).toBe(true);
    expect(await missing(result.ids)).toEqual([]);
    expect(result.errors).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(posted).toContain('/v1/b');
    expect(external).toEqual([]);
    await context.close();
  }, 60_000);

  it('through the stock snippet with segflow as CDN and API host: the queued page view and every call land', async () => {
    posted.length = 0;
    const { context, page, consoleErrors } = await openPage('/snippet.html');
    await page.waitForFunction(() => !Array.isArray((window as unknown as { analytics: unknown }).analytics), null, {
      timeout: 20_000,
    });
    const ids = await page.evaluate(async () => {
      type Ctx = { event: { messageId?: string } };
      const analytics = (window as unknown as { analytics: Record<string, (...args: unknown[]) => Promise<Ctx>> })
        .analytics;
      const contexts = [
        await analytics.identify!('browser-snippet-user', { email: 'snippet@example.com' }),
        await analytics.track!('Product Added', { sku: 'p-1' }),
        await analytics.page!('Pricing', { url: 'https://shop.example.com/pricing' }),
        await analytics.screen!('Home'),
        await analytics.group!('acme', { name: 'Acme' }),
        await analytics.alias!('browser-snippet-user', 'browser-snippet-old'),
      ];
      return contexts.map((c) => c.event.messageId ?? '');
    });
    expect(await missing(ids)).toEqual([]);
    // The page view the snippet queued before analytics.js loaded landed too.
    const views = (
      (await store.all("SELECT properties FROM events WHERE type = 'page_view'")) as { properties: string }[]
    ).map((e) => JSON.parse(e.properties) as { name?: string; url?: string; write_key?: string });
    const queued = views.filter((v) => v.name === 'Landing' && v.url === `${pagesOrigin}/snippet.html`);
    expect(queued.map((v) => v.write_key)).toEqual(['browser_snippet']);
    expect(new Set(posted)).toEqual(new Set(['/v1/i', '/v1/t', '/v1/p', '/v1/s', '/v1/g', '/v1/a']));
    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
    await context.close();
  }, 60_000);
});
