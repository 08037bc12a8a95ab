import { readFileSync, statSync } from 'node:fs';

/**
 * A SQLite store stayed locked by another connection for longer than the writer's patience. `code` stays SQLite's
 * own `SQLITE_BUSY`, so callers that skip a tick on a busy store keep recognising it.
 */
export class StoreLockedError extends Error {
  readonly code = 'SQLITE_BUSY';
  constructor(
    readonly path: string,
    waitedMs: number,
    holder: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      `the store ${path} is locked: ${holder} has held its write lock for more than ${formatWait(waitedMs)}; let it finish (or stop it), then try again`,
      options,
    );
    this.name = 'StoreLockedError';
  }
}

function formatWait(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/** Whether a better-sqlite3 error is a lock held by another connection, which a later attempt may get past. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // SQLITE_BUSY_SNAPSHOT: the transaction read a snapshot another writer has since replaced; waiting cannot help.
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY') && code !== 'SQLITE_BUSY_SNAPSHOT';
}

/** SQLite's WAL write lock: one byte of the `-shm` file (after 120 bytes of header), taken with fcntl. */
const WAL_WRITE_LOCK_BYTE = 120;

/**
 * Who holds the write lock of the SQLite store at `path`, in words. On Linux, the process whose fcntl lock on the WAL
 * index (`<path>-shm`) covers the write-lock byte, as /proc/locks lists it, with its command line; elsewhere, or when
 * that cannot be read, a description of who might.
 *
 * @example
 * writeLockHolder('.segflow/segflow.db'); // 'process 4242 (node bin/segflow.js serve)'
 */
export function writeLockHolder(path: string): string {
  const unknown = 'another connection (a segflow process, or any program with the file open)';
  let inode: number;
  let locks: string;
  try {
    inode = statSync(`${path}-shm`).ino;
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return unknown;
  }
  for (const line of locks.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 4242 fe:00:1234567 120 120"; a "->" line is a process waiting for that lock.
    const lock = /^\d+:\s+(?!->)\S+\s+\S+\s+WRITE\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s+(\d+)\s+(\d+|EOF)\s*$/i.exec(
      line,
    );
    if (!lock || Number(lock[2]) !== inode) continue;
    const start = Number(lock[3]);
    const end = lock[4] === 'EOF' ? Infinity : Number(lock[4]);
    if (start > WAL_WRITE_LOCK_BYTE || end < WAL_WRITE_LOCK_BYTE) continue;
    const pid = Number(lock[1]);
    if (pid === process.pid)
      return 'another connection in this process (a worker thread, or a second store opened on it)';
    return `process ${pid}${commandOf(pid)}`;
  }
  return unknown;
}

function commandOf(pid: number): string {
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .replace(/[\0\s]+/g, ' ')
      .trim();
    if (command === '') return '';
    return ` (${command.length > 100 ? `${command.slice(0, 99)}…` : command})`;
  } catch {
    return '';
  }
}
