/**
 * The engine: reading sources into the store page by page with checkpoints, pushing segment membership to
 * destinations, running a config's jobs (read, compute, push) under their locks, and the cron scheduler that starts
 * them. Re-exports only.
 */
export * from './read/index.js';
export * from './push/index.js';
export * from './jobs/index.js';
export * from './schedule/index.js';
