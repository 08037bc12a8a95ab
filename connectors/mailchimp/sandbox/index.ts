/**
 * The Mailchimp sandbox: a local server that behaves like the Marketing API 3.0 for the shared synthetic world, so
 * the real `@mailchimp/mailchimp_marketing` SDK can be pointed at it by tests, benchmarks, the demo and plugin
 * authors (`segflow sandbox mailchimp`).
 *
 * @example
 * const sandbox = await startSandbox({ seed: 7, people: 2_000 });
 * // apiKey: sandbox.credentials.apiKey, basePath: sandbox.url
 * await sandbox.close();
 */
import { randomBytes } from 'node:crypto';
import {
  createWorld,
  serveSandbox,
  type ConcurrencyLimiter,
  type FaultPlan,
  type Faults,
  type Latency,
  type Recorder,
  type World,
} from '../../../plugins/sandbox/index.js';
import { MailchimpAccount } from './account.js';
import { createApp } from './app.js';
import { MAILCHIMP_LIMITS, type MailchimpLimits } from './limits.js';
import { mailchimpTraffic } from './traffic.js';

export { MailchimpAccount, mailchimpTime, type StoredMember, type StoredSegment } from './account.js';
export { renderBulk, type MailchimpBulkOptions } from './bulk.js';
export { createApp, type AppOptions } from './app.js';
export { MAILCHIMP_LIMITS, type MailchimpLimits } from './limits.js';
export { mailchimpTraffic, type MailchimpTraffic, type MailchimpTrafficOptions } from './traffic.js';

/**
 * Options of {@link startSandbox}.
 *
 * @example
 * await startSandbox({ seed: 'other-account', people: 400, limits: { latencyMs: 25 } });
 */
export interface SandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** World seed (default 1); ignored when `world` is given. */
  seed?: string | number;
  /** People in the world (default 2,000; about half are in Mailchimp); ignored when `world` is given. */
  people?: number;
  /** About how many Mailchimp people the world should hold (sets `people` to twice this); for `--members N`. */
  members?: number;
  /** A world shared with other sandboxes, so one person is seen by several tools. */
  world?: World;
  /** File that keeps what was written (members, tags, segments, permanent deletes) across restarts. */
  statePath?: string;
  limits?: Partial<MailchimpLimits>;
  /** Faults to start with (switch them later with `sandbox.faults`). */
  faults?: FaultPlan;
  /** Over the connection limit, answer a bare 403 instead of 429 (Mailchimp's edge does, sometimes). */
  throttleAsBare403?: boolean;
  /** The API key to accept (`<hex>-<dc>`); a fresh one by default. */
  apiKey?: string;
}

/**
 * A running Mailchimp sandbox.
 *
 * @example
 * sandbox.faults.storm(2); // the next two requests answer 429
 * sandbox.connections.counts().peak; // the most requests in flight at once
 */
export interface MailchimpSandbox {
  /** The base path to give the SDK (`http://127.0.0.1:PORT/3.0`). */
  url: string;
  credentials: { apiKey: string; server: string };
  account: MailchimpAccount;
  world: World;
  limits: MailchimpLimits;
  /** Every request received, refused ones included. */
  recorder: Recorder;
  /** Switch faults on and off while it runs. */
  faults: Faults;
  /** The simultaneous-connection cap, with the most requests seen in flight and how many were refused. */
  connections: ConcurrencyLimiter;
  /** Every request is held this long inside its connection slot. */
  latency: Latency;
  close(): Promise<void>;
}

/**
 * The data centre the sandbox plays.
 *
 * @example
 * sandbox.credentials.server === SANDBOX_DATA_CENTER; // 'us21'
 */
export const SANDBOX_DATA_CENTER = 'us21';

/**
 * Starts the sandbox on 127.0.0.1.
 *
 * @example
 * const sandbox = await startSandbox({ people: 500, limits: { latencyMs: 5 } });
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<MailchimpSandbox> {
  const world =
    options.world ??
    createWorld({ seed: options.seed ?? 1, people: options.people ?? (options.members ? options.members * 2 : 2_000) });
  const account = new MailchimpAccount(world, options.statePath);
  const limits = { ...MAILCHIMP_LIMITS, ...options.limits };
  const traffic = mailchimpTraffic({
    limits,
    seed: options.seed ?? 1,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.throttleAsBare403 ? { throttleAsBare403: true } : {}),
  });
  const apiKey = options.apiKey ?? `${randomBytes(16).toString('hex')}-${SANDBOX_DATA_CENTER}`;
  const app = createApp(account, { apiKeys: [apiKey], dataCenter: SANDBOX_DATA_CENTER, limits, traffic });
  const served = await serveSandbox(app, options.port === undefined ? {} : { port: options.port });
  return {
    url: `${served.url}/3.0`,
    credentials: { apiKey, server: SANDBOX_DATA_CENTER },
    account,
    world,
    limits,
    ...traffic,
    close: async () => {
      account.flush();
      await served.close();
    },
  };
}

/**
 * The connection settings (source or destination) that point the connector at a running sandbox.
 *
 * @example
 * const config = { ...sandboxConfig(sandbox), audienceIds: [sandbox.world.audiences[0].id] };
 */
export function sandboxConfig(sandbox: Pick<MailchimpSandbox, 'url' | 'credentials'>): {
  apiKey: string;
  basePath: string;
} {
  return { apiKey: sandbox.credentials.apiKey, basePath: sandbox.url };
}
