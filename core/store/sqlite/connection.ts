import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunResult, SqlValue } from '../dialect.js';
import type { Driver, DriverConnection } from '../driver.js';
import { isBusy, StoreLockedError, writeLockHolder } from './busy.js';

/** How long a writer waits in all for another connection's write lock before failing with `StoreLockedError`. */
export const BUSY_TIMEOUT_MS = 10_000;

/**
 * How long one attempt lets SQLite's own busy handler wait, blocking the thread, before the engine gives the event
 * loop back and tries again later: a lock held for a moment is taken at once, a lock held for long costs the event
 * loop a few milliseconds per attempt.
 */
export const BUSY_ATTEMPT_MS = 5;

/** The longest pause between two attempts (they start 1 ms apart and double). */
const MAX_BACKOFF_MS = 50;

/** Options of `openSqliteDriver`. */
export interface SqliteDriverOptions {
  /** How long a writer waits in all for another connection's write lock (default {@link BUSY_TIMEOUT_MS}). */
  busyTimeoutMs?: number;
}

/** The subset of a better-sqlite3 prepared statement that segflow uses. */
interface SqliteStatement {
  run(...params: SqlValue[]): RunResult;
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
  iterate(...params: SqlValue[]): IterableIterator<unknown>;
}

/** The subset of a better-sqlite3 database that segflow uses (declared here so the driver is not a type dependency). */
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
  readonly inTransaction: boolean;
}

/**
 * Opens a SQLite file as a segflow driver: WAL (readers never block the writer, and a second process may open the
 * same file), foreign keys enforced, synchronous=NORMAL (durable across process crashes; a power loss may lose the
 * last commits but never corrupts), and writers that queue for another connection's write lock instead of failing.
 *
 * That wait is asynchronous: better-sqlite3 would otherwise sleep in SQLite's busy handler for the whole busy timeout,
 * and the process (`segflow serve`: its HTTP server, real-time flushes, timers) would stall with it. So SQLite's own
 * busy timeout is a few milliseconds ({@link BUSY_ATTEMPT_MS}), and a write transaction's `BEGIN IMMEDIATE`, a
 * statement outside a transaction, and the first statement of a deferred transaction are tried again on timers with
 * a growing pause, for up to `busyTimeoutMs` in all, before failing with a `StoreLockedError` that names the store
 * and what holds its lock. A script (`exec`: DDL, pragmas) outside a transaction, and opening, keep SQLite's blocking
 * wait for as long.
 *
 * SQLite has one connection per store: anything run on it while a transaction is open is inside that transaction, so
 * the driver hands the connection to one holder at a time (a statement, a transaction or a stream), in arrival order.
 * Statements run synchronously and are prepared once per SQL text.
 */
