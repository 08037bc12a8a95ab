/** Worker threads on segflow's own TypeScript modules, and the priority batch computation runs at. */
export { BACKGROUND_NICE, lowerThreadPriority } from './priority.js';
export { nodeFlagsFor, runnableEntry, typescriptWorker } from './typescript-worker.js';
