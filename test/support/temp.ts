/**
 * The one way tests make temporary folders: `tempDir(prefix)` makes one under the run's temp folder and removes it
 * after the last test of the file that made it (an afterAll registered when a test file imports this module). The run
 * itself fails if anything is left in its temp folder (test/support/global-setup.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made = new Set<string>();

/** Removes every folder `tempDir` made so far in this file. */
export function removeTempDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  made.clear();
}

try {
  afterAll(removeTempDirs);
} catch {
  // Imported by a child process a test starts (outside vitest): the run's leftover check still covers its folders.
}

/** A fresh empty folder, removed after the file's last test. */
export function tempDir(prefix = 'segflow-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}
