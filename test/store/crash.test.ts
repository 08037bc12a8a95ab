import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPage, openStore, readCheckpoint, storeDigest, type Store } from '../../core/index.js';
import { engines, sqlite, type StoreLocation } from '../support/engines.js';
import { seeded } from './fixtures.js';
import { CONNECTION, PAGES, STREAM, checkpointAfter, generatedPage, nextPage } from './generated-source.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const NOW = new Date('2026-06-01T00:00:00Z');
/** Random kill moments per engine: 8 by default (SEGFLOW_CRASH_MOMENTS=20 for a longer run). */
const MOMENTS = Number(process.env.SEGFLOW_CRASH_MOMENTS ?? 8);

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
 * committed), or `delayMs` after it commits page `afterPage` (so the moment does not depend on the engine's or the
 * machine's speed). Resolves with the signal it died of (null if it finished first).
 */
function runChild(
  file: string,
  kill: { pauseAt: number } | { afterPage: number; delayMs: number },
): Promise<NodeJS.Signals | null> {
  const args = ['--import', 'tsx', CHILD, file, ...('pauseAt' in kill ? [String(kill.pauseAt)] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if ('pauseAt' in kill && out.includes(`written ${kill.pauseAt}\n`)) child.kill('SIGKILL');
      if ('delayMs' in kill && !armed && out.includes(`committed ${kill.afterPage}\n`)) {
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

/** digestAfter[k]: the digest of an uninterrupted load of the first k pages (on SQLite: the digest is engine-neutral). */
const digestAfter: string[] = [];
const places: StoreLocation[] = [];

beforeAll(async () => {
  const reference = await sqlite.open();
  try {
    const store = reference.store;
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
  } finally {
    await reference.close();
  }
});
afterAll(async () => {
  for (const place of places.splice(0)) await place.remove();
});

it('the generated source holds re-reads, merges and events for unknown people', () => {
  expect(new Set(digestAfter).size).toBe(PAGES + 1);
});

for (const engine of engines)
  describe(`a crash at any point loses and duplicates nothing, on ${engine.name}`, () => {
    async function freshStore(): Promise<string> {
      const place = await engine.fresh();
      places.push(place);
      return place.location;
    }

    /** Opens the killed store, checks it holds exactly its committed pages, resumes it, and checks the final content. */
    async function checkAndResume(file: string): Promise<number> {
      const store = await openStore(file);
      try {
        if (engine.name === 'sqlite')
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

    it('killed after page 7 is written and before its commit, holds pages 0-6 and resumes to the full load', async () => {
      const file = await freshStore();
      expect(await runChild(file, { pauseAt: 7 })).toBe('SIGKILL');
      expect(await checkAndResume(file)).toBe(7);
    });

    it(
      `killed at ${MOMENTS} seeded random moments, each store holds its committed pages and resumes to the full load`,
      { timeout: 300_000 },
      async () => {
        const random = seeded(20261123);
        const moments = Array.from({ length: MOMENTS }, () => ({
          afterPage: Math.floor(random() * (PAGES - 1)),
          delayMs: Math.floor(random() * 100),
        }));
        const resumedFrom: number[] = [];
        // Two loaders at a time: the kills are what matter, not the machine's spare cores.
        for (let run = 0; run < moments.length; run += 2) {
          const files = [await freshStore(), await freshStore()];
          await Promise.all(files.map((file, i) => runChild(file, moments[run + i] ?? { afterPage: 0, delayMs: 0 })));
          for (const file of files) resumedFrom.push(await checkAndResume(file));
        }
        // The kills landed at different pages (not all before the first page or after the last).
        expect(new Set(resumedFrom).size).toBeGreaterThan(3);
      },
    );
  });
