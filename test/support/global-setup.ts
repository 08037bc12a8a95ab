/**
 * Under `npm test` (SEGFLOW_INSTALL_CHROMIUM=1) first makes sure Chromium is there for the browser tests. Then gives
 * the test run its own empty temp folder (TMPDIR, inherited by the test workers and every process they start)
 * and fails the run if anything is left in it at the end; the folder is removed either way.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installChromiumIfMissing } from './chromium.js';

/** Caches of the tools the tests run (tsx's transform cache), not files a test made: removed with the folder. */
const TOOL_CACHES = /^tsx-\d+$/;

export function leftovers(root: string): string[] {
  return readdirSync(root)
    .filter((name) => !TOOL_CACHES.test(name))
    .sort();
}

export default function setup(): () => void {
  if (process.env.SEGFLOW_INSTALL_CHROMIUM === '1') installChromiumIfMissing();
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'segflow-test-run-'));
  process.env.TMPDIR = root;
  return () => {
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
