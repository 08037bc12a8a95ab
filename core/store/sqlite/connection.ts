import Database from 'better-sqlite3';
import type { Connection } from '../dialect.js';

/** How long a writer waits for another process's write lock before failing. */
export const BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens a SQLite file as a segflow connection: WAL (readers never block the writer, and a second process may open the
 * same file), foreign keys enforced, synchronous=NORMAL (durable across process crashes; a power loss may lose the
 * last commits but never corrupts), and a busy timeout so two processes queue instead of failing.
 */
export function openSqliteConnection(path: string): Connection {
  const db = new Database(path);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -65536');
  return db as unknown as Connection;
}
