/**
 * The engine: reading sources into the store page by page with checkpoints. Jobs, scheduling, the reverse-ETL
 * planner and the real-time pipeline grow here. Re-exports only.
 */
export * from './read/index.js';
export * from './push/index.js';
