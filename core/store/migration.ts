import type { Dialect } from './dialect.js';
import type { Queryable } from './store.js';

/**
 * One schema change. Each table has exactly one owning module, which declares the migrations that create and change
 * it; names are timestamps plus a subject (`20261123T150000_identity_contacts`), applied once each, in name order.
 */
export interface Migration {
  name: string;
  /** The SQL script (one or more statements) for the given dialect. */
  up(dialect: Dialect): string;
  /**
   * What a script cannot say, run after it in the same transaction: a table rebuilt around what the engine's catalogue
   * holds (its indexes, and triggers other modules put on it), say.
   */
  run?: (store: Queryable) => Promise<void>;
  /**
   * Run by `copyStore` on the target, in one transaction, once every table is copied: rebuilds what the migration
   * keeps beside its tables that a copy does not carry (an engine-only index derived from their rows).
   */
  afterCopy?: (store: Queryable) => Promise<void>;
}

const NAME = /^\d{8}T\d{6}_[a-z0-9_]+$/;

/** Checks a migration list: well-formed, unique names. Throws a sentence saying which one is wrong. */
export function checkMigrations(migrations: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const m of migrations) {
    if (!NAME.test(m.name)) throw new Error(`migration name "${m.name}" must look like 20261123T150000_subject`);
    if (seen.has(m.name)) throw new Error(`migration "${m.name}" is declared twice`);
    seen.add(m.name);
  }
}
