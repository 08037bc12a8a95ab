/** Feature preparation (log1p, standardisation, optional PCA) as a serialisable transformation. */
export * from './preparation.js';
