/** Ward hierarchical clustering on a seeded sample, the rest assigned to the nearest cluster. */
export * from './ward.js';
