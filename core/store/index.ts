/**
 * The store: opening (creating and migrating on first use), the dialect every SQL statement in core/ goes through,
 * and versioned migrations collected from the module that owns each table. Engines are sibling folders (`sqlite/`).
 */
export type { ColumnTypes, Dialect, RunResult, SqlValue, UpsertSpec } from './dialect.js';
export type { Driver, DriverConnection, TransactionOptions } from './driver.js';
export type { Migration } from './migration.js';
export type { Queryable, Store, Transaction } from './store.js';
export type { OpenStoreOptions } from './open.js';
export { openStore, appliedMigrations } from './open.js';
export { migrate } from './migrate.js';
export { migrations } from './migrations.js';
export { createStore } from './store.js';
export { sqliteDialect } from './sqlite/index.js';
export { storeDigest } from './digest.js';
