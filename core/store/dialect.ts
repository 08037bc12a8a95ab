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
  /** SQLite only (reading it on PostgreSQL throws): write `INSERT ... RETURNING id` and read it with `get`. */
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

/** A row trigger to build (`AFTER <event> ON <table> FOR EACH ROW`), its body statements reading NEW and OLD. */
export interface TriggerSpec {
  name: string;
  table: string;
  event: 'INSERT' | 'UPDATE' | 'DELETE';
  /** For UPDATE: fire only when one of these columns is set. */
  columns?: readonly string[];
  /** One or more statements, each ending with `;`. */
  body: string;
}

/** The SQL type a JSON field is read as. */
export type JsonFieldType = 'text' | 'real';

/** The SQL type of the `value` column of `jsonArrayRows`. */
export type JsonArrayType = 'text' | 'integer';

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
  /**
   * Appended to a CREATE TABLE whose rows are best stored in primary-key order (SQLite's `WITHOUT ROWID`; empty where
   * the engine has no such choice).
   */
  readonly clusteredTable: string;
  /**
   * The placeholder for the n-th (1-based) parameter. Every engine accepts `?` in statements (PostgreSQL's driver
   * numbers them), so hand-written `?` and the dialect's placeholders mix freely.
   */
  placeholder(n: number): string;
  /** `INSERT ... ON CONFLICT (...) DO UPDATE SET ...` (or `DO NOTHING` when `update` is empty). */
  upsert(spec: UpsertSpec): string;
  /**
   * A table expression with one row per element of the JSON array bound at parameter `n`, its column named `value`,
   * to join against (set-based lookups of a page's keys in one statement). `type` is the column's type: compare an
   * integer column with an `integer` list (PostgreSQL compares types strictly).
   *
   * @example
   * `SELECT i.id FROM ${d.jsonArrayRows(1)} AS j JOIN identities i ON i.email = j.value`
   */
  jsonArrayRows(n: number, type?: JsonArrayType): string;
  /**
   * The field `key` (a literal name) of the JSON text `json` (an SQL expression), as `type`; NULL when absent.
   *
   * @example
   * d.jsonField('e.properties', 'currency') // SQLite: json_extract(e.properties, '$.currency')
   */
  jsonField(json: string, key: string, type?: JsonFieldType): string;
  /** The DDL creating a row trigger. */
  trigger(spec: TriggerSpec): string;
  /**
   * A statement that moves the id generator of `table` (which has an `id` column) past the largest id it holds, after
   * rows were inserted with their ids, as a store copy does; undefined when the engine needs none.
   */
  resetIdentity(table: string): string | undefined;
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
