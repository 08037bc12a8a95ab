/**
 * Real-time ingestion's tables: the inbox of accepted messages (deduplicated by message id, stored before the sender
 * gets its 200), the contacts touched since the last recompute, and the contacts whose membership changes wait for
 * each destination's flush. Loading goes through core/runs' loadPage, so real time and scheduled reads resolve alike.
 */
export type { InboxKind, InboxMessage, InboxLoad, StoredMessage } from './inbox.js';
export { acceptMessages, acceptStored, loadWaitingMessages, storedMessages, waitingMessages } from './inbox.js';
export type { ComputeMarks, PendingContact, QueuedContact } from './queue.js';
export {
  anyTouched,
  queueTouched,
  touchedContacts,
  queueForDestinations,
  pendingSummary,
  pendingContacts,
  clearPending,
  computeMarksOf,
  clearComputeMarks,
} from './queue.js';
export { realtimeMigrations } from './migrations.js';
export {
  DEFAULT_INBOX_LAYOUT,
  ID_SLOTS,
  INBOX_PARTS,
  INBOX_SHARDS,
  InboxLeaseLostError,
  dropLoadedPartitions,
  fencedByShards,
  idSlotOf,
  idsPartition,
  leaseShards,
  partOf,
  releaseShards,
  shardOf,
  type DroppedPartitions,
  type InboxLayout,
  type ShardLease,
} from './partitions.js';
export { joinWriteKeyIds, type JoinedIds } from './ids.js';
