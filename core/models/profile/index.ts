/** Cluster profiles (size, revenue share, quartiles, differences from the base) and deterministic names. */
export * from './profiles.js';
