/**
 * The models of segflow: preparation of features, clustering (k-means with automatic k, DBSCAN, Ward), cluster
 * profiles and names, prediction (BG/NBD, MBG/NBD, Gamma-Gamma, lifetime value, logistic propensity): pure
 * computation on Float64Array. `run/` alone touches the store: it runs the config's models over it and records them.
 */
export * from './numeric/index.js';
export * from './bgnbd/index.js';
export * from './paretonbd/index.js';
export * from './purchases/index.js';
export * from './gammagamma/index.js';
export * from './clv/index.js';
export * from './table/index.js';
export * from './prepare/index.js';
export * from './kmeans/index.js';
export * from './profile/index.js';
export * from './dbscan/index.js';
export * from './hierarchical/index.js';
export * from './logistic/index.js';
export * from './run/index.js';
