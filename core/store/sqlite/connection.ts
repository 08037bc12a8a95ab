import Database from 'better-sqlite3';
import type { RunResult, SqlValue } from '../dialect.js';
import type { Driver, DriverConnection } from '../driver.js';

/** How long a writer waits for another process's write lock before failing. */
export const BUSY_TIMEOUT_MS = 10_000;

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
 * last commits but never corrupts), and a busy timeout so two processes queue instead of failing.
 *
 * SQLite has one connection per store: anything run on it while a transaction is open is inside that transaction, so
 * the driver hands the connection to one holder at a time (a statement, a transaction or a stream), in arrival order.
 * Statements run synchronously and are prepared once per SQL text.
 */
export function openSqliteDriver(path: string): Driver {
  const opened = new Database(path);
  opened.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  opened.pragma('journal_mode = WAL');
  opened.pragma('synchronous = NORMAL');
  opened.pragma('foreign_keys = ON');
  opened.pragma('temp_store = MEMORY');
  opened.pragma('cache_size = -65536');
  const db = opened as unknown as SqliteDatabase;
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
    all: (sql, params) => prepared(sql).all(...params),
    get: (sql, params) => prepared(sql).get(...params),
    run: (sql, params) => prepared(sql).run(...params),
    exec: (sql) => db.exec(sql),
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
    // IMMEDIATE takes the write lock up front, so two processes queue on busy_timeout instead of deadlocking.
    begin: (_, options) => db.exec(options.deferred ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE'),
    commit: () => db.exec('COMMIT'),
    rollback: () => {
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
