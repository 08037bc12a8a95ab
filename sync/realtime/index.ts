/**
 * The real-time pipeline: messages accepted over HTTP are loaded through the normal load path, the contacts they
 * touched recomputed together, and their membership changes flushed to each destination in micro-batches through the
 * same planner and delivered state as scheduled pushes. Re-exports only.
 */
export {
  startPipeline,
  type RealtimeDestination,
  type RealtimePipeline,
  type RealtimePipelineOptions,
  type FlushReport,
} from './pipeline.js';
export { runStep, type StepInput, type StepReport } from './step.js';
