import type { Connection, Dialect, Statement } from './dialect.js';

/**
 * An open store: a connection, its dialect, cached prepared statements and transactions. Every SQL statement in core/
 * goes through `statement()`, so each is prepared once per connection.
 *
 * @example
 * const store = openStore('segflow.db');
 * const n = store.statement('SELECT COUNT(*) AS n FROM contacts').get() as { n: number };
 * store.close();
 */
export interface Store {
  readonly path: string;
  readonly dialect: Dialect;
  readonly connection: Connection;
  /** A prepared statement, cached for the life of the store. */
  statement(sql: string): Statement;
  /** Runs `fn` in one write transaction (joins the current one when already inside), committing unless it throws. */
  transaction<T>(fn: () => T): T;
  /** Called after a transaction rolls back, so in-memory state derived from the store can be dropped. */
  onRollback(listener: () => void): void;
  close(): void;
}

/** Wraps a connection and its dialect as a Store. */
export function createStore(path: string, connection: Connection, dialect: Dialect): Store {
  const statements = new Map<string, Statement>();
  const rollbackListeners: (() => void)[] = [];
  return {
    path,
    dialect,
    connection,
    statement(sql) {
      let s = statements.get(sql);
      if (!s) {
        s = connection.prepare(sql);
        statements.set(sql, s);
      }
      return s;
    },
    transaction(fn) {
      if (connection.inTransaction) return fn();
      // IMMEDIATE takes the write lock up front, so two processes queue on busy_timeout instead of deadlocking.
      connection.exec('BEGIN IMMEDIATE');
      try {
        const result = fn();
        connection.exec('COMMIT');
        return result;
      } catch (error) {
        if (connection.inTransaction) connection.exec('ROLLBACK');
        for (const listener of rollbackListeners) listener();
        throw error;
      }
    },
    onRollback(listener) {
      rollbackListeners.push(listener);
    },
    close() {
      statements.clear();
      connection.close();
    },
  };
}
