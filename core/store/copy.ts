import { appliedMigrations } from './open.js';
import { migrations as allMigrations } from './migrations.js';
import type { Migration } from './migration.js';
import type { SqlValue } from './dialect.js';
import type { Store } from './store.js';

/** Options of `copyStore`. */
export interface CopyStoreOptions {
  /** Empty a target that holds rows instead of refusing it. */
  force?: boolean;
  /** The migrations both stores were opened with (to list the tables in creation order); every module's by default. */
  migrations?: readonly Migration[];
  /** Told after each table: its name and the rows copied. */
  onTable?: (table: string, rows: number) => void;
}

/** Rows one INSERT carries at most (and parameters at most: SQLite allows 32,766). */
const ROWS_PER_INSERT = 500;
const PARAMETERS_PER_INSERT = 30_000;

/** The tables the migrations create and do not drop again, in the order they create them (a referenced table first). */
export function migrationTables(store: Store, migrations: readonly Migration[]): string[] {
  const tables: string[] = [];
  for (const m of [...migrations].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    // in statement order: a migration may drop a table an earlier one created (and create its successor)
    for (const match of m.up(store.dialect).matchAll(/(CREATE|DROP) TABLE (?:IF (?:NOT )?EXISTS )?(\w+)/gi)) {
      const table = match[2] as string;
      const at = tables.indexOf(table);
      if ((match[1] as string).toUpperCase() === 'DROP') {
        if (at >= 0) tables.splice(at, 1);
      } else if (at < 0) tables.push(table);
    }
  }
  return tables;
}

/**
 * Copies every table of `from` into `to` (stores of either engine, opened with the same migrations), in migration
 * order, in batches of multi-row INSERTs (no round trip per row), each table in one transaction of the target. Row ids
 * are kept, and identity sequences are moved past them on PostgreSQL. Then each migration's `afterCopy` rebuilds what
 * it keeps beside its tables (PostgreSQL's ring of real-time message ids, from the copied inbox). Refuses a target whose
 * migrations differ from the source's, or that holds rows (unless `force`, which empties it first). Returns the rows
 * copied per table.
 *
 * @example
 * const from = await openStore('.segflow/segflow.db');
 * const to = await openStore(process.env.SEGFLOW_DATABASE_URL!);
 * await copyStore(from, to);
 */
export async function copyStore(
  from: Store,
  to: Store,
  options: CopyStoreOptions = {},
): Promise<Record<string, number>> {
  const [source, target] = [await appliedMigrations(from), await appliedMigrations(to)];
  if (source.join('\n') !== target.join('\n')) {
    const missing = source.filter((m) => !target.includes(m));
    const extra = target.filter((m) => !source.includes(m));
    throw new Error(
      `the two stores' migrations differ (${[
        missing.length > 0 ? `only the source has ${missing.join(', ')}` : '',
        extra.length > 0 ? `only the target has ${extra.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ')}): open both with the same version of segflow`,
    );
  }
  const tables = migrationTables(from, options.migrations ?? allMigrations);
  const filled: string[] = [];
  for (const table of tables) {
    if ((await to.get(`SELECT 1 AS one FROM ${table} LIMIT 1`)) !== undefined) filled.push(table);
  }
  if (filled.length > 0 && !options.force) {
    throw new Error(
      `the target store is not empty (${filled.join(', ')} hold rows): copy into an empty store, or pass --force to replace what it holds`,
    );
  }
  const copied: Record<string, number> = {};
  await to.transaction(async (tx) => {
    for (const table of [...tables].reverse()) await tx.run(`DELETE FROM ${table}`);
  });
  for (const table of tables) {
    let rows = 0;
    let hasId = false;
    await to.transaction(async (tx) => {
      for await (const batch of from.iterate(`SELECT * FROM ${table}`, [], ROWS_PER_INSERT)) {
        const records = batch as Record<string, SqlValue>[];
        const columns = Object.keys(records[0] ?? {});
        if (columns.length === 0) continue;
        hasId ||= columns.includes('id');
        const perInsert = Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(PARAMETERS_PER_INSERT / columns.length)));
        for (let i = 0; i < records.length; i += perInsert) {
          const chunk = records.slice(i, i + perInsert);
          const tuple = `(${to.dialect.placeholders(columns.length)})`;
          // Rows a trigger already derived from a copied table (contact_events from events) are kept, not doubled.
          await tx.run(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')} ON CONFLICT DO NOTHING`,
            chunk.flatMap((r) => columns.map((c) => r[c] ?? null)),
          );
        }
        rows += records.length;
      }
      const reset = hasId ? to.dialect.resetIdentity(table) : undefined;
      if (reset) await tx.exec(reset);
    });
    copied[table] = rows;
    options.onTable?.(table, rows);
  }
  for (const { afterCopy } of options.migrations ?? allMigrations)
    if (afterCopy) await to.transaction((tx) => afterCopy(tx));
  return copied;
}
