import type { Queryable } from '../store/store.js';

/** Writes a stream's checkpoint (inside the caller's transaction when there is one). */
export async function writeCheckpoint(
  store: Queryable,
  connection: string,
  stream: string,
  state: unknown,
  now = new Date().toISOString(),
): Promise<void> {
  await store.run(
    store.dialect.upsert({
      table: 'stream_checkpoints',
      columns: ['connection', 'stream', 'state', 'updated_at'],
      conflict: ['connection', 'stream'],
      update: ['state', 'updated_at'],
    }),
    [connection, stream, JSON.stringify(state ?? null), now],
  );
}

/**
 * The last committed checkpoint of a stream, or undefined when the stream was never loaded.
 *
 * @example
 * const state = readCheckpoint(store, 'hubspot', 'contacts'); // resume `read(stream, state)` from here
 */
export async function readCheckpoint(store: Queryable, connection: string, stream: string): Promise<unknown> {
  const row = (await store.get('SELECT state FROM stream_checkpoints WHERE connection = ? AND stream = ?', [
    connection,
    stream,
  ])) as { state: string } | undefined;
  return row ? (JSON.parse(row.state) as unknown) : undefined;
}
