/**
 * Running the jobs of a loaded config: a job's steps in order (read, compute, push) under the job's lock in the store,
 * recorded as a sync run with its status, counts and per-step report, stopped gently by a signal, a cancel request or
 * a lost lock. `segflow run`, `segflow schedule`, `segflow serve` and the admin API all start runs through it. A run
 * handed to workers is split into tasks (a read per stream, the compute, a push per destination × segment) that
 * `runWorker` processes claim from the store under leases. Re-exports only.
 */
export { runJob, runReport, type JobResult, type RunJobOptions, type RunProgress, type StepResult } from './run-job.js';
export { connectionContext, type ConnectionContextOptions } from './contexts.js';
export { scheduledJobs } from './scheduled.js';
export { runWorker, describeTask, type WorkerOptions, type WorkerEvent, type WorkerReport } from './worker.js';
export { tasksOf, type ReadTaskSpec, type ComputeTaskSpec, type PushTaskSpec } from './on-workers.js';
export {
  emptiedSummary,
  emptySegment,
  emptyableSegment,
  emptyRunJob,
  type EmptiedDestination,
  type EmptySegmentOptions,
  type EmptySegmentOutcome,
  type EmptyableSegment,
} from './empty-segment.js';
