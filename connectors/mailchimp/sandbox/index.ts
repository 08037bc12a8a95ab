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
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createWorld, type World } from '../../../plugins/sandbox/index.js';
import { MailchimpAccount } from './account.js';
import {
  createApp,
  MAILCHIMP_LIMITS,
  noFaults,
  RequestRecorder,
  type MailchimpFaults,
  type MailchimpLimits,
} from './app.js';

export { MailchimpAccount, mailchimpTime, type StoredMember, type StoredSegment } from './account.js';
export {
  createApp,
  MAILCHIMP_LIMITS,
  noFaults,
  RequestRecorder,
  type MailchimpFaults,
  type MailchimpLimits,
  type RecordedRequest,
} from './app.js';

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
  faults?: Partial<MailchimpFaults>;
  /** The API key to accept (`<hex>-<dc>`); a fresh one by default. */
  apiKey?: string;
}

export interface MailchimpSandbox {
  /** The base path to give the SDK (`http://127.0.0.1:PORT/3.0`). */
  url: string;
  credentials: { apiKey: string; server: string };
  account: MailchimpAccount;
  world: World;
  limits: MailchimpLimits;
  /** Switch faults on and off while it runs. */
  faults: MailchimpFaults;
  recorder: RequestRecorder;
  close(): Promise<void>;
}

/** The data centre the sandbox plays. */
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
  const faults = { ...noFaults(), ...options.faults };
  const recorder = new RequestRecorder();
  const apiKey = options.apiKey ?? `${randomBytes(16).toString('hex')}-${SANDBOX_DATA_CENTER}`;
  const app = createApp(account, { apiKeys: [apiKey], dataCenter: SANDBOX_DATA_CENTER, limits, faults, recorder });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ server: s, port: info.port }),
    );
  });
  return {
    url: `http://127.0.0.1:${port}/3.0`,
    credentials: { apiKey, server: SANDBOX_DATA_CENTER },
    account,
    world,
    limits,
    faults,
    recorder,
    close: () =>
      new Promise<void>((resolve, reject) => {
        account.flush();
        server.close((error) => (error ? reject(error) : resolve()));
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
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
