/**
 * Starts a sandbox org on 127.0.0.1: renders the world, listens, and (given a state path) persists every row the
 * API wrote so a restarted sandbox finds the org as it was left.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createWorld, parseSalesforceId, salesforceId, type World } from '../../../plugins/sandbox/index.js';
import { createApp, type OrgCredentials, type RecordedRequest } from './app.js';
import { Org, type OrgFaults, type OrgLimits, type Row } from './org.js';
import { renderWorld, type RenderCounts } from './render.js';

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
  faults?: Partial<OrgFaults>;
  /** The org's clock; defaults to the world clock advancing with real time. */
  clock?: () => number;
  /**
   * The JWT `aud` the org accepts: https://login.salesforce.com (a production org, the default) or
   * https://test.salesforce.com (a sandbox org).
   */
  jwtAudience?: string;
}

export interface SalesforceSandbox {
  /** Base URL: both the login URL and the instance URL. */
  url: string;
  /** clientId, clientSecret, username, password, privateKey (PEM, for the JWT flow), accessToken, organizationId. */
  credentials: Record<string, string>;
  org: Org;
  world: World;
  counts: RenderCounts;
  /** The raw requests received, in order. */
  recorder: { requests: RecordedRequest[]; clear(): void };
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
  Object.assign(org.faults, options.faults);
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
  if (options.statePath) load(org, options.statePath);
  let url = '';
  const { app, requests, expireSessions } = createApp(org, credentials, () => url);
  let pending: NodeJS.Timeout | undefined;
  const fetch = async (request: Request): Promise<Response> => {
    const response = await app.fetch(request);
    const path = options.statePath;
    if (path && org.dirty.size > 0 && !pending) {
      pending = setTimeout(() => {
        pending = undefined;
        save(org, path);
      }, 50);
    }
    return response;
  };
  const server = serve({ fetch, port: options.port ?? 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    recorder: { requests, clear: () => void requests.splice(0) },
    expireSessions,
    close: async () => {
      if (pending) clearTimeout(pending);
      if (options.statePath && org.dirty.size > 0) save(org, options.statePath);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface PersistedState {
  rows: { type: string; row: Row }[];
}

function save(org: Org, path: string): void {
  const rows: PersistedState['rows'] = [];
  for (const [type, id] of org.dirty.values()) {
    const row = org.tables.get(type)?.get(id);
    if (row) rows.push({ type, row });
  }
  writeFileSync(path, JSON.stringify({ rows } satisfies PersistedState));
}

function load(org: Org, path: string): void {
  if (!existsSync(path)) return;
  const state = JSON.parse(readFileSync(path, 'utf8')) as PersistedState;
  for (const { type, row } of state.rows) {
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
