/**
 * k-means with greedy k-means++ seeding and Hamerly-accelerated Lloyd iterations, matching scikit-learn; from
 * rows × k = 1,000,000 the row loops share two threads, with the same result as one.
 */
export * from './lloyd.js';
export * from './automatic.js';
export * from './assign.js';
export * from './simulate.js';
export {
  defaultThreads,
  idleWorkers,
  openThreads,
  PARALLEL_WORK,
  type KMeansThreads,
  type ThreadFaults,
  type ThreadOptions,
} from './threads.js';
