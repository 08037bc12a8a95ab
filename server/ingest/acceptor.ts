import { acceptMessages, type InboxKind, type InboxLayout, type InboxMessage } from '../../core/realtime/index.js';
import type { Queryable } from '../../core/index.js';
import type { Logger } from '../../plugins/index.js';

/** Stores accepted messages; resolves once they are committed, per message whether it was new. */
export type Accept = (
  connection: string,
  kind: InboxKind,
  messages: readonly InboxMessage[],
  receivedAt: Date,
) => Promise<boolean[]>;

// The running pipeline of a store takes its inbox commits (on its worker thread); routes over a store without one
// commit on the calling thread. Keyed by store so `ingestRoutes(deps)` and `startRealtime(deps)` meet without wiring.
const pipelines = new WeakMap<Queryable, Accept>();

/** Routes this store's inbox commits through `accept` until the returned function is called. */
export function routeAccepts(store: Queryable, accept: Accept): () => void {
  pipelines.set(store, accept);
  return () => {
    if (pipelines.get(store) === accept) pipelines.delete(store);
  };
}

/**
 * Commits accepted messages: through the store's running pipeline when there is one, else here; a pipeline that
 * cannot take them (its worker gone) falls back to committing here (cut by `layout`, the config's inbox partitions), so
 * an answer always follows a commit.
 */
export async function accept(
  store: Queryable,
  logger: Logger,
  connection: string,
  kind: InboxKind,
  messages: readonly InboxMessage[],
  receivedAt: Date,
  layout?: InboxLayout,
): Promise<boolean[]> {
  const pipeline = pipelines.get(store);
  if (pipeline) {
    try {
      return await pipeline(connection, kind, messages, receivedAt);
    } catch (error) {
      logger.warn('the real-time worker could not store the messages; storing them on the server thread', {
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return await acceptMessages(store, connection, kind, messages, receivedAt, layout);
}
