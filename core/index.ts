/**
 * The core: the store and its migrations, identity resolution, events, runs and checkpoints, segment tables,
 * delivered state and suppressions. Re-exports only.
 */
export * from './store/index.js';
export * from './identity/index.js';
export * from './events/index.js';
export * from './runs/index.js';
export * from './segments/store/index.js';
export * from './delivery/index.js';
export * from './suppression/index.js';
export * from './audit/index.js';
