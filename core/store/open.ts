import { isPostgresLocation } from './location.js';
import { migrate } from './migrate.js';
import type { Migration } from './migration.js';
import { migrations as allMigrations } from './migrations.js';
import { openPostgresDriver, postgresDialect } from './postgres/index.js';
import { openSqliteDriver, sqliteDialect } from './sqlite/index.js';
import { createStore, type Queryable, type Store } from './store.js';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** The migrations to apply; defaults to every module's. */
  migrations?: readonly Migration[];
}

/**
 * Opens (creating and migrating on first use) the store at `location`: a SQLite file path, or a PostgreSQL URL
 * (`postgres://user:password@host:5432/database`; the database must exist, its tables are created on first use).
 * Worker threads open the same location string.
 *
 * @example
 * const store = await openStore('.segflow/segflow.db');
 * try { await loadPage(store, { connection: 'hubspot', stream: 'contacts', records, checkpoint }); } finally { await store.close(); }
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  const store = isPostgresLocation(location)
    ? createStore(location, openPostgresDriver(location), postgresDialect)
    : createStore(location, openSqliteDriver(location), sqliteDialect);
  try {
    await migrate(store, options.migrations ?? allMigrations);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** The names of the migrations applied to a store, in the order they were applied. */
export async function appliedMigrations(store: Queryable): Promise<string[]> {
  return ((await store.all('SELECT name FROM schema_migrations ORDER BY name')) as { name: string }[]).map(
    (r) => r.name,
  );
}
