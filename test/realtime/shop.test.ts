/**
 * The demo shop as a visitor uses it: in Chromium, on the shop's own origin, they sign in with an email, view the
 * pricing page and add a product to the cart; the real browser library sends it all to segflow, and within seconds
 * their profile is in the "High intent" segment (a pricing-page view plus an add-to-cart), as the console shows.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { startShop, type Shop } from '../../cli/shop.js';
import { loadConfig } from '../../config/index.js';
import { sandboxConfig, startSandbox, type SegmentSandbox } from '../../connectors/segment/index.js';
import { openStore, type Store } from '../../core/index.js';
import { createRegistry } from '../../plugins/index.js';
import { startServing, type Serving } from '../../server/index.js';
import { launchChromium } from '../support/chromium.js';
import { quiet, tempDir } from './fixture.js';

const WRITE_KEY = 'wk_shop_test_0123456789ab';
let dir: string;
let sandbox: SegmentSandbox;
let serving: Serving;
let shop: Shop;
let store: Store;
let browser: Browser;

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  dir = tempDir();
  sandbox = await startSandbox({ seed: 'shop' });
  const shopPort = await freePort();
  const file = join(dir, 'segflow.yaml');
  writeFileSync(
    file,
    `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }
destinations:
  segment:
    connector: segment
    config: ${JSON.stringify(sandboxConfig(sandbox))}
segments:
  - key: high_intent
    name: High intent
    rule:
      all:
        - { event: page_view, within: 1d, where: { url: { contains: /pricing } } }
        - { event: custom, within: 1d, where: { name: Product Added } }
jobs:
  demo:
    steps:
      - push: { destination: segment, segments: [high_intent], mode: mirror }
server:
  write_keys: { shop: SEGFLOW_SHOP_TEST_WRITE_KEY }
  tracking:
    cors_origins: ["http://127.0.0.1:${shopPort}"]
`,
  );
  process.env.SEGFLOW_SHOP_TEST_WRITE_KEY = WRITE_KEY;
  const registry = createRegistry(BUILTIN_CONNECTORS);
  const config = await loadConfig(file, { registry, env: {} });
  serving = await startServing(config, { registry, logger: quiet, port: 0, scheduler: false });
  shop = await startShop({ port: shopPort, segflowUrl: serving.url, writeKey: WRITE_KEY });
  store = await openStore(config.store.path);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await store?.close();
  await shop?.close();
  await serving?.stop();
  await sandbox?.close();
  delete process.env.SEGFLOW_SHOP_TEST_WRITE_KEY;
  rmSync(dir, { recursive: true, force: true });
});

const highIntent = async (email: string) =>
  (await store.all(
    "SELECT m.contact_id FROM memberships m JOIN contacts c ON c.id = m.contact_id WHERE m.segment_key = 'high_intent' AND c.email = ?",
    [email],
  )) as { contact_id: number }[];

describe('the demo shop', () => {
  it('a visitor who signs in, views pricing and adds to cart enters "High intent" within seconds', async () => {
    const context = await browser.newContext();
    const external: string[] = [];
    await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => {
      external.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${shop.url}/`);
    await page.fill('input[name=email]', 'Visitor@Example.com');
    await page.click('#sign-in button');
    await page.click('a[href="/pricing"]');
    await page.waitForURL(`${shop.url}/pricing`);
    expect(await highIntent('visitor@example.com')).toEqual([]);
    await page.click('a[href="/"]');
    await page.click('button[data-sku="mug-02"]');
    await page.waitForSelector('#status:has-text("added to the cart")');

    const deadline = Date.now() + 20_000;
    while ((await highIntent('visitor@example.com')).length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await highIntent('visitor@example.com')).toHaveLength(1);
    expect(external).toEqual([]);
    await context.close();
  }, 60_000);
});
