/**
 * The SQLite engine (better-sqlite3): one file, WAL mode. The default store engine; a PostgreSQL engine would be a
 * sibling folder exporting the same two things.
 */
export { sqliteDialect } from './dialect.js';
export { openSqliteDriver, BUSY_ATTEMPT_MS, BUSY_TIMEOUT_MS, type SqliteDriverOptions } from './connection.js';
export { StoreLockedError, writeLockHolder } from './busy.js';
