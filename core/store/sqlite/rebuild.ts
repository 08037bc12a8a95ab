import type { Queryable } from '../store.js';

/** A column's `REFERENCES table (columns)` clause, with any `ON DELETE` / `ON UPDATE` actions after it. */
const REFERENCES =
  /\s+REFERENCES\s+"?\w+"?\s*\([^)]*\)(\s+ON\s+(DELETE|UPDATE)\s+(CASCADE|RESTRICT|NO\s+ACTION|SET\s+NULL|SET\s+DEFAULT))*/gi;

/**
 * Remakes a table with a changed definition, the way SQLite changes a table's constraints or layout
 * (https://www.sqlite.org/lang_altertable.html#otheralter): a table made from `change(its definition)`, filled with
 * its rows, put in its place, and its indexes and triggers made again as the catalogue held them. Runs in the
 * caller's transaction and takes as long as copying the table once.
 */
async function rebuildSqliteTable(
  store: Queryable,
  table: string,
  change: (definition: string) => string,
): Promise<void> {
  const schema = (await store.all(
    "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL AND type IN ('table', 'index', 'trigger') ORDER BY type DESC",
    [table],
  )) as { type: string; sql: string }[];
  const definition = schema.find((s) => s.type === 'table');
  if (!definition) throw new Error(`cannot rebuild ${table}: there is no such table`);
  const rebuilt = `${table}_rebuilt`;
  await store.exec(change(definition.sql).replace(/^CREATE TABLE\s+("?)\w+\1/i, `CREATE TABLE ${rebuilt}`));
  await store.exec(`INSERT INTO ${rebuilt} SELECT * FROM ${table}`);
  await store.exec(`DROP TABLE ${table}`);
  // Views naming the table stay as they are: the legacy rename does not check them while the name is missing.
  await store.exec(
    `PRAGMA legacy_alter_table = ON; ALTER TABLE ${rebuilt} RENAME TO ${table}; PRAGMA legacy_alter_table = OFF`,
  );
  for (const s of schema) if (s.type !== 'table') await store.exec(s.sql);
}

/** Drops the foreign keys a table's columns declare (see {@link rebuildSqliteTable}). */
export async function dropSqliteForeignKeys(store: Queryable, table: string): Promise<void> {
  await rebuildSqliteTable(store, table, (definition) => definition.replace(REFERENCES, ''));
  const left = (await store.all('SELECT "from" AS "column" FROM pragma_foreign_key_list(?)', [table])) as {
    column: string;
  }[];
  if (left.length > 0)
    throw new Error(`cannot drop the foreign keys of ${table}: ${left.map((k) => k.column).join(', ')} still declared`);
}

/**
 * Makes a table its primary key's index (`WITHOUT ROWID`), so a row found by its key is read from one page, not
 * from the key's index and then the table (see {@link rebuildSqliteTable}).
 */
export async function clusterSqliteTable(store: Queryable, table: string): Promise<void> {
  await rebuildSqliteTable(store, table, (definition) => `${definition} WITHOUT ROWID`);
}
