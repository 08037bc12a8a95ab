import type { Queryable } from './store.js';

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
  /**
   * The same effect for all the rows of one statement at once, reading the transition tables `new_rows` (INSERT,
   * UPDATE) and `old_rows` (UPDATE, DELETE), which pair up by primary key: an engine with statement-level triggers
   * and transition tables (PostgreSQL) runs it once per statement instead of `body` once per row, several times
   * cheaper per row. An UPDATE's set body must itself skip rows whose `columns` did not change (such a trigger cannot
   * be limited to columns).
   */
  setBody?: string;
}

/** The type of a column of rows bound by {@link Dialect.insertRows}. */
export type RowColumnType = 'text' | 'integer' | 'real';

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
  /**
   * Whether a table may be declaratively partitioned (`PARTITION BY LIST` / `HASH`) and one partition emptied whole
   * with `TRUNCATE` (PostgreSQL). Where it holds, the real-time inbox is a ring of time partitions whose message ids
   * are kept in a table of their own (`realtime_inbox_ids`), and `segflow store partition` can hash-partition the
   * per-contact tables; where it does not (SQLite), the inbox keeps its time part in a column, is unique over
   * (connection, message_id), and a part is dropped with one `DELETE`.
   */
  readonly supportsPartitioning: boolean;
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
   * `real` reads numbers, and booleans as 1 and 0 (as SQLite's json_extract does); anything else is NULL.
   *
   * @example
   * d.jsonField('e.properties', 'currency') // SQLite: json_extract(e.properties, '$.currency')
   */
  jsonField(json: string, key: string, type?: JsonFieldType): string;
  /** The DDL creating a row trigger (or, given a `setBody` and an engine that can, a statement trigger). */
  trigger(spec: TriggerSpec): string;
  /**
   * The rows to follow an `INSERT INTO table (columns)`, and the parameters that bind them (`rows` row by row, each
   * with one value per entry of `types`): a multi-row `VALUES` on SQLite; on PostgreSQL `SELECT … FROM unnest(…)` of
   * one array parameter per column, whose text does not grow with the rows (parsing and planning a `VALUES` of tens of
   * thousands of parameters costs more per row than the insert itself). Chunk the rows as for
   * any multi-row statement (SQLite binds at most 32,766 values).
   *
   * @example
   * const { sql, params } = d.insertRows(['text', 'integer'], [['a', 1], ['b', 2]]);
   * await tx.run(`INSERT INTO t (name, n) ${sql} ON CONFLICT DO NOTHING`, params);
   */
  insertRows(
    types: readonly RowColumnType[],
    rows: readonly (readonly SqlValue[])[],
  ): { sql: string; params: SqlValue[] };
  /** The DDL dropping a trigger made by {@link Dialect.trigger}, if it exists. */
  dropTrigger(name: string, table: string): string;
  /**
   * The DDL dropping the foreign key a table's `column ... REFERENCES` declared, where the engine checks it at a cost
   * worth saving on a hot insert path (PostgreSQL's per-row check takes a row lock on the referenced row); empty where
   * the check is cheap and dropping it means rebuilding the table (SQLite).
   */
  dropForeignKey(table: string, column: string): string;
  /**
   * Drops every foreign key a table's columns declare where that takes rebuilding the table (SQLite; run by a
   * migration's `run`, inside its transaction); absent where {@link Dialect.dropForeignKey} says it in DDL.
   */
  dropForeignKeys?: (store: Queryable, table: string) => Promise<void>;
  /**
   * Stores a table's rows in its primary key's index, where that takes rebuilding the table (SQLite's `WITHOUT
   * ROWID`; run by a migration's `run`, inside its transaction); absent where tables are heaps (PostgreSQL).
   */
  clusterTable?: (store: Queryable, table: string) => Promise<void>;
  /**
   * A statement that moves the id generator of `table` (which has an `id` column) past the largest id it holds, after
   * rows were inserted with their ids, as a store copy does; undefined when the engine needs none.
   */
  resetIdentity(table: string): string | undefined;
  /** A comma-separated list of `count` placeholders starting at `from` (1-based). */
  placeholders(count: number, from?: number): string;
  /**
   * Whether the store is one file that another thread may open beside this connection and attach a scratch file to
   * (SQLite): a whole-base feature aggregate is then split over two threads, and WAL checkpoints are segflow's to time.
   */
  readonly singleFile: boolean;
  /**
   * Whether `events` keeps its indexes on `(contact_id, occurred_at)` and on `identity_id`. PostgreSQL: an index entry
   * costs an insert little. SQLite: each cost every event one more page in the write-ahead log, so there a contact's
   * events are found through `contact_events` (see `eventOfContact`), and an identity's among its contact's.
   */
  readonly eventsIndexedByContact: boolean;
  /**
   * The join keyword (with an `ON` clause) that keeps the written table order where the engine lets the caller choose
   * it (SQLite's `CROSS JOIN`); a plain `JOIN` otherwise.
   */
  readonly orderedJoin: string;
  /** `LIMIT` with no bound, for a subquery whose ORDER BY must be kept (SQLite `LIMIT -1`, PostgreSQL `LIMIT ALL`). */
  readonly noLimit: string;
  /**
   * The value to bind for {@link Dialect.jsonFieldAt} to read the top-level field `name` (any text; a field name
   * from config that is not checked as a rule's is).
   */
  jsonKey(name: string): string;
  /** `jsonField` with the key bound at the SQL parameter `param` (to a {@link Dialect.jsonKey}), read as text. */
  jsonFieldAt(json: string, param: string): string;
  /** Whether the JSON text `doc` has the field `key` (a literal name, as for `jsonField`), null or not. */
  jsonHas(doc: string, key: string): string;
  /** Element `index` (0-based) of the JSON array `doc` as an SQL scalar of the given kind. */
  jsonElement(doc: string, index: number, as: 'text' | 'integer' | 'number'): string;
  /**
   * A table expression (to be given an alias) with one row per element of the JSON array that the SQL `param` (a
   * placeholder or marker) is bound to, in a column `value` of the given kind; `'json'` keeps each element a JSON
   * value for {@link Dialect.jsonElement}. (`jsonArrayRows` is the same for a numbered parameter.)
   */
  jsonValues(param: string, as: 'text' | 'integer' | 'number' | 'json'): string;
  /** The number the JSON object bound at `param` holds under the key `key` (SQL text), or NULL. */
  jsonObjectNumber(param: string, key: string): string;
  /**
   * The field `key` (a literal name) of the JSON text `doc` as a value for {@link Dialect.jsonObject} that keeps its
   * JSON type (a number stays a number).
   */
  jsonMember(doc: string, key: string): string;
  /** A value for {@link Dialect.jsonObject}: `a` when it is not NULL, else `b`, each keeping its own SQL type. */
  jsonEither(a: string, b: string): string;
  /** A JSON object built from SQL (key, value) pairs, as JSON text. */
  jsonObject(pairs: readonly (readonly [key: string, value: string])[]): string;
  /** An aggregate: the JSON array (text) of `expr` over the group's rows that pass `filter`, `[]` when none do. */
  jsonGroupArray(expr: string, filter: string): string;
  /** The Julian day number (fractional) of an ISO-8601 timestamp, NULL when it is not one. */
  julianDay(expr: string): string;
  /** An ISO-8601 UTC timestamp `days` whole days after the ISO-8601 timestamp `expr`, formatted as `now` is. */
  addDays(expr: string, days: number): string;
  /** A number truncated toward zero to an integer (SQLite's `CAST(x AS INTEGER)`; PostgreSQL's CAST rounds). */
  truncate(expr: string): string;
  /** The smaller of two values (NULL when either is); `greatest` the larger. */
  least(a: string, b: string): string;
  greatest(a: string, b: string): string;
  /** Whether the text `needle` occurs in `haystack`, ignoring case. */
  contains(haystack: string, needle: string): string;
  /** A temporary table's qualified name, for reading and writing it (create it with `CREATE TEMP TABLE name`). */
  temp(name: string): string;
  /** `CREATE INDEX IF NOT EXISTS` of a temporary table. */
  tempIndex(index: string, table: string, columns: string): string;
  /**
   * Where a temp table is emptied and used again rather than made afresh: a query of the `sql` that made a temp table
   * and its indexes (`?`: the table's name), ordered by name. SQLite: dropping and creating a table changes the schema,
   * and every statement prepared on the connection is then prepared again. Absent on PostgreSQL, where nothing vacuums
   * a temp table, so one emptied and filled again keeps every earlier run's rows as dead tuples.
   */
  tempDefinitions?: string;
  /**
   * `expr` with the hint that the engine should not use an index for it (SQLite's unary `+`), so the planner keeps
   * the join order a caller chose; `table` the same for a whole table reference (`NOT INDEXED`).
   */
  unindexed(expr: string): string;
  unindexedTable(table: string): string;
  /** A query listing, as `name`, the tables of the store that have a column named `column` (a checked name). */
  tablesWithColumn(column: string): string;
  /**
   * The clause that ends a SELECT to lock the rows it reads until the transaction ends (`wait`), or to lock them and
   * pass over rows another transaction holds (`skip`: a queue's claim), or only to keep them from being deleted or
   * their key changed (`key`: what a foreign key check holds; updates of other columns go on). Empty on engines that
   * serialize writers anyway (SQLite's one writer at a time).
   */
  rowLock(mode: 'wait' | 'skip' | 'key'): string;
}

/** Builds the common parts of a dialect from its placeholder style. */
export function upsertSql(d: Pick<Dialect, 'placeholder'>, spec: UpsertSpec): string {
  const values = spec.columns.map((_, i) => d.placeholder(i + 1)).join(', ');
  const head = `INSERT INTO ${spec.table} (${spec.columns.join(', ')}) VALUES (${values}) ON CONFLICT (${spec.conflict.join(', ')})`;
  if (spec.update.length === 0) return `${head} DO NOTHING`;
  return `${head} DO UPDATE SET ${spec.update.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}
