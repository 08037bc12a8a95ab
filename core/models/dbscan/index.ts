/** DBSCAN with a grid index, with scikit-learn's definitions of eps and min_samples. */
export * from './dbscan.js';
