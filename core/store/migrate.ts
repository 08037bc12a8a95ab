import { checkMigrations, type Migration } from './migration.js';
import type { Queryable } from './store.js';

/**
 * Applies, in one transaction and in name order, every migration not yet recorded in `schema_migrations`. Safe when
 * two processes open the same new file at once: the second waits for the first's write lock, then finds nothing to do.
 * Returns the names applied.
 */
export async function migrate(store: Queryable, migrations: readonly Migration[]): Promise<string[]> {
  checkMigrations(migrations);
  const d = store.dialect;
  return store.transaction(async (tx) => {
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (name ${d.types.text} PRIMARY KEY, applied_at ${d.types.timestamp} NOT NULL)`,
    );
    const done = new Set(
      ((await tx.all('SELECT name FROM schema_migrations')) as { name: string }[]).map((r) => r.name),
    );
    const pending = [...migrations].sort((a, b) => (a.name < b.name ? -1 : 1)).filter((m) => !done.has(m.name));
    for (const m of pending) {
      await tx.exec(m.up(d));
      await m.run?.(tx);
      await tx.run(`INSERT INTO schema_migrations (name, applied_at) VALUES (${d.placeholders(2)})`, [
        m.name,
        new Date().toISOString(),
      ]);
    }
    return pending.map((m) => m.name);
  });
}
