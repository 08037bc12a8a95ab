/**
 * Strong tokens and slow guessing: the server refuses to start with a short or shared token (naming the command that
 * makes a good one), failed console sign-ins from one address wait ever longer (logged once per burst) while other
 * addresses sign in, and the session cookie is `Secure` when the server is reached over https.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { command as serveCommand } from '../../../cli/commands/serve.js';
import { loadConfig, TOKEN_COMMAND, WeakTokenError, type Config } from '../../../config/index.js';
import { openStore, type Store } from '../../../core/index.js';
import type { Logger } from '../../../plugins/index.js';
import { createServer } from '../../../server/index.js';
import { SignInThrottle } from '../../../server/auth.js';
import { tempDir } from '../../support/temp.js';

const ADMIN = 'sign-in-admin-4e8a1c6f0b2d9e7a3c5b';
const READ = 'sign-in-read-9d2b7f4a1e6c3a8d0f5e';

let dir: string;
let config: Config;
let store: Store;
const logged: string[] = [];
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (m, f) => logged.push(`${m} ${JSON.stringify(f ?? {})}`),
  error: (m, f) => logged.push(`${m} ${JSON.stringify(f ?? {})}`),
};

beforeAll(async () => {
  dir = tempDir('segflow-sign-in-');
  const file = join(dir, 'segflow.yaml');
  writeFileSync(file, `store: { path: ${JSON.stringify(join(dir, 'segflow.db'))} }\n`);
  config = await loadConfig(file, { registry: builtinRegistry() });
  store = await openStore(config.store.path);
});
afterAll(async () => {
  await store.close();
});

function server(env: Record<string, string>, extra: { config?: Config; throttle?: SignInThrottle } = {}) {
  return createServer({
    config: extra.config ?? config,
    store,
    registry: builtinRegistry(),
    logger,
    env,
    startJob: () => Promise.resolve({ status: 'not started' }),
    ...(extra.throttle ? { signInThrottle: extra.throttle } : {}),
  });
}

function signIn(app: ReturnType<typeof createServer>, token: string, address = '203.0.113.7') {
  return app.request(
    '/session',
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) },
    { incoming: { socket: { remoteAddress: address } } },
  );
}

describe('tokens', () => {
  it.each([
    ['a one-character admin token', { SEGFLOW_ADMIN_TOKEN: 'a' }, 'SEGFLOW_ADMIN_TOKEN is 1 character long'],
    ['a 23-character read token', { SEGFLOW_READ_TOKEN: 'r'.repeat(23) }, 'SEGFLOW_READ_TOKEN is 23 characters long'],
    ['the same token twice', { SEGFLOW_ADMIN_TOKEN: ADMIN, SEGFLOW_READ_TOKEN: ADMIN }, 'hold the same token'],
  ])('%s: the server refuses to start, saying how to make a good one', (_, env, problem) => {
    let error: unknown;
    try {
      server(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WeakTokenError);
    expect((error as Error).message).toContain(problem);
    expect((error as Error).message).toContain(TOKEN_COMMAND);
    for (const token of Object.values(env).filter((t) => t.length > 8))
      expect((error as Error).message).not.toContain(token);
  });

  it('the command it names makes a token the server accepts', async () => {
    const { execFileSync } = await import('node:child_process');
    const token = execFileSync('sh', ['-c', TOKEN_COMMAND], { encoding: 'utf8' }).trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const app = server({ SEGFLOW_ADMIN_TOKEN: token, SEGFLOW_READ_TOKEN: READ });
    expect((await signIn(app, token)).status).toBe(201);
  });

  it('segflow serve with a weak token exits with a usage error before listening', async () => {
    const file = join(dir, 'serve.yaml');
    writeFileSync(file, `store: { path: ${JSON.stringify(join(dir, 'serve.db'))} }\n`);
    vi.stubEnv('SEGFLOW_ADMIN_TOKEN', 'a');
    let err = '';
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
    try {
      expect(await serveCommand.run([file, '--port', '0', '--no-scheduler'])).toBe(2);
    } finally {
      e.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(err).toContain('SEGFLOW_ADMIN_TOKEN is 1 character long: an API token needs at least 24');
    expect(err).toContain(TOKEN_COMMAND);
  });
});

describe('failed sign-ins', () => {
  it('wait ever longer per address, even with the right token, while other addresses sign in; one log line a burst', async () => {
    let now = 1_000_000;
    const throttle = new SignInThrottle({ clock: () => now });
    const app = server({ SEGFLOW_ADMIN_TOKEN: ADMIN, SEGFLOW_READ_TOKEN: READ }, { throttle });
    logged.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await signIn(app, `guess-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const waits: string[] = [];
    for (let i = 0; i < 4; i++) {
      expect((await signIn(app, `guess-more-${i}`)).status).toBe(401);
      const refused = await signIn(app, ADMIN);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_requests');
      waits.push(refused.headers.get('Retry-After') ?? '');
      now += Number(refused.headers.get('Retry-After')) * 1000;
    }
    expect(waits).toEqual(['1', '2', '4', '8']);
    expect((await signIn(app, READ, '198.51.100.9')).status).toBe(201);
    expect(logged.filter((l) => l.startsWith('console login refused'))).toHaveLength(1);
    expect(logged.join('\n')).not.toContain('guess');
    // the right token, once the wait is over, signs in and forgets the failures
    expect((await signIn(app, ADMIN)).status).toBe(201);
    expect((await signIn(app, 'guess-again')).status).toBe(401);
    expect((await signIn(app, ADMIN)).status).toBe(201);
  });

  it('an address quiet for fifteen minutes starts a new burst, logged again', async () => {
    let now = 0;
    const throttle = new SignInThrottle({ clock: () => now });
    const app = server({ SEGFLOW_ADMIN_TOKEN: ADMIN }, { throttle });
    logged.length = 0;
    for (let i = 0; i < 7; i++) await signIn(app, `guess-${i}`);
    expect((await signIn(app, ADMIN)).status).toBe(429);
    now += 16 * 60_000;
    expect((await signIn(app, 'guess-late')).status).toBe(401);
    expect((await signIn(app, ADMIN)).status).toBe(201);
    expect(logged.filter((l) => l.startsWith('console login refused'))).toHaveLength(2);
  });
});

describe('the session cookie', () => {
  it('is Secure when server.public_url is an https address, and not over plain http', async () => {
    const env = { SEGFLOW_ADMIN_TOKEN: ADMIN };
    const https = { ...config, server: { ...config.server, public_url: 'https://segflow.example.com' } };
    const behindProxy = await signIn(server(env, { config: https }), ADMIN);
    expect(behindProxy.status).toBe(201);
    expect(behindProxy.headers.get('Set-Cookie')).toMatch(/;\s*Secure/i);
    expect(behindProxy.headers.get('Set-Cookie')).toMatch(/HttpOnly/i);
    const plain = await signIn(server(env), ADMIN);
    expect(plain.headers.get('Set-Cookie')).not.toMatch(/Secure/i);
  });

  it('server.public_url must be an http or https address', async () => {
    const file = join(dir, 'bad-url.yaml');
    writeFileSync(file, `server: { public_url: "ftp://segflow.example.com" }\n`);
    await expect(loadConfig(file, { registry: builtinRegistry() })).rejects.toThrow(/bad-url\.yaml:1:\d+.*https:\/\//);
  });
});
