/**
 * A SQLite writer waits for another process's write lock without stalling its own process: while it waits, the event
 * loop keeps running (so `segflow serve` keeps answering and flushing), the write goes through once the lock is
 * released, and a lock held past the writer's patience fails with an error naming the store and who holds it.
 * SQLite only: PostgreSQL's driver is asynchronous and waits in the server, never in the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore, openStore, sqliteDialect, type Store } from '../../core/index.js';
import { openSqliteDriver } from '../../core/store/sqlite/index.js';
import { sqlite } from '../support/engines.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Another process: opens the file with better-sqlite3, takes the write lock with a row written, commits on "release". */
const HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.env.SEGFLOW_TEST_STORE);
db.exec('BEGIN IMMEDIATE');
db.prepare('INSERT INTO notes (n) VALUES (0)').run();
process.stdout.write('locked\\n');
process.stdin.on('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });
`;

/**
 * Another process holding the whole file, as the last connection to close a store does while it copies the log into
 * it: SQLite's exclusive locking mode, with a row written; it closes on "release".
 */
const CLOSER = `
const Database = require('better-sqlite3');
const db = new Database(process.env.SEGFLOW_TEST_STORE);
db.pragma('locking_mode = EXCLUSIVE');
db.exec('BEGIN EXCLUSIVE');
db.prepare('INSERT INTO notes (n) VALUES (0)').run();
db.exec('COMMIT');
process.stdout.write('locked\\n');
process.stdin.on('data', () => { db.close(); process.exit(0); });
`;

interface Holder {
  pid: number;
  /** Lets go of the lock (the holder commits, or closes) and waits for it to exit. */
  release(): Promise<void>;
}

const holders: ChildProcess[] = [];
const stores: Store[] = [];
const places: { remove(): Promise<void> }[] = [];
afterEach(async () => {
  for (const child of holders.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const store of stores.splice(0)) await store.close();
  for (const place of places.splice(0)) await place.remove();
});

function holdWriteLock(file: string, script = HOLDER): Promise<Holder> {
  const child = spawn(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, SEGFLOW_TEST_STORE: file },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  holders.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the lock holder exited ${code} before locking: ${err}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('locked')) return;
      resolve({
        pid: child.pid!,
        release: async () => {
          child.stdin.write('release\n');
          await exited;
        },
      });
    });
  });
}

/** A store file with a `notes` table. */
async function notesFile(): Promise<string> {
  const place = await sqlite.fresh();
  places.push(place);
  const setup = await openStore(place.location, { migrations: [] });
  await setup.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
  await setup.close();
  return place.location;
}

/** A store on `file` (with `busyTimeoutMs` when given). */
function storeOn(file: string, busyTimeoutMs?: number): Store | Promise<Store> {
  return busyTimeoutMs === undefined
    ? openStore(file, { migrations: [] })
    : createStore(file, openSqliteDriver(file, { busyTimeoutMs }), sqliteDialect);
}

/** A store file with a `notes` table, and a store on it (with `busyTimeoutMs` when given). */
async function notesStore(busyTimeoutMs?: number): Promise<{ file: string; store: Store }> {
  const file = await notesFile();
  const store = await storeOn(file, busyTimeoutMs);
  stores.push(store);
  return { file, store };
}

const notes = async (store: Store): Promise<number[]> =>
  ((await store.all('SELECT n FROM notes ORDER BY id')) as { n: number }[]).map((r) => r.n);

/** Ticks of a 10 ms interval the waiting process runs before the holder releases the lock (about a second). */
const TICKS_HELD = 100;

describe('a SQLite writer waiting for another process’s write lock', () => {
  for (const [how, write] of [
    ['a transaction', (s: Store) => s.transaction((tx) => tx.run('INSERT INTO notes (n) VALUES (1)'))],
    ['a statement outside a transaction', (s: Store) => s.run('INSERT INTO notes (n) VALUES (1)')],
  ] as const)
    it(`keeps its event loop running, and writes once the lock is released (${how})`, async () => {
      const { file, store } = await notesStore();
      const holder = await holdWriteLock(file);
      let ticks = 0;
      let released: Promise<void> | undefined;
      // The lock is released only by the waiting process's own timer: were its event loop blocked in the wait, the
      // timer would never fire and the write would fail when its patience ran out.
      const timer = setInterval(() => {
        ticks += 1;
        if (ticks === TICKS_HELD) released = holder.release();
      }, 10);
      let ticksWhenWritten: number;
      try {
        await write(store);
        ticksWhenWritten = ticks;
      } finally {
        clearInterval(timer);
      }
      await released;
      expect(ticksWhenWritten).toBeGreaterThanOrEqual(TICKS_HELD);
      // The holder's row first: the write waited for its commit instead of failing or writing around it.
      expect(await notes(store)).toEqual([0, 1]);
    });

  it('fails with an error naming the store and the holder when the lock outlasts its patience', async () => {
    const { file, store } = await notesStore(300);
    const holder = await holdWriteLock(file);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 10);
    let failure: unknown;
    try {
      await store.transaction((tx) => tx.run('INSERT INTO notes (n) VALUES (1)'));
    } catch (error) {
      failure = error;
    } finally {
      clearInterval(timer);
    }
    expect(failure).toBeInstanceOf(Error);
    const error = failure as Error & { code?: string };
    expect(error.code).toBe('SQLITE_BUSY');
    // On Linux the holder is found in /proc/locks; elsewhere the error says who might hold it.
    const holderNamed = existsSync('/proc/locks') ? `process ${holder.pid} (` : 'another connection (';
    expect(error.message).toContain(`the store ${file} is locked: ${holderNamed}`);
    expect(error.message).toContain('has held its write lock for more than 300 ms');
    expect(ticks).toBeGreaterThan(0);
    // Nothing was written, and the store works again once the lock is gone.
    await holder.release();
    await store.run('INSERT INTO notes (n) VALUES (2)');
    expect(await notes(store)).toEqual([0, 2]);
  });

  it('opens a store another process holds whole once it lets go, and names the store when it outlasts the patience', async () => {
    const file = await notesFile();
    const closer = await holdWriteLock(file, CLOSER);
    // Opening waits in SQLite, blocking; with 300 ms of patience it fails with the store's error, not SQLite's bare
    // "database is locked" after better-sqlite3's own 5 s.
    let failure: unknown;
    try {
      stores.push(await storeOn(file, 300));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(Error);
    const error = failure as Error & { code?: string };
    expect(error.name).toBe('StoreLockedError');
    expect(error.code).toBe('SQLITE_BUSY');
    expect(error.message).toContain(`the store ${file} is locked: `);
    expect(error.message).toContain('for more than 300 ms; let it finish (or stop it), then try again');
    // Once the holder has closed, the store opens and holds its row.
    await closer.release();
    const store = await storeOn(file, 300);
    stores.push(store);
    expect(await notes(store)).toEqual([0]);
  });
});
