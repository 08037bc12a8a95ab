/**
 * What the real-time tests share: a temporary config (one write key, Mailchimp and Salesforce sources for their
 * webhooks, a Segment destination pointed at its sandbox, a `buyers` segment pushed by a job), the server deps built
 * from it, and readers of what the Segment sandbox received.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { loadConfig, type Config } from '../../config/index.js';
import { sandboxConfig, type SegmentSandbox } from '../../connectors/segment/index.js';
import { loadPage, openStore, type Queryable } from '../../core/index.js';
import { createRegistry, type Logger } from '../../plugins/index.js';
import type { ServerDeps } from '../../server/deps.js';
import { storeYaml } from '../support/engines.js';
import { tempDir as makeTempDir } from '../support/temp.js';

export const WRITE_KEY = 'wk_test_website_0123456789';
export const MAILCHIMP_SECRET = 'mc-hook-secret-42';
export const SALESFORCE_ORG = '00D5g000004ABCDEAA';
export const HUBSPOT_SECRET = 'hubspot-app-client-secret';

export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Writes the config; `segment` is the sandbox the destination points at (a placeholder host when none), `store` the
 * store's location (a SQLite file in `dir` when none; a PostgreSQL URL runs the same config on that engine).
 */
export async function writeConfig(
  dir: string,
  segment?: Pick<SegmentSandbox, 'url' | 'credentials'>,
  store: string = join(dir, 'segflow.db'),
): Promise<Config> {
  const file = join(dir, 'segflow.yaml');
  const destination = segment ? sandboxConfig(segment) : { writeKey: 'unused', host: 'http://127.0.0.1:9' };
  writeFileSync(
    file,
    `store: ${storeYaml(store)}
sources:
  newsletter:
    connector: mailchimp
    config: { apiKey: 0123456789abcdef0123456789abcdef-us1, audienceIds: [aud1], webhookSecret: ${MAILCHIMP_SECRET} }
  crm:
    connector: salesforce
    config: { instanceUrl: "http://127.0.0.1:9", accessToken: token-not-used, organizationId: ${SALESFORCE_ORG} }
  hub:
    connector: hubspot
    config: { accessToken: token-not-used, clientSecret: ${HUBSPOT_SECRET}, basePath: "http://127.0.0.1:9" }
destinations:
  cdp:
    connector: segment
    config: ${JSON.stringify(destination)}
segments:
  - key: buyers
    name: Bought in the last 30 days
    rule: { event: purchase, within: 30d }
jobs:
  nightly:
    steps:
      - compute: { segments: [buyers] }
      - push: { destination: cdp, segments: [buyers], mode: mirror }
server:
  write_keys: { website: SEGFLOW_WRITE_KEY_WEBSITE }
`,
  );
  return loadConfig(file, { registry: createRegistry(BUILTIN_CONNECTORS), env: {} });
}

/** Server deps over the config's store (opened, so migrated). */
export async function depsOf(config: Config, logger: Logger = quiet): Promise<ServerDeps> {
  return {
    config,
    store: await openStore(config.store.path),
    registry: createRegistry(BUILTIN_CONNECTORS),
    logger,
    env: { SEGFLOW_WRITE_KEY_WEBSITE: WRITE_KEY },
    startJob: () => Promise.resolve({ status: 'not started' }),
  };
}

export const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

export function tempDir(): string {
  return makeTempDir('segflow-realtime-');
}

/** Every message the sandbox received in raw /v1/batch requests, duplicates included. */
export function rawMessages(
  sandbox: SegmentSandbox,
): { type: string; userId?: string; event?: string; messageId: string }[] {
  return sandbox.recorder.requests
    .filter((r) => r.path === '/v1/batch' && r.status < 300)
    .flatMap(
      (r) =>
        (JSON.parse(r.body) as { batch: { type: string; userId?: string; event?: string; messageId: string }[] }).batch,
    );
}

/** The website has identified each of `people` (userId and email), as a site does at sign-in, at `at`. */
export async function identifiedOnWebsite(store: Queryable, people: readonly string[], at: Date): Promise<void> {
  await loadPage(store, {
    connection: 'website',
    stream: 'identify',
    records: people.map((who) => ({
      kind: 'contact' as const,
      source: 'tracking',
      externalId: who,
      traits: { email: `${who}@example.com` },
    })),
    checkpoint: null,
    now: at,
  });
}

/** Waits until `check` holds, polling every 25 ms; fails naming `what` after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 40_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
