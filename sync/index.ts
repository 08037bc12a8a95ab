/**
 * The engine: reading sources into the store page by page with checkpoints, pushing segment membership to
 * destinations, and running a config's jobs (read, compute, push) under their locks. Re-exports only.
 */
export * from './read/index.js';
export * from './push/index.js';
export * from './jobs/index.js';
