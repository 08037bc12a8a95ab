import { checkMigrations, type Migration } from './migration.js';
import type { Store } from './store.js';

/**
 * Applies, in one transaction and in name order, every migration not yet recorded in `schema_migrations`. Safe when
 * two processes open the same new file at once: the second waits for the first's write lock, then finds nothing to do.
 * Returns the names applied.
 */
export function migrate(store: Store, migrations: readonly Migration[]): string[] {
  checkMigrations(migrations);
  const d = store.dialect;
  return store.transaction(() => {
    store.connection.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (name ${d.types.text} PRIMARY KEY, applied_at ${d.types.timestamp} NOT NULL)`,
    );
    const done = new Set(
      (store.connection.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name),
    );
    const pending = [...migrations].sort((a, b) => (a.name < b.name ? -1 : 1)).filter((m) => !done.has(m.name));
    const record = store.connection.prepare(
      `INSERT INTO schema_migrations (name, applied_at) VALUES (${d.placeholders(2)})`,
    );
    for (const m of pending) {
      store.connection.exec(m.up(d));
      record.run(m.name, new Date().toISOString());
    }
    return pending.map((m) => m.name);
  });
}
