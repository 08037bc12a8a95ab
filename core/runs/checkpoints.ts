import type { Store } from '../store/store.js';

/** Writes a stream's checkpoint (inside the caller's transaction when there is one). */
export function writeCheckpoint(
  store: Store,
  connection: string,
  stream: string,
  state: unknown,
  now = new Date().toISOString(),
): void {
  store
    .statement(
      store.dialect.upsert({
        table: 'stream_checkpoints',
        columns: ['connection', 'stream', 'state', 'updated_at'],
        conflict: ['connection', 'stream'],
        update: ['state', 'updated_at'],
      }),
    )
    .run(connection, stream, JSON.stringify(state ?? null), now);
}

/**
 * The last committed checkpoint of a stream, or undefined when the stream was never loaded.
 *
 * @example
 * const state = readCheckpoint(store, 'hubspot', 'contacts'); // resume `read(stream, state)` from here
 */
export function readCheckpoint(store: Store, connection: string, stream: string): unknown {
  const row = store
    .statement('SELECT state FROM stream_checkpoints WHERE connection = ? AND stream = ?')
    .get(connection, stream) as { state: string } | undefined;
  return row ? (JSON.parse(row.state) as unknown) : undefined;
}
