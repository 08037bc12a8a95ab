/**
 * The compute step: features, then models, then segments, run in a worker thread with its own store connection.
 */
export type { ComputeInput, ComputePhase, ComputeReport, ComputeScope } from './compute.js';
export { computeAll } from './compute.js';
export type { ComputeInWorkerOptions } from './in-worker.js';
export { computeInWorker } from './in-worker.js';
