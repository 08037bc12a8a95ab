/**
 * The store: opening (creating and migrating on first use), the dialect every SQL statement in core/ goes through,
 * and versioned migrations collected from the module that owns each table. Engines are sibling folders (`sqlite/`, `postgres/`).
 */
export type {
  ColumnTypes,
  Dialect,
  JsonArrayType,
  JsonFieldType,
  RunResult,
  SqlValue,
  TriggerSpec,
  UpsertSpec,
} from './dialect.js';
export type { Driver, DriverConnection, TransactionOptions } from './driver.js';
export type { Migration } from './migration.js';
export type { Queryable, Store, Transaction } from './store.js';
export type { OpenStoreOptions } from './open.js';
export { openStore, appliedMigrations } from './open.js';
export { migrate } from './migrate.js';
export { migrations } from './migrations.js';
export { createStore } from './store.js';
export { sqliteDialect } from './sqlite/index.js';
export { postgresDialect } from './postgres/index.js';
export { isPostgresLocation, redactLocation, redactPassword } from './location.js';
export { storeDigest, storeDump, type DumpLine, type DumpSection } from './digest.js';
export { copyStore, migrationTables, type CopyStoreOptions } from './copy.js';
export {
  partitionStore,
  partitionedTables,
  PARTITIONED_TABLES,
  type PartitionOptions,
  type PartitionReport,
} from './partition.js';
