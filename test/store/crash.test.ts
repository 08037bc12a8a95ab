import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPage, openStore, readCheckpoint, storeDigest, type Store } from '../../core/index.js';
import { engines, sqlite, type StoreLocation } from '../support/engines.js';
import { seeded } from './fixtures.js';
import { CONNECTION, PAGES, STREAM, checkpointAfter, generatedPage, nextPage } from './generated-source.js';
import { countingStatements, killPointArg, resumesFrom, type KillPoint } from './kill-points.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const NOW = new Date('2026-06-01T00:00:00Z');
/** Seeded kill points per engine: 8 by default (SEGFLOW_CRASH_MOMENTS=20 for a longer run). */
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
 * Runs the loader in a child process that stops at `point` and SIGKILLs it there: the point is counted in pages and
 * statements (kill-points.ts), so the kill lands at the same place whatever the engine's or the machine's speed.
 * Resolves with where the child said it stopped (`7:12`, `7:commit`, `7:committed`).
 */
function runChild(file: string, point: KillPoint): Promise<string> {
  const args = ['--import', 'tsx', CHILD, file, killPointArg(point)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let stoppedAt: string | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const stopped = /^stopped (\S+)$/m.exec(out);
      if (stopped && stoppedAt === undefined) {
        stoppedAt = stopped[1];
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && stoppedAt !== undefined) resolve(stoppedAt);
      else
        reject(
          new Error(`loader ${signal ?? `exited ${code}`} before stopping at ${killPointArg(point)}: ${out}${err}`),
        );
    });
  });
}

/** digestAfter[k]: the digest of an uninterrupted load of the first k pages (on SQLite: the digest is engine-neutral). */
const digestAfter: string[] = [];
/** statementsIn[k]: how many statements page k's transaction runs, so a seeded kill point can fall anywhere in it. */
const statementsIn: number[] = [];
const places: StoreLocation[] = [];

beforeAll(async () => {
  const reference = await sqlite.open();
  try {
    const store = reference.store;
    digestAfter.push(await storeDigest(store));
    for (let page = 0; page < PAGES; page++) {
      await loadPage(
        countingStatements(store, (n) => {
          statementsIn[page] = n;
        }),
        {
          connection: CONNECTION,
          stream: STREAM,
          records: generatedPage(page),
          checkpoint: checkpointAfter(page),
          now: NOW,
        },
      );
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
      expect(await runChild(file, { page: 7, at: 'commit' })).toBe('7:commit');
      expect(await checkAndResume(file)).toBe(7);
    });

    it(
      `killed at ${MOMENTS} seeded points (mid-transaction, before a commit, between commits), each store holds its committed pages and resumes to the full load`,
      { timeout: 300_000 },
      async () => {
        const random = seeded(20261123);
        const points = Array.from({ length: MOMENTS }, (): KillPoint => {
          const page = Math.floor(random() * PAGES);
          const roll = random();
          const statement = 1 + Math.floor(random() * Math.max(1, (statementsIn[page] ?? 1) - 1));
          return { page, at: roll < 0.5 ? statement : roll < 0.75 ? 'commit' : 'committed' };
        });
        const stops: string[] = [];
        const resumedFrom: number[] = [];
        // Two loaders at a time: the kills are what matter, not the machine's spare cores.
        for (let run = 0; run < points.length; run += 2) {
          const pair = points.slice(run, run + 2);
          const files = await Promise.all(pair.map(() => freshStore()));
          stops.push(...(await Promise.all(files.map((file, i) => runChild(file, pair[i]!)))));
          for (const [i, file] of files.entries()) {
            const next = await checkAndResume(file);
            expect(next, `killed at ${killPointArg(pair[i]!)}`).toBe(resumesFrom(pair[i]!));
            resumedFrom.push(next);
          }
        }
        // The kills landed at different pages (not all before the first page or after the last), and some inside a
        // transaction with writes still to come.
        expect(new Set(resumedFrom).size).toBeGreaterThan(3);
        expect(stops.filter((stop) => /:\d+$/.test(stop)).length).toBeGreaterThan(0);
      },
    );
  });