export function openSqliteDriver(path: string, options: SqliteDriverOptions = {}): Driver {
  const patience = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  // Opening waits for an exclusive lock to go, blocking (nothing runs on the connection yet) for up to `patience`: the
  // last connection to close a store holds one while it copies the log into the file, seconds for a big log.
  let opened: Database.Database;
  try {
    opened = new Database(path, { timeout: Math.ceil(patience) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const fix = 'check that its folder exists and is writable';
    throw new Error(`cannot open the store ${path}: ${reason}; ${fix}`, { cause: error });
  }
  try {
    opened.pragma('journal_mode = WAL');
  } catch (error) {
    opened.close();
    throw isBusy(error) ? new StoreLockedError(path, patience, writeLockHolder(path), { cause: error }) : error;
  }
  opened.pragma('synchronous = NORMAL');
  opened.pragma('foreign_keys = ON');
  opened.pragma('temp_store = MEMORY');
  opened.pragma('cache_size = -65536');
  // A checkpoint once the WAL holds about 1 GiB instead of SQLite's 4 MiB: with the default, a load's every commit was
  // checkpointed at once, writing each page it changed twice; now a page many commits change is written to the database
  // once per checkpoint (pages of 20,000 records at 100,000 contacts: 3.1 GiB written instead of 5.4).
  opened.pragma('wal_autocheckpoint = 262144');
  // …and the log file does not keep that size on disk: the first write after a checkpoint truncates it to 64 MiB.
  opened.pragma('journal_size_limit = 67108864');
  opened.pragma(`busy_timeout = ${BUSY_ATTEMPT_MS}`);
  const db = opened as unknown as SqliteDatabase;
  /**
   * True between BEGIN DEFERRED and its first statement: the transaction holds no snapshot yet, so a busy first
   * statement may be tried again (later in a transaction SQLite's own busy handler gives up at once, and so do we).
   */
  let fresh = false;

  /** Tries `attempt` again on timers while another connection holds the lock, for up to `patience` in all. */
  async function waitForLock<T>(attempt: () => T, busy: unknown): Promise<T> {
    const started = performance.now();
    let pause = 1;
    let last = busy;
    while (performance.now() - started < patience) {
      await sleep(pause);
      pause = Math.min(pause * 2, MAX_BACKOFF_MS);
      try {
        return attempt();
      } catch (error) {
        if (!isBusy(error)) throw error;
        last = error;
      }
    }
    throw new StoreLockedError(path, patience, writeLockHolder(path), { cause: last });
  }

  /** Runs a statement at once when it can, and waits for another connection's lock (off the event loop) when not. */
  function patiently<T>(statement: () => T): T | Promise<T> {
    const retryable = !db.inTransaction || fresh;
    try {
      const result = statement();
      fresh = false;
      return result;
    } catch (error) {
      if (!retryable || !isBusy(error)) throw error;
      // SQLite may have cancelled the deferred transaction along with its busy statement: begin it again.
      const again = fresh
        ? () => {
            if (!db.inTransaction) db.exec('BEGIN DEFERRED');
            return statement();
          }
        : statement;
      return waitForLock(again, error).then((result) => {
        fresh = false;
        return result;
      });
    }
  }

  /**
   * A script is not tried again (that could repeat the statements before the busy one): outside a transaction it waits
   * in SQLite's busy handler, as before; inside one it needs no lock the transaction does not hold or take at once.
   */
  function execScript(sql: string): void {
    if (db.inTransaction) {
      db.exec(sql);
      return;
    }
    db.exec(`PRAGMA busy_timeout = ${patience}`);
    try {
      db.exec(sql);
    } finally {
      db.exec(`PRAGMA busy_timeout = ${BUSY_ATTEMPT_MS}`);
    }
  }

  const statements = new Map<string, SqliteStatement>();
  const prepared = (sql: string): SqliteStatement => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const connection: DriverConnection = {
    all: (sql, params) => patiently(() => prepared(sql).all(...params)),
    get: (sql, params) => patiently(() => prepared(sql).get(...params)),
    run: (sql, params) => patiently(() => prepared(sql).run(...params)),
    exec: (sql) => {
      fresh = false;
      execScript(sql);
    },
    async *batches(sql, params, size) {
      let batch: unknown[] = [];
      for (const row of prepared(sql).iterate(...params)) {
        batch.push(row);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
  let held = false;
  let closed = false;
  const waiting: (() => void)[] = [];
  const driver: Driver = {
    acquire() {
      if (closed) throw new Error('the store is closed');
      if (!held) {
        held = true;
        return connection;
      }
      return new Promise((resolve) => waiting.push(() => resolve(connection)));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else held = false;
    },
    // IMMEDIATE takes the write lock up front, so two processes queue for it instead of deadlocking.
    begin: (_, options) => {
      if (options.deferred) {
        db.exec('BEGIN DEFERRED');
        fresh = true;
        return;
      }
      const begin = () => db.exec('BEGIN IMMEDIATE');
      try {
        begin();
      } catch (error) {
        if (!isBusy(error)) throw error;
        return waitForLock(begin, error);
      }
    },
    commit: () => {
      fresh = false;
      db.exec('COMMIT');
    },
    rollback: () => {
      fresh = false;
      if (db.inTransaction) db.exec('ROLLBACK');
    },
    async close() {
      if (closed) return;
      await driver.acquire();
      closed = true;
      statements.clear();
      db.close();
      for (const next of waiting.splice(0)) next();
    },
  };
  return driver;
}
