/**
 * Starts a sandbox org on 127.0.0.1: renders the world, listens, and (given a state path) persists every row the
 * API wrote so a restarted sandbox finds the org as it was left.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  createSandboxState,
  createWorld,
  parseSalesforceId,
  salesforceId,
  serveSandbox,
  type FaultPlan,
  type Faults,
  type RateLimiter,
  type Recorder,
  type World,
} from '../../../plugins/sandbox/index.js';
import { createApp } from './app.js';
import { Org, type OrgLimits, type Row } from './org.js';
import { renderWorld, type RenderCounts } from './render.js';
import type { OrgCredentials } from './routes/oauth.js';
import { salesforceTraffic } from './traffic.js';

/**
 * Options of {@link startSandbox}.
 *
 * @example
 * await startSandbox({ seed: 'limit', people: 200, limits: { dailyRequests: 10_000 } });
 */
export interface SandboxOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  seed?: string | number;
  /** People in the world (when no `world` is given). Default 1,000. */
  people?: number;
  /** A world shared with other sandboxes; overrides seed and people. */
  world?: World;
  /** File to persist written rows to (JSON); loaded on start when it exists. */
  statePath?: string;
  limits?: Partial<OrgLimits>;
  /** Faults to start with (switch them later with `sandbox.faults`). */
  faults?: FaultPlan;
  /** The org's clock; defaults to the world clock advancing with real time. */
  clock?: () => number;
  /**
   * The JWT `aud` the org accepts: https://login.salesforce.com (a production org, the default) or
   * https://test.salesforce.com (a sandbox org).
   */
  jwtAudience?: string;
}

/**
 * A running Salesforce sandbox org.
 *
 * @example
 * sandbox.faults.storm(1, 'server_error'); // the next API call answers 503 SERVER_UNAVAILABLE
 * sandbox.org.faults.lockRows = 2; // the next two rows written answer UNABLE_TO_LOCK_ROW
 */
export interface SalesforceSandbox {
  /** Base URL: both the login URL and the instance URL. */
  url: string;
  /** clientId, clientSecret, username, password, privateKey (PEM, for the JWT flow), accessToken, organizationId. */
  credentials: Record<string, string>;
  org: Org;
  world: World;
  counts: RenderCounts;
  /** The raw requests received, in order, refused ones included. */
  recorder: Recorder;
  faults: Faults;
  /** The daily API request allocation. */
  limiter: RateLimiter;
  /** Ends every session now: the next API call answers 401 INVALID_SESSION_ID. */
  expireSessions(): void;
  close(): Promise<void>;
}

let keyPair: { publicKey: string; privateKey: string } | undefined;

/** The RSA key pair of the JWT bearer flow, made once per process on first use. */
function jwtKeys(): { publicKey: string; privateKey: string } {
  keyPair ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return keyPair;
}

/**
 * Starts a sandbox org.
 *
 * @example
 * const sandbox = await startSandbox({ seed: 7, people: 2_000 });
 * const conn = new Connection({ instanceUrl: sandbox.url, accessToken: sandbox.credentials.accessToken, version: '62.0' });
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<SalesforceSandbox> {
  const world = options.world ?? createWorld({ seed: options.seed ?? 1, people: options.people ?? 1_000 });
  const started = Date.now();
  const clock = options.clock ?? (() => world.now + (Date.now() - started));
  const org = new Org(salesforceId('00D', 1), clock, options.limits);
  const counts = renderWorld(org, world);
  const credentials: OrgCredentials = {
    clientId: '3MVG9sandbox.segflow.consumer.key',
    clientSecret: 'sandbox-consumer-secret',
    username: 'admin@segflow-sandbox.example',
    password: 'sandbox-passwordSECURITYTOKEN',
    get jwtPublicKey() {
      return jwtKeys().publicKey;
    },
    jwtAudience: options.jwtAudience ?? 'https://login.salesforce.com',
    accessToken: `00D!sandbox-${String(options.seed ?? world.seed)}-token`,
    userId: salesforceId('005', 1),
  };
  const state = createSandboxState<PersistedState>(options.statePath, {
    autosave: false,
    delayMs: 50,
    snapshot: () => ({ rows: writtenRows(org) }),
  });
  restore(org, state.all());
  const sessions = new Set<string>([credentials.accessToken]);
  const traffic = salesforceTraffic({
    limits: org.limits,
    sessions,
    now: clock,
    seed: options.seed ?? world.seed,
    ...(options.faults ? { faults: options.faults } : {}),
  });
  let url = '';
  const app = createApp({ org, credentials, sessions, traffic, baseUrl: () => url });
  const fetch = async (request: Request): Promise<Response> => {
    const response = await app.fetch(request);
    if (org.dirty.size > 0) state.saveSoon();
    return response;
  };
  const served = await serveSandbox({ fetch }, options.port === undefined ? {} : { port: options.port });
  url = served.url;
  const sandboxCredentials: Record<string, string> = {
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    username: credentials.username,
    password: credentials.password,
    accessToken: credentials.accessToken,
    organizationId: org.organizationId,
  };
  // The JWT flow's key pair costs a second of CPU: it is made when a test first asks for it, not by every sandbox.
  Object.defineProperty(sandboxCredentials, 'privateKey', { get: () => jwtKeys().privateKey, enumerable: false });
  return {
    url,
    credentials: sandboxCredentials,
    org,
    world,
    counts,
    ...traffic,
    expireSessions: () => sessions.clear(),
    close: async () => {
      state.flush();
      await served.close();
    },
  };
}

interface PersistedState extends Record<string, unknown> {
  rows: { type: string; row: Row }[];
}

/** The rows the API or a test wrote, which the state file keeps. */
function writtenRows(org: Org): PersistedState['rows'] {
  const rows: PersistedState['rows'] = [];
  for (const [type, id] of org.dirty.values()) {
    const row = org.tables.get(type)?.get(id);
    if (row) rows.push({ type, row });
  }
  return rows;
}

function restore(org: Org, state: Partial<PersistedState>): void {
  for (const { type, row } of state.rows ?? []) {
    org.put(type, row);
    org.dirty.set(`${type}:${String(row.Id)}`, [type, String(row.Id)]);
    const parsed = parseSalesforceId(String(row.Id));
    if (parsed) org.reserve(type, parsed.n);
  }
}

/**
 * The connector config that points at a running sandbox, logging in with the OAuth password flow by default.
 *
 * @example
 * const config = sandboxConfig(await startSandbox({ seed: 1 }));
 */
export function sandboxConfig(
  sandbox: SalesforceSandbox,
  auth: 'password' | 'jwt' | 'token' = 'password',
): Record<string, unknown> {
  const c = sandbox.credentials;
  const base = { loginUrl: sandbox.url, organizationId: c.organizationId };
  if (auth === 'token') return { ...base, instanceUrl: sandbox.url, accessToken: c.accessToken };
  if (auth === 'jwt') return { ...base, clientId: c.clientId, username: c.username, privateKey: c.privateKey };
  return { ...base, clientId: c.clientId, clientSecret: c.clientSecret, username: c.username, password: c.password };
}
