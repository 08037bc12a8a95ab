/**
 * Numerical building blocks shared by the models: special functions, a minimiser, a seeded random generator, arrays
 * in shared memory.
 */
export * from './special.js';
export * from './optimise.js';
export * from './random.js';
export * from './shared.js';
