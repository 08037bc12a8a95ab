import type { RunResult, SqlValue } from './dialect.js';

/**
 * One connection of an engine's driver, as the store uses it: the small subset segflow needs, declared here (as Kysely
 * declares its drivers' subset) so that no driver package is a type dependency of callers. A method may answer
 * synchronously (better-sqlite3) or with a promise (node-postgres); the store awaits either.
 */
export interface DriverConnection {
  all(sql: string, params: readonly SqlValue[]): unknown[] | Promise<unknown[]>;
  /** The first row, or undefined when there is none. */
  get(sql: string, params: readonly SqlValue[]): unknown;
  run(sql: string, params: readonly SqlValue[]): RunResult | Promise<RunResult>;
  /** One or more statements without parameters (a migration, DDL). */
  exec(sql: string): void | Promise<void>;
  /** The rows of a query in arrays of up to `size`, streamed from the engine (never the whole result in memory). */
  batches(sql: string, params: readonly SqlValue[], size: number): AsyncIterable<unknown[]>;
}

/** How a transaction takes its locks. */
export interface TransactionOptions {
  /**
   * Take the write lock at the first write instead of up front (SQLite's `BEGIN DEFERRED`; the default is `BEGIN
   * IMMEDIATE`, so two processes queue instead of deadlocking). Engines without the distinction ignore it.
   */
  deferred?: boolean;
}

/**
 * An engine's driver: hands out connections and opens, commits and rolls back transactions on them. SQLite has one
 * connection, so `acquire` queues callers (a transaction holds it until it ends); a pool would hand out a free client.
 */
export interface Driver {
  /** Waits for a connection and holds it until `release`: for one statement, a transaction or a streamed query. */
  acquire(): DriverConnection | Promise<DriverConnection>;
  release(connection: DriverConnection): void;
  begin(connection: DriverConnection, options: TransactionOptions): void | Promise<void>;
  commit(connection: DriverConnection): void | Promise<void>;
  /** Rolls back the connection's open transaction, if the engine has not already. */
  rollback(connection: DriverConnection): void | Promise<void>;
  /** Closes every connection, once no caller holds one. */
  close(): Promise<void>;
}
