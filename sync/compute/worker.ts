/**
 * The compute worker's entry: opens its own store connection, computes (the whole compute or one part of a sliced
 * one), and posts its phases and outcome back. It runs at a lower CPU priority (and so do the aggregate and model
 * threads it starts), so the API and real-time ingestion in the same process keep their share of the CPU.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fencedByTask, lowerThreadPriority, openStore } from '../../core/index.js';
import { reasonOf } from '../../plugins/index.js';
import { computeInput, type ComputeInput } from './compute.js';
import type { WorkerMessage } from './in-worker.js';

const port = parentPort;
if (!port) throw new Error('sync/compute/worker.ts runs as a worker thread');
lowerThreadPriority();
const post = (message: WorkerMessage) => port.postMessage(message);
const input = workerData as ComputeInput;
let answer: WorkerMessage;
try {
  const store = await openStore(input.storePath);
  try {
    const fenced = input.lease === undefined ? store : fencedByTask(store, input.lease);
    const outcome = await computeInput(fenced, input, (phase, done) => post({ type: 'phase', phase, done }));
    answer = { type: 'done', outcome };
  } finally {
    // Closed before answering: the last connection to close a store copies its log into the file, and a compute that
    // answered first could have the next one opening the store meanwhile.
    await store.close();
  }
} catch (error) {
  answer = { type: 'failed', message: reasonOf(error) };
}
post(answer);
