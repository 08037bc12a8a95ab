/**
 * The compute step: features, then models, then segments, run in a worker thread with its own store connection; on
 * workers, in parts (prepare, a features task per slice of contacts, segments).
 */
export type {
  ComputeInput,
  ComputeOutcome,
  ComputePart,
  ComputePhase,
  ComputeReport,
  ComputeScope,
  SlicedPlan,
} from './compute.js';
export { computeAll, computeFeatureSlice, computeInput, computeSegmentsPart, prepareCompute } from './compute.js';
export type { ComputeInWorkerOptions } from './in-worker.js';
export { computeInputInWorker, computeInWorker } from './in-worker.js';
