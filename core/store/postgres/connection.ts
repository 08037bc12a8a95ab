import pg from 'pg';
import Cursor from 'pg-cursor';
import type { RunResult, SqlValue } from '../dialect.js';
import type { Driver, DriverConnection } from '../driver.js';
import { redactPassword } from '../location.js';
import { numberPlaceholders } from './placeholders.js';

/**
 * The advisory lock every default (non-deferred) transaction takes right after BEGIN, so writers queue one at a time
 * across every process, as SQLite's `BEGIN IMMEDIATE` makes them (callers read, then write, inside a transaction).
 */
export const WRITER_LOCK = 0x5e6f_1000;

/** Connections a store's pool opens at most. */
export const POOL_SIZE = 10;

/** PostgreSQL type oids whose text the driver reads differently from node-postgres's defaults. */
const OID = { bool: 16, int8: 20, json: 114, timestamp: 1114, timestamptz: 1184, numeric: 1700, jsonb: 3802 };

function safeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new RangeError(`the integer ${text} is beyond what a JavaScript number holds exactly`);
  return n;
}

function numeric(text: string): number {
  if (/^-?\d+$/.test(text)) return safeInteger(text);
  return Number(text);
}

/** A timestamp as ISO-8601 UTC text, as segflow stores them (the session's time zone is UTC). */
function isoTimestamp(text: string): string {
  if (/^-?infinity$/.test(text)) return text;
  const zoned = /[+-]\d\d(?::?\d\d)?$/.test(text) ? text : `${text}Z`;
  return new Date(zoned.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString();
}

const parsers = new Map<number, (text: string) => unknown>([
  [OID.int8, safeInteger],
  [OID.numeric, numeric],
  // Callers JSON.parse what they read, as on SQLite where JSON is text.
  [OID.json, (text) => text],
  [OID.jsonb, (text) => text],
  // segflow stores flags as 0/1 integers; a boolean expression reads the same way.
  [OID.bool, (text) => (text === 't' ? 1 : 0)],
  [OID.timestamp, isoTimestamp],
  [OID.timestamptz, isoTimestamp],
]);

/** Rows read the same as on SQLite: 64-bit integers and numerics as numbers, JSON as text, booleans as 0/1. */
export const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
    return parsers.get(oid) ?? (pg.types.getTypeParser(oid, format ?? 'text') as (text: string) => unknown);
  },
};

/** The SQL text to send for a statement written with `?` placeholders: translated once per SQL text. */
function translator(): (sql: string) => string {
  const cache = new Map<string, string>();
  return (sql) => {
    let text = cache.get(sql);
    if (text === undefined) {
      text = numberPlaceholders(sql).sql;
      // Statements built with a varying number of values would grow the cache without bound.
      if (cache.size >= 5000) cache.clear();
      cache.set(sql, text);
    }
    return text;
  };
}

interface PostgresConnection extends DriverConnection {
  readonly client: pg.PoolClient;
  /** Set when the connection may be unusable (a failed rollback): the pool then discards it. */
  broken: boolean;
}

/**
 * Opens a PostgreSQL database (`postgres://user:password@host:port/database`) as a segflow driver: a pool of
 * connections; `acquire` takes a free one. A default transaction takes the writer lock (WRITER_LOCK) after BEGIN; a
 * deferred one and plain statements do not. `batches` streams through a cursor on the held connection.
 */
export function openPostgresDriver(url: string): Driver {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    types: typeParsers,
    application_name: 'segflow',
    options: '-c TimeZone=UTC',
  });
  // An idle connection the server closed is dropped from the pool; without a listener the process would exit.
  pool.on('error', () => undefined);
  const sqlText = translator();
  let closed = false;

  const query = async (c: PostgresConnection, sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> => {
    try {
      return await c.client.query({ text: sqlText(sql), values: params as SqlValue[] });
    } catch (error) {
      throw located(error, url);
    }
  };

  const connectionOf = (client: pg.PoolClient): PostgresConnection => {
    const c: PostgresConnection = {
      client,
      broken: false,
      all: async (sql, params) => (await query(c, sql, params)).rows,
      get: async (sql, params) => (await query(c, sql, params)).rows[0],
      async run(sql, params): Promise<RunResult> {
        const result = await query(c, sql, params);
        return {
          changes: result.rowCount ?? 0,
          get lastInsertRowid(): number {
            throw new Error(
              'lastInsertRowid is not known on PostgreSQL: add `RETURNING id` to the INSERT and read it with get()',
            );
          },
        };
      },
      async exec(sql) {
        try {
          await client.query(sql);
        } catch (error) {
          throw located(error, url);
        }
      },
      async *batches(sql, params, size) {
        const cursor = client.query(new Cursor(sqlText(sql), params as SqlValue[], { types: typeParsers }));
        try {
          for (;;) {
            let rows: unknown[];
            try {
              rows = await cursor.read(size);
            } catch (error) {
              throw located(error, url);
            }
            if (rows.length > 0) yield rows;
            if (rows.length < size) return;
          }
        } finally {
          await cursor.close().catch(() => {
            c.broken = true;
          });
        }
      },
    };
    return c;
  };

  const driver: Driver = {
    async acquire() {
      if (closed) throw new Error('the store is closed');
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unreachable(error, url);
      }
      return connectionOf(client);
    },
    release(connection) {
      const c = connection as PostgresConnection;
      c.client.release(c.broken ? true : undefined);
    },
    async begin(connection, options) {
      await connection.exec(options.deferred ? 'BEGIN' : `BEGIN; SELECT pg_advisory_xact_lock(${WRITER_LOCK})`);
    },
    async commit(connection) {
      const result = await (connection as PostgresConnection).client.query('COMMIT');
      // PostgreSQL answers COMMIT with ROLLBACK when a statement failed inside the transaction (a caller caught it).
      if (result.command === 'ROLLBACK') {
        throw new Error(
          'the transaction was rolled back: a statement inside it failed (on PostgreSQL a failed statement aborts its transaction; the caller caught the error and went on)',
        );
      }
    },
    async rollback(connection) {
      const c = connection as PostgresConnection;
      try {
        await c.client.query('ROLLBACK');
      } catch {
        c.broken = true;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return driver;
}

/** Why a connection could not be made, as a sentence naming the server (never the password), the cause kept. */
function unreachable(error: unknown, url: string): Error {
  const cause = located(error, url);
  const { code, message } = (cause ?? {}) as { code?: string; message?: string };
  let where = 'the configured server';
  let database = '';
  let user = '';
  try {
    const u = new URL(url);
    where = `${u.hostname || 'localhost'}:${u.port || '5432'}`;
    database = decodeURIComponent(u.pathname.slice(1));
    user = decodeURIComponent(u.username);
  } catch {
    // An unparsable URL was refused by the config already; the driver's own message says the rest.
  }
  const text =
    code === '3D000'
      ? `PostgreSQL at ${where} has no database "${database}": create it (CREATE DATABASE ${database}) or correct the store URL`
      : code === '28P01' || code === '28000'
        ? `PostgreSQL at ${where} refused the login of user "${user}": ${message ?? ''}`
        : `cannot reach PostgreSQL at ${where}: ${message || code || String(cause)}`;
  return Object.assign(new Error(redactPassword(text, url), { cause }), { code: 'store_unreachable' });
}

/** The driver's error with any password in its message redacted. */
function located(error: unknown, url: string): unknown {
  if (error instanceof Error) error.message = redactPassword(error.message, url);
  return error;
}
