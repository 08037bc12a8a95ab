/** k-means with greedy k-means++ seeding and Hamerly-accelerated Lloyd iterations, matching scikit-learn. */
export * from './lloyd.js';
export * from './automatic.js';
export * from './assign.js';
