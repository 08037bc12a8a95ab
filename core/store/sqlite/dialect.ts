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
  clusteredTable: ' WITHOUT ROWID',
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
  // INTEGER PRIMARY KEY takes the largest id + 1 by itself.
  resetIdentity: () => undefined,
  placeholders: (count) => Array.from({ length: count }, () => '?').join(', '),
  upsert(spec) {
    return upsertSql(this, spec);
  },
};
