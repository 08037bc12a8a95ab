import { upsertSql, type Dialect } from '../dialect.js';
import { clusterSqliteTable, dropSqliteForeignKeys } from './rebuild.js';

/** SQLite (3.35+, as bundled with better-sqlite3 12). */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  supportsReturning: true,
  supportsPartialIndexes: true,
  supportsPartitioning: false,
  singleFile: true,
  eventsIndexedByContact: false,
  // One writer at a time (BEGIN IMMEDIATE): a transaction's reads cannot be overtaken by another's write.
  rowLock: () => '',
  types: {
    id: 'INTEGER PRIMARY KEY',
    reference: 'INTEGER',
    text: 'TEXT',
    integer: 'INTEGER',
    real: 'REAL',
    json: 'TEXT',
    timestamp: 'TEXT',
  },
  now: `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
  clusteredTable: ' WITHOUT ROWID',
  noLimit: 'LIMIT -1',
  orderedJoin: 'CROSS JOIN',
  placeholder: () => '?',
  jsonArrayRows: () => 'json_each(?)',
  // Column affinity converts on insert, so the type needs no cast here.
  jsonField: (json, key) => `json_extract(${json}, '$.${key}')`,
  trigger(spec) {
    const on = spec.event === 'UPDATE' && spec.columns ? `UPDATE OF ${spec.columns.join(', ')}` : spec.event;
    return `CREATE TRIGGER ${spec.name} AFTER ${on} ON ${spec.table} BEGIN
        ${spec.body}
      END;`;
  },
  dropTrigger: (name) => `DROP TRIGGER IF EXISTS ${name};`,
  dropForeignKey: () => '',
  dropForeignKeys: dropSqliteForeignKeys,
  clusterTable: clusterSqliteTable,
  insertRows: (types, rows) => {
    const row = `(${types.map(() => '?').join(', ')})`;
    return { sql: `VALUES ${rows.map(() => row).join(', ')}`, params: rows.flat() };
  },
  // INTEGER PRIMARY KEY takes the largest id + 1 by itself.
  resetIdentity: () => undefined,
  placeholders: (count) => Array.from({ length: count }, () => '?').join(', '),
  upsert(spec) {
    return upsertSql(this, spec);
  },
  // json_extract gives each member its own SQL type (text, integer, real; true and false as 1 and 0), which compares
  // with bound text and numbers alike.
  jsonKey: (name) => `$."${name.replace(/["\\]/g, '')}"`,
  jsonFieldAt: (json, param) => `json_extract(${json}, ${param})`,
  jsonHas: (doc, key) => `json_type(${doc}, '$.${key}') IS NOT NULL`,
  jsonElement: (doc, index) => `json_extract(${doc}, '$[${index}]')`,
  jsonValues: (param) => `json_each(${param})`,
  jsonObjectNumber: (param, key) => `(SELECT r.value FROM json_each(${param}) r WHERE r.key = ${key})`,
  jsonMember: (doc, key) => `json_extract(${doc}, '$.${key}')`,
  jsonEither: (a, b) => `COALESCE(${a}, ${b})`,
  jsonObject: (pairs) => `json_object(${pairs.map(([k, v]) => `${k}, ${v}`).join(', ')})`,
  jsonGroupArray: (expr, filter) => `json_group_array(${expr}) FILTER (WHERE ${filter})`,
  julianDay: (expr) => `julianday(${expr})`,
  addDays: (expr, days) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${expr}, '+${Math.floor(days)} days')`,
  truncate: (expr) => `CAST(${expr} AS INTEGER)`,
  least: (a, b) => `MIN(${a}, ${b})`,
  greatest: (a, b) => `MAX(${a}, ${b})`,
  contains: (haystack, needle) => `instr(lower(${haystack}), lower(${needle})) > 0`,
  temp: (name) => `temp.${name}`,
  tempIndex: (index, table, columns) => `CREATE INDEX IF NOT EXISTS temp.${index} ON ${table} (${columns})`,
  tempDefinitions: 'SELECT sql FROM sqlite_temp_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY name',
  unindexed: (expr) => `+${expr}`,
  unindexedTable: (table) => `${table} NOT INDEXED`,
  tablesWithColumn: (column) => `SELECT m.name AS name FROM sqlite_master m JOIN pragma_table_info(m.name) p
       WHERE m.type = 'table' AND p.name = '${column}' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name`,
};
