/**
 * The core: the store and its migrations, identity resolution, events, runs and checkpoints, segment tables,
 * delivered state and suppressions, the push planner, features, segments, the models and the data audit. Re-exports only.
 */
export * from './store/index.js';
export * from './identity/index.js';
export * from './events/index.js';
export * from './runs/index.js';
export * from './segments/store/index.js';
export * from './delivery/index.js';
export * from './suppression/index.js';
export * from './audit/index.js';
export * from './threads/index.js';
export * from './planner/index.js';
export * from './features/index.js';
export * from './segments/index.js';
export * from './models/index.js';
export * from './accounts/index.js';
