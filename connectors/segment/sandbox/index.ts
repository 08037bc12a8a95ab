/**
 * The Segment sandbox: a local server that accepts what `@segment/analytics-node` sends (the tracking API with its
 * limits, deduplication and faults) and answers a Profiles-API-shaped read of what it holds, for tests, benchmarks,
 * the demo and plugin authors (`segflow sandbox segment`).
 *
 * @example
 * const sandbox = await startSandbox({ seed: 7 });
 * const analytics = new Analytics({ writeKey: sandbox.credentials.writeKey, host: sandbox.url, maxRetries: 0 });
 * await sandbox.close();
 */
import { createHash } from 'node:crypto';
import {
  createFaults,
  createRecorder,
  serveSandbox,
  type Faults,
  type FaultPlan,
  type Recorder,
  type World,
} from '../../../plugins/sandbox/index.js';
import { createSegmentApp, SEGMENT_LIMITS, type SegmentLimits } from './app.js';
import { SegmentWorkspace } from './workspace.js';

export { createSegmentApp, SEGMENT_LIMITS, type SegmentAppOptions, type SegmentLimits } from './app.js';
export {
  SegmentWorkspace,
  type AcceptedMessage,
  type ApplyOutcome,
  type SegmentMessage,
  type SegmentGroup,
  type SegmentProfile,
  type TrackedEvent,
} from './workspace.js';

export interface SandboxOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Seed of the write key, token and fault draws (default 1). */
  seed?: string | number;
  /** Accepted for the common sandbox signature; Segment only receives, so it renders no world. */
  people?: number;
  world?: World;
  /** File that keeps profiles, events and seen messageIds across restarts. */
  statePath?: string;
  limits?: Partial<SegmentLimits>;
  /** Faults to start with (switch them later with `sandbox.faults.set`). */
  faults?: FaultPlan;
  /** The sandbox clock, epoch ms (default `Date.now`); the deduplication window runs on it. */
  now?: () => number;
  /** Keep request bodies in the recorder (default true; benchmarks turn it off). */
  recordBodies?: boolean;
  /** Answer a wrong write key 401 instead of Segment's 200 (see `SegmentAppOptions.refuseWrongWriteKey`). */
  refuseWrongWriteKey?: boolean;
}

export interface SegmentSandbox {
  /** The host to give the SDK and the Profiles base URL, e.g. `http://127.0.0.1:53121`. */
  url: string;
  credentials: { writeKey: string; profilesToken: string; spaceId: string; publicApiToken: string; sourceId: string };
  workspace: SegmentWorkspace;
  limits: SegmentLimits;
  /** Every raw request received, duplicates and refused ones included. */
  recorder: Recorder;
  faults: Faults;
  /** Moves the sandbox clock forward (to let the 24 h deduplication window pass in a test). */
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * Starts the sandbox on 127.0.0.1.
 *
 * @example
 * const sandbox = await startSandbox({ port: 0, seed: 3, limits: { dedupWindowMs: 0 } });
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<SegmentSandbox> {
  const seed = String(options.seed ?? 1);
  const limits = { ...SEGMENT_LIMITS, ...options.limits };
  let offset = 0;
  const base = options.now ?? Date.now;
  const now = () => base() + offset;
  const workspace = new SegmentWorkspace({ now, dedupWindowMs: limits.dedupWindowMs, statePath: options.statePath });
  const recorder = createRecorder({ now, bodies: options.recordBodies ?? true });
  const faults = createFaults({
    seed,
    ...(options.faults ? { plan: options.faults } : {}),
    respond: {
      rate_limited: (c, plan) => {
        const seconds = plan.retryAfterSeconds ?? 1;
        return c.json(
          { success: false, code: 'rate_limited', message: 'Too Many Requests' },
          429,
          seconds > 0 ? { 'Retry-After': String(seconds) } : {},
        );
      },
      server_error: (c, status) =>
        new Response(JSON.stringify({ success: false, code: 'server_error', message: 'Internal Server Error' }), {
          status,
          headers: { 'content-type': 'application/json' },
        }),
    },
  });
  const credentials = {
    writeKey: derive(seed, 'writeKey').slice(0, 32),
    profilesToken: derive(seed, 'profilesToken'),
    spaceId: `spa_${derive(seed, 'space').slice(0, 22)}`,
    publicApiToken: `sgp_${derive(seed, 'publicApiToken').slice(0, 40)}`,
    sourceId: derive(seed, 'source').slice(0, 22),
  };
  const persist = options.statePath !== undefined;
  const app = createSegmentApp({
    workspace,
    ...credentials,
    ...(options.refuseWrongWriteKey ? { refuseWrongWriteKey: true } : {}),
    limits,
    recorder,
    faults,
    ...(persist ? { afterWrite: () => workspace.save() } : {}),
  });
  const served = await serveSandbox(app, options.port === undefined ? {} : { port: options.port });
  return {
    url: served.url,
    credentials,
    workspace,
    limits,
    recorder,
    faults,
    advance: (ms) => {
      offset += ms;
    },
    close: async () => {
      await served.close();
      if (persist) workspace.save();
    },
  };
}

/**
 * The destination config that points the connector at a running sandbox.
 *
 * @example
 * const config = sandboxConfig(sandbox); // { writeKey, host, profilesUrl, spaceId, profilesToken, publicApiUrl, … }
 */
export function sandboxConfig(sandbox: Pick<SegmentSandbox, 'url' | 'credentials'>): {
  writeKey: string;
  host: string;
  profilesUrl: string;
  spaceId: string;
  profilesToken: string;
  publicApiUrl: string;
  publicApiToken: string;
  sourceId: string;
} {
  return {
    writeKey: sandbox.credentials.writeKey,
    host: sandbox.url,
    profilesUrl: sandbox.url,
    spaceId: sandbox.credentials.spaceId,
    profilesToken: sandbox.credentials.profilesToken,
    publicApiUrl: sandbox.url,
    publicApiToken: sandbox.credentials.publicApiToken,
    sourceId: sandbox.credentials.sourceId,
  };
}

function derive(seed: string, what: string): string {
  return createHash('sha256').update(`segment-sandbox:${seed}:${what}`).digest('hex');
}
