/**
 * Under `npm test` (SEGFLOW_INSTALL_CHROMIUM=1) first makes sure Chromium is there for the browser tests. Starts the
 * PostgreSQL server the tests share, unless SEGFLOW_TEST_DATABASE_URL names one (see postgres.ts), and exports its URL
 * in that variable. Then gives the test run its own empty temp folder (TMPDIR, inherited by the test workers and every
 * process they start) and fails the run if anything is left in it at the end; the folder is removed either way.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installChromiumIfMissing } from './chromium.js';
import {
  createTemplateDatabase,
  startPostgres,
  TEST_DATABASE_URL,
  TEST_TEMPLATE_DATABASE,
  type PostgresServer,
} from './postgres.js';

/** Caches of the tools the tests run (tsx's transform cache), not files a test made: removed with the folder. */
const TOOL_CACHES = /^tsx-\d+$/;

export function leftovers(root: string): string[] {
  return readdirSync(root)
    .filter((name) => !TOOL_CACHES.test(name))
    .sort();
}

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.SEGFLOW_INSTALL_CHROMIUM === '1') installChromiumIfMissing();
  // Started before TMPDIR moves: the server's folder is not a file a test made.
  let postgres: PostgresServer | undefined;
  if (!process.env[TEST_DATABASE_URL]) {
    postgres = await startPostgres();
    process.env[TEST_DATABASE_URL] = postgres.url;
  }
  const template = await createTemplateDatabase(process.env[TEST_DATABASE_URL] as string).catch(
    async (error: unknown) => {
      await postgres?.stop();
      throw error;
    },
  );
  process.env[TEST_TEMPLATE_DATABASE] = template.name;
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'segflow-test-run-'));
  process.env.TMPDIR = root;
  return async () => {
    await template.drop();
    delete process.env[TEST_TEMPLATE_DATABASE];
    if (postgres) {
      await postgres.stop();
      delete process.env[TEST_DATABASE_URL];
    }
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const left = leftovers(root);
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    if (left.length > 0) {
      // vitest reports an error thrown here but still exits 0: set the exit code as well.
      process.exitCode = 1;
      throw new Error(
        `the tests left ${left.length} file(s) in the temp folder (make them with tempDir() from test/support/temp.ts): ${left.join(', ')}`,
      );
    }
  };
}
