/**
 * What the PostgreSQL engine adds over SQLite's: `?` placeholders numbered outside quotes and comments, rows that
 * read as they do on SQLite (integers as numbers, JSON as the text written, flags as 0/1), a statement that failed
 * inside a transaction never committing its neighbours, and a URL's password kept out of messages.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { numberPlaceholders } from '../../core/store/postgres/index.js';
import { openStore, redactLocation, redactPassword } from '../../core/index.js';
import { postgres, type OpenedStore } from '../support/engines.js';
import { testServerUrl } from '../support/postgres.js';

/** A loopback port nothing listens on (taken, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const opened: OpenedStore[] = [];
const removals: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
  for (const remove of removals.splice(0)) await remove();
});

describe('numbering placeholders for PostgreSQL', () => {
  it('numbers each ? in order', () => {
    expect(numberPlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?)')).toEqual({
      sql: 'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)',
      count: 3,
    });
  });

  it('leaves a ? inside strings, quoted identifiers, comments and dollar quotes alone', () => {
    const sql = `SELECT '?', 'it''s ?', E'\\'?', "odd?name", $$ ? $$, $fn$ ? $fn$ -- ?
      /* ? /* ? */ ? */ FROM t WHERE a = ? AND b::text = ?`;
    const { sql: out, count } = numberPlaceholders(sql);
    expect(count).toBe(2);
    expect(out.endsWith('WHERE a = $1 AND b::text = $2')).toBe(true);
    expect(out.slice(0, sql.indexOf(' FROM'))).toBe(sql.slice(0, sql.indexOf(' FROM')));
  });

  it('returns SQL without placeholders unchanged, $1 included', () => {
    expect(numberPlaceholders('SELECT $1::int, col$x FROM t')).toEqual({
      sql: 'SELECT $1::int, col$x FROM t',
      count: 0,
    });
  });
});

describe('a PostgreSQL location in messages', () => {
  it('hides the password of a URL and leaves a path alone', () => {
    expect(redactLocation('postgres://app:s3cr%40t@db.internal:5432/segflow')).toBe(
      'postgres://app:***@db.internal:5432/segflow',
    );
    expect(redactLocation('postgresql://db/segflow?user=app&password=s3cret&sslmode=require')).toBe(
      'postgresql://db/segflow?user=app&password=***&sslmode=require',
    );
    expect(redactLocation('.segflow/segflow.db')).toBe('.segflow/segflow.db');
    expect(redactPassword('failed for s3cr@t at db', 'postgres://app:s3cr%40t@db/segflow')).toBe(
      'failed for *** at db',
    );
  });

  it('keeps the password out of the error when the server refuses the login', async () => {
    const { location, remove } = await postgres.fresh();
    removals.push(remove);
    const wrong = new URL(location);
    wrong.password = 'not-the-password-4711';
    const error = await openStore(wrong.toString()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      /^PostgreSQL at 127\.0\.0\.1:\d+ refused the login of user "postgres": password authentication failed/,
    );
    expect(error?.message).not.toContain('not-the-password-4711');
  });

  it('says which server it cannot reach, without the password', async () => {
    const port = await closedPort();
    const error = await openStore(`postgres://app:hunter22@127.0.0.1:${port}/segflow`).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(new RegExp(`^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(error?.message).not.toContain('hunter22');
  });

  it('says which database is missing and how to make it', async () => {
    const missing = new URL(testServerUrl());
    missing.pathname = '/segflow_not_created';
    await expect(openStore(missing.toString())).rejects.toThrow(
      /has no database "segflow_not_created": create it \(CREATE DATABASE segflow_not_created\)/,
    );
  });
});

describe('rows on PostgreSQL', () => {
  it('read as on SQLite: integers and sums as numbers, JSON as the text written, comparisons as 0/1', async () => {
    const o = await postgres.open();
    opened.push(o);
    const row = await o.store.get(
      `SELECT COUNT(*) AS n, SUM(x) AS total, 2.5::numeric AS half, '{"b": 1,  "a": 2}'::json AS doc, 1 < 2 AS yes, 1 > 2 AS no
         FROM (VALUES (9007199254740990::bigint), (1)) AS v (x)`,
    );
    expect(row).toEqual({ n: 2, total: 9007199254740991, half: 2.5, doc: '{"b": 1,  "a": 2}', yes: 1, no: 0 });
    await expect(o.store.get('SELECT 9007199254740993::bigint AS big')).rejects.toThrow(
      /beyond what a JavaScript number/,
    );
  });

  it('refuses to commit a transaction in which a statement failed, even when the caller caught the error', async () => {
    const o = await postgres.open();
    opened.push(o);
    await o.store.exec('CREATE TABLE notes (n INTEGER PRIMARY KEY)');
    await expect(
      o.store.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (n) VALUES (1)');
        await tx.run('INSERT INTO notes (n) VALUES (1)').catch(() => undefined);
      }),
    ).rejects.toThrow(/a statement inside it failed/);
    expect(await o.store.all('SELECT n FROM notes')).toEqual([]);
  });

  it('says to use RETURNING when asked for lastInsertRowid', async () => {
    const o = await postgres.open();
    opened.push(o);
    const result = await o.store.run("INSERT INTO sync_runs (job, status, started_at) VALUES ('j', 'running', 'now')");
    expect(result.changes).toBe(1);
    expect(() => result.lastInsertRowid).toThrow(/RETURNING id/);
  });
});
