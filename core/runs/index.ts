/**
 * Runs: loading a page with its checkpoint in one transaction, stream checkpoints, sync runs with their counts and
 * per-row errors, and job locks.
 */
export type { LoadPageInput, LoadCounts, LoadResult } from './load.js';
export { loadPage, recordSourcesOf } from './load.js';
export { readCheckpoint, writeCheckpoint } from './checkpoints.js';
export type { RunStatus, SyncRun, RunError } from './runs.js';
export {
  RUN_STATUSES,
  startRun,
  finishRun,
  readRun,
  listRuns,
  requestCancel,
  cancelRequested,
  writeRunReport,
  recordRunErrors,
  readRunErrors,
  countRunErrors,
} from './runs.js';
export type { RunPage } from './queries.js';
export { lastRunOf, listRunPage, readRunErrorPage, runTotals } from './queries.js';
export {
  acquireJobLock,
  heartbeatJobLock,
  releaseJobLock,
  jobLockHolder,
  unlockJob,
  abandonRuns,
  fencedByLease,
  fencedBy,
  LeaseLostError,
  thisProcess,
  isDeadHere,
  type LeaseHolder,
  type LeaseProcess,
} from './locks.js';
export {
  enqueueTasks,
  claimTask,
  heartbeatTask,
  finishTask,
  releaseTask,
  closeTasks,
  listTasks,
  fencedByTask,
  leaseOf,
  liveWorkers,
  WORKER_LEASE_PREFIX,
  TaskLeaseLostError,
  FINISHED_TASK_STATUSES,
  type JobTask,
  type ClaimedTask,
  type TaskLease,
  type TaskKind,
  type TaskStatus,
  type NewTask,
} from './tasks.js';
export {
  settleRequestSlot,
  SLOT_HOLD_MS,
  takeRequestSlot,
  type AdmittedSlot,
  type SharedBudget,
} from './rate-budgets.js';
export { runMigrations } from './migrations.js';
