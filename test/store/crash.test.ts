import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPage, openStore, readCheckpoint, storeDigest, type Store } from '../../core/index.js';
import { seeded, tempDir } from './fixtures.js';
import { CONNECTION, PAGES, STREAM, checkpointAfter, generatedPage, nextPage } from './generated-source.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const NOW = new Date('2026-06-01T00:00:00Z');

async function loadFrom(store: Store, first: number): Promise<void> {
  for (let page = first; page < PAGES; page++) {
    await loadPage(store, {
      connection: CONNECTION,
      stream: STREAM,
      records: generatedPage(page),
      checkpoint: checkpointAfter(page),
      now: NOW,
    });
  }
}

/**
 * Runs the loader in a child process and SIGKILLs it: when it prints `written <pauseAt>` (a page written, not yet
 * committed), or `delayMs` after it first commits. Resolves with the signal it died of (null if it finished first).
 */
function runChild(file: string, kill: { pauseAt: number } | { delayMs: number }): Promise<NodeJS.Signals | null> {
  const args = ['--import', 'tsx', CHILD, file, ...('pauseAt' in kill ? [String(kill.pauseAt)] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if ('pauseAt' in kill && out.includes(`written ${kill.pauseAt}\n`)) child.kill('SIGKILL');
      if ('delayMs' in kill && !armed && out.includes('committed ')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`loader exited ${code}: ${err}`));
      else resolve(signal);
    });
  });
}

describe('a crash at any point loses and duplicates nothing', () => {
  const { dir, cleanup } = tempDir();
  /** digestAfter[k]: the digest of an uninterrupted load of the first k pages. */
  const digestAfter: string[] = [];

  beforeAll(async () => {
    const store = await openStore(join(dir, 'reference.db'));
    digestAfter.push(await storeDigest(store));
    for (let page = 0; page < PAGES; page++) {
      await loadPage(store, {
        connection: CONNECTION,
        stream: STREAM,
        records: generatedPage(page),
        checkpoint: checkpointAfter(page),
        now: NOW,
      });
      digestAfter.push(await storeDigest(store));
    }
    await store.close();
  });
  afterAll(cleanup);

  /** Opens the killed store, checks it holds exactly its committed pages, resumes it, and checks the final content. */
  async function checkAndResume(file: string): Promise<number> {
    const store = await openStore(file);
    try {
      expect(await store.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
      const next = nextPage(await readCheckpoint(store, CONNECTION, STREAM));
      expect(await storeDigest(store)).toBe(digestAfter[next]);
      await loadFrom(store, next);
      expect(await storeDigest(store)).toBe(digestAfter[PAGES]);
      return next;
    } finally {
      await store.close();
    }
  }

  it('the generated source holds re-reads, merges and events for unknown people', () => {
    expect(new Set(digestAfter).size).toBe(PAGES + 1);
  });

  it('killed after page 7 is written and before its commit, holds pages 0-6 and resumes to the full load', async () => {
    const file = join(dir, 'paused.db');
    expect(await runChild(file, { pauseAt: 7 })).toBe('SIGKILL');
    expect(await checkAndResume(file)).toBe(7);
  });

  it(
    'killed at 20 seeded random moments, each store holds its committed pages and resumes to the full load',
    { timeout: 180_000 },
    async () => {
      const random = seeded(20261123);
      const delays = Array.from({ length: 20 }, () => Math.floor(random() * 300));
      const resumedFrom: number[] = [];
      // Two loaders at a time: the kills are what matter, not the machine's spare cores.
      for (let run = 0; run < delays.length; run += 2) {
        const files = [run, run + 1].map((r) => join(dir, `random-${r}.db`));
        await Promise.all(files.map((file, i) => runChild(file, { delayMs: delays[run + i] ?? 0 })));
        for (const file of files) resumedFrom.push(await checkAndResume(file));
      }
      // The kills landed at different pages (not all before the first page or after the last).
      expect(new Set(resumedFrom).size).toBeGreaterThan(3);
    },
  );
});
