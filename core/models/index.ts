/**
 * The models of segflow: preparation of features, clustering (k-means with automatic k, DBSCAN, Ward), cluster
 * profiles and names, and prediction (BG/NBD, MBG/NBD, Gamma-Gamma, lifetime value). Pure computation on
 * Float64Array; nothing here touches the store.
 */
export * from './numeric/index.js';
export * from './bgnbd/index.js';
export * from './gammagamma/index.js';
export * from './clv/index.js';
export * from './table/index.js';
export * from './prepare/index.js';
export * from './kmeans/index.js';
export * from './profile/index.js';
export * from './dbscan/index.js';
export * from './hierarchical/index.js';
