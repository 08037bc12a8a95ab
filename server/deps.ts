/**
 * What the admin server is built from. `segflow serve` (cli/commands/serve.ts) assembles it from a loaded config; tests
 * assemble it from a temporary store and sandboxes. Every route module is a function of it returning a Hono app, which
 * `createServer` mounts.
 */
import type { Config } from '../config/index.js';
import type { SignInThrottle } from './auth.js';
import type { Store } from '../core/index.js';
import type { CallStats, Logger, Registry } from '../plugins/index.js';

/** Starts a job run; resolves once the run exists (its id known), while the run itself continues in the background. */
export type StartJob = (
  job: string,
  options: { dryRun?: boolean },
) => Promise<{ runId?: number; status: string; plan?: unknown }>;

/** The cron scheduler, as /health and GET /jobs see it. */
export interface SchedulerStatus {
  alive(): boolean;
}

export interface ServerDeps {
  /** The loaded config (connector configs validated, secrets resolved from the environment). */
  config: Config;
  /** The server's own store connection (the main thread's). */
  store: Store;
  registry: Registry;
  logger: Logger;
  /** Where bearer tokens and ingestion write keys are read from (the names are in `config.server`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Runs a job of the config; injected by the caller, since running jobs needs the CLI's wiring. */
  startJob: StartJob;
  /** The moment "now" is measured from (the demo uses the sandbox world's clock). Default: the wall clock. */
  now?: () => Date;
  /** The scheduler when `segflow serve` runs one; /health reports it. */
  scheduler?: SchedulerStatus;
  /** The real-time pipeline when `segflow serve` runs one; /health reports whether its step worker runs. */
  realtime?: { running(): boolean };
  /** API calls, retries and 429s per connection made outside the server's own contexts (job runs), for /metrics. */
  connectionStats?: () => Record<string, CallStats>;
  /** Items waiting in in-memory queues (the real-time flusher), by queue name, for /metrics. */
  queueDepth?: () => Promise<Record<string, number>>;
  /** How long a console session lasts. Default 12 hours. */
  sessionTtlMs?: number;
  /** How failed sign-ins are slowed down (tests give one with their own clock). Default: {@link SignInThrottle}'s. */
  signInThrottle?: SignInThrottle;
}
