/** Numerical building blocks shared by the models: special functions, a minimiser, a seeded random generator. */
export * from './special.js';
export * from './optimise.js';
export * from './random.js';
