/**
 * The step worker's checkpoint of SQLite's write-ahead log (an engine that is not one file checkpoints on its own).
 */
import type { Queryable } from '../../core/index.js';

/**
 * Copies what the WAL holds into the database file and starts the log over from its beginning (SQLite's RESTART
 * checkpoint); true when it did, false when another connection kept it from finishing (busy: the next one copies it).
 * RESTART holds the write lock while it copies and waits for readers up to the connection's busy timeout, so no
 * other connection's commit lands in between. A PASSIVE checkpoint left that to the next write, which cannot restart
 * the log while any reader is still on it: in real time the HTTP thread's flush always was, and the log grew by every
 * page the steps wrote (3.5 GiB a minute at 2,000 events/s), each commit extending the file.
 *
 * @example
 * if (store.dialect.singleFile) await checkpointWal(store);
 */
export async function checkpointWal(store: Queryable): Promise<boolean> {
  const result = (await store.get('PRAGMA wal_checkpoint(RESTART)')) as { busy: number };
  return Number(result.busy) === 0;
}
