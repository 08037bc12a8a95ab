/**
 * A Float64Array in memory that worker threads can share. Rows that k-means will cluster, allocated here from the
 * start, are read by every thread as they are, where rows in an ordinary array are first copied.
 *
 * @example
 * const values = sharedFloats(rows * features);
 */
export function sharedFloats(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(8 * length));
}
