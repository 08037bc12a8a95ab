/**
 * SQLite lets its write-ahead log grow to about 1 GiB between checkpoints (a load's pages are then written to the
 * database once per checkpoint, not once per commit), but the log file does not keep that size on disk: once a
 * checkpoint has copied it back, the next write truncates it to at most 64 MiB. SQLite only (PostgreSQL's WAL is the
 * server's).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../core/index.js';
import { tempDir } from '../support/temp.js';

const MIB = 1024 * 1024;

describe('SQLite write-ahead log', () => {
  it('shrinks back to at most 64 MiB after a checkpoint of a large write', async () => {
    const path = join(tempDir('segflow-wal-'), 'store.db');
    const store = await openStore(path);
    try {
      await store.exec('CREATE TABLE bulk (n INTEGER PRIMARY KEY, payload BLOB)');
      await store.transaction(async (tx) => {
        for (let n = 0; n < 100; n++) await tx.run('INSERT INTO bulk (n, payload) VALUES (?, zeroblob(1048576))', [n]);
      });
      const grown = statSync(`${path}-wal`).size;
      expect(grown).toBeGreaterThan(96 * MIB);

      await store.all('PRAGMA wal_checkpoint(PASSIVE)');
      await store.run('INSERT INTO bulk (n, payload) VALUES (?, ?)', [100, 'small']);
      expect(statSync(`${path}-wal`).size).toBeLessThanOrEqual(64 * MIB);
      expect(await store.get('SELECT COUNT(*) AS n FROM bulk')).toEqual({ n: 101 });
    } finally {
      await store.close();
    }
  });
});
