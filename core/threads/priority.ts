import { getPriority, setPriority } from 'node:os';

/** The nice value batch computation runs at: below the API, ingestion and the real-time step worker (nice 0). */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread to BACKGROUND_NICE, so a whole-base computation yields the CPU to the threads that answer
 * HTTP and deliver in real time. Linux keeps a nice value per thread: only this thread changes (and the threads it
 * starts afterwards, which inherit it). Elsewhere the call would lower the whole process, so it does nothing; it never
 * raises a thread already nicer than that, and a refusal by the OS leaves the thread as it was.
 *
 * @example
 * // at the top of a worker entry that computes over the whole store
 * lowerThreadPriority();
 */
export function lowerThreadPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    if (getPriority(0) < BACKGROUND_NICE) setPriority(0, BACKGROUND_NICE);
  } catch {
    // not allowed here (a sandbox refusing setpriority): the computation runs at the thread's priority
  }
}
