/**
 * The step worker's checkpoint of SQLite's write-ahead log (an engine that is not one file checkpoints on its own).
 */
import type { Queryable } from '../../core/index.js';

/**
 * Copies what the WAL holds into the database file and starts the log over from its beginning; true when it did,
 * false when another connection kept it from finishing (busy: the next one copies it). The copy is a PASSIVE
 * checkpoint, which other connections' commits go on beside; then a RESTART copies what they added meanwhile and,
 * holding the write lock so no commit lands in between, waits for readers up to the connection's busy timeout so that
 * the next write starts the log over. A PASSIVE checkpoint alone left the restart to the next write, which cannot
 * restart the log while any reader is still on it: in real time the HTTP thread's flush always was, and the log grew
 * by every page the steps wrote (3.5 GiB a minute at 2,000 events/s), each commit extending the file. A RESTART alone
 * held the write lock for the whole copy and its fsync, and the HTTP thread's commits (and every request queued
 * behind them) waited.
 *
 * @example
 * if (store.dialect.singleFile) await checkpointWal(store);
 */
export async function checkpointWal(store: Queryable): Promise<boolean> {
  await store.get('PRAGMA wal_checkpoint(PASSIVE)');
  const result = (await store.get('PRAGMA wal_checkpoint(RESTART)')) as { busy: number };
  return Number(result.busy) === 0;
}
