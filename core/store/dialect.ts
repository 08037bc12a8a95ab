/**
 * The dialect: everything engine-specific about SQL, in one object, so that callers in core/ write their SQL once and a
 * second engine (PostgreSQL) is a sibling folder of `sqlite/` that changes no caller. Engine differences are
 * capability flags and small builders here, never `if (engine === ...)` in a caller.
 */

/** A value a statement parameter may bind. */
export type SqlValue = string | number | bigint | null | Buffer;

/** What running a write statement reports. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/** Column types a migration may use, spelled for the engine. */
export interface ColumnTypes {
  /** An auto-assigned integer primary key. */
  id: string;
  /** A reference to an `id` column. */
  reference: string;
  text: string;
  integer: string;
  real: string;
  /** A JSON document, stored as text or as the engine's JSON type. */
  json: string;
  /** An ISO-8601 UTC timestamp. */
  timestamp: string;
}

/** An `INSERT ... ON CONFLICT` to build. */
export interface UpsertSpec {
  table: string;
  columns: readonly string[];
  /** The columns of the unique constraint that decides a conflict. */
  conflict: readonly string[];
  /** Columns overwritten from the new row on conflict; empty means keep the existing row. */
  update: readonly string[];
}

/** Everything engine-specific about the SQL segflow writes. */
export interface Dialect {
  readonly name: string;
  /** Whether `INSERT ... RETURNING` is available. */
  readonly supportsReturning: boolean;
  /** Whether a unique index may be partial (`CREATE UNIQUE INDEX ... WHERE`). */
  readonly supportsPartialIndexes: boolean;
  readonly types: ColumnTypes;
  /** An SQL expression for the current UTC time as ISO-8601 text. */
  readonly now: string;
  /** The placeholder for the n-th (1-based) parameter. */
  placeholder(n: number): string;
  /** `INSERT ... ON CONFLICT (...) DO UPDATE SET ...` (or `DO NOTHING` when `update` is empty). */
  upsert(spec: UpsertSpec): string;
  /**
   * A table expression with one row per element of the JSON array bound at parameter `n`, its column named `value`,
   * to join against (set-based lookups of a page's keys in one statement).
   */
  jsonArrayRows(n: number): string;
  /** A comma-separated list of `count` placeholders starting at `from` (1-based). */
  placeholders(count: number, from?: number): string;
}

/** Builds the common parts of a dialect from its placeholder style. */
export function upsertSql(d: Pick<Dialect, 'placeholder'>, spec: UpsertSpec): string {
  const values = spec.columns.map((_, i) => d.placeholder(i + 1)).join(', ');
  const head = `INSERT INTO ${spec.table} (${spec.columns.join(', ')}) VALUES (${values}) ON CONFLICT (${spec.conflict.join(', ')})`;
  if (spec.update.length === 0) return `${head} DO NOTHING`;
  return `${head} DO UPDATE SET ${spec.update.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}
