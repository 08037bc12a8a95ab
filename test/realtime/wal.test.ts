/**
 * The step worker's checkpoint starts SQLite's write-ahead log over once it has copied it, rather than leaving that to
 * the next write: with the HTTP thread always reading right after a step, the next write never could, and the log grew
 * by every page the steps wrote. SQLite only (PostgreSQL's WAL is the server's).
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/index.js';
import { checkpointWal } from '../../sync/realtime/wal.js';
import { tempDir } from '../support/temp.js';

describe('the real-time checkpoint of a SQLite store', () => {
  let path: string;
  let store: Store;

  beforeEach(async () => {
    path = join(tempDir('segflow-rt-wal-'), 'store.db');
    store = await openStore(path);
    await store.exec('PRAGMA wal_autocheckpoint = 0');
    await store.exec('CREATE TABLE pages (n INTEGER PRIMARY KEY, payload BLOB)');
    for (let n = 0; n < 50; n++) await store.run('INSERT INTO pages (n, payload) VALUES (?, zeroblob(16384))', [n]);
  });

  afterEach(async () => {
    await store.close();
  });

  it('copies the log into the database: the next writes reuse the file from its start, readers or not', async () => {
    const grown = statSync(`${path}-wal`).size;
    expect(await checkpointWal(store)).toBe(true);
    const reader = new Database(path, { readonly: true });
    try {
      // A reader that starts after the checkpoint reads the database file, and does not hold the log.
      reader.exec('BEGIN');
      expect(reader.prepare('SELECT COUNT(*) AS n FROM pages').get()).toEqual({ n: 50 });
      for (let n = 50; n < 60; n++) await store.run('INSERT INTO pages (n, payload) VALUES (?, zeroblob(16384))', [n]);
      expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(grown);
      expect(reader.prepare('SELECT COUNT(*) AS n FROM pages').get()).toEqual({ n: 50 });
      reader.exec('COMMIT');
    } finally {
      reader.close();
    }
    expect(await store.get('SELECT COUNT(*) AS n FROM pages')).toEqual({ n: 60 });
  });

  // A PASSIVE checkpoint answers done here, and the reader keeps the log from restarting at the next write.
  it('answers false, losing nothing, while another connection still reads the log; the next one succeeds', async () => {
    const reader = new Database(path, { readonly: true });
    try {
      reader.exec('BEGIN');
      expect(reader.prepare('SELECT COUNT(*) AS n FROM pages').get()).toEqual({ n: 50 });
      expect(await checkpointWal(store)).toBe(false);
      reader.exec('COMMIT');
      expect(await checkpointWal(store)).toBe(true);
      expect(reader.prepare('SELECT COUNT(*) AS n FROM pages').get()).toEqual({ n: 50 });
    } finally {
      reader.close();
    }
  });
});
