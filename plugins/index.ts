/**
 * The plugin API: everything a connector author codes against. A connector imports from here and nothing else of
 * segflow's.
 */
export * from './model/index.js';
export * from './contract/connector.js';
export * from './contract/context.js';
export * from './contract/errors.js';
export * from './contract/spec.js';
export * from './registry/index.js';
