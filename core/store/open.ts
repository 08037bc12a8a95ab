import { migrate } from './migrate.js';
import type { Migration } from './migration.js';
import { migrations as allMigrations } from './migrations.js';
import { openSqliteConnection, sqliteDialect } from './sqlite/index.js';
import { createStore, type Store } from './store.js';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** The migrations to apply; defaults to every module's. */
  migrations?: readonly Migration[];
}

/**
 * Opens (creating and migrating on first use) the store at `path`, a SQLite file.
 *
 * @example
 * const store = openStore('.segflow/segflow.db');
 * try { loadPage(store, { connection: 'hubspot', stream: 'contacts', records, checkpoint }); } finally { store.close(); }
 */
export function openStore(path: string, options: OpenStoreOptions = {}): Store {
  const store = createStore(path, openSqliteConnection(path), sqliteDialect);
  try {
    migrate(store, options.migrations ?? allMigrations);
  } catch (error) {
    store.close();
    throw error;
  }
  return store;
}

/** The names of the migrations applied to a store, in the order they were applied. */
export function appliedMigrations(store: Store): string[] {
  return (store.statement('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]).map(
    (r) => r.name,
  );
}
