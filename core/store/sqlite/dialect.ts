import { upsertSql, type Dialect } from '../dialect.js';

/** SQLite (3.35+, as bundled with better-sqlite3 12). */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  supportsReturning: true,
  supportsPartialIndexes: true,
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
  placeholder: () => '?',
  jsonArrayRows: () => 'json_each(?)',
  placeholders: (count) => Array.from({ length: count }, () => '?').join(', '),
  upsert(spec) {
    return upsertSql(this, spec);
  },
};
