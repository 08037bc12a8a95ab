/**
 * Worker threads for k-means and the silhouette. The calling thread stays synchronous (the model runner is called
 * synchronously, inside the compute worker): each job is posted to the workers, the calling thread does its own
 * share, then waits on a shared counter with `Atomics.wait`. The workers run plain JavaScript (the kernels' own
 * source, evaluated), so they never go through the TypeScript loader, and they need nothing from the calling thread's
 * event loop while it waits. Every wait is bounded: a worker that does not start in time means one thread; one that
 * stops answering is an error, never a hang.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { BLOCK_ROWS, KERNEL_FUNCTIONS, runKernel, type KernelJob } from './kernels.js';

/** Rows from which k-means and automatic k use a second thread by default. */
export const PARALLEL_ROWS = 100_000;

const START_MS = 10_000;
const JOB_MS = 300_000;
/** ctrl[0]: job generation (−1 stops); ctrl[1 + w]: last generation worker w finished (−2 after a failure). */
const STOPPED = -1;
const FAILED = -2;

/** Threads that share the row loops of one fit: the calling thread and `threads - 1` workers. */
export interface KMeansThreads {
  readonly threads: number;
  /** A Float64Array the workers can see. */
  floats(length: number): Float64Array;
  ints(length: number): Int32Array;
  /** Runs a job across every thread and returns when all have finished. */
  run(job: KernelJob): void;
  close(): void;
}

/** How many threads a fit on `rows` rows uses when the caller does not say: two from {@link PARALLEL_ROWS} rows. */
export function defaultThreads(rows: number): number {
  return rows >= PARALLEL_ROWS ? Math.min(2, availableParallelism()) : 1;
}

const single: KMeansThreads = {
  threads: 1,
  floats: (length) => new Float64Array(length),
  ints: (length) => new Int32Array(length),
  run: (job) => runKernel(job, 0, 1),
  close: () => {},
};

function workerSource(): string {
  return `'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
var __name = (f) => f;
const BLOCK_ROWS = ${BLOCK_ROWS};
${KERNEL_FUNCTIONS.map((f) => f.toString()).join('\n')}
const ctrl = new Int32Array(workerData.ctrl);
const port = workerData.port;
const slot = 1 + workerData.worker;
let generation = 0;
Atomics.store(ctrl, slot, 0);
Atomics.notify(ctrl, slot);
for (;;) {
  Atomics.wait(ctrl, 0, generation);
  generation = Atomics.load(ctrl, 0);
  if (generation === ${STOPPED}) break;
  let message = receiveMessageOnPort(port);
  while (!message) { Atomics.wait(ctrl, 0, generation, 1); message = receiveMessageOnPort(port); }
  try {
    runKernel(message.message, workerData.worker + 1, workerData.threads);
    Atomics.store(ctrl, slot, generation);
  } catch (error) {
    port.postMessage(String(error && error.stack || error));
    Atomics.store(ctrl, slot, ${FAILED});
  }
  Atomics.notify(ctrl, slot);
}
port.close();`;
}

/**
 * Opens `threads` threads (the caller's and `threads - 1` workers); with 1, or if a worker does not start, the work
 * runs on the calling thread alone with the same results. Close it when the fit is done.
 *
 * @example
 * const threads = openThreads(2);
 * try { kMeans(matrix, { k: 8, threads }); } finally { threads.close(); }
 */
export function openThreads(threads: number): KMeansThreads {
  if (threads <= 1) return single;
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (1 + threads)));
  ctrl.fill(-3);
  ctrl[0] = 0;
  const source = workerSource();
  const workers: { worker: Worker; port: MessagePort }[] = [];
  for (let w = 0; w < threads - 1; w++) {
    const channel = new MessageChannel();
    const worker = new Worker(source, {
      eval: true,
      execArgv: [],
      workerData: { ctrl: ctrl.buffer, port: channel.port2, worker: w, threads },
      transferList: [channel.port2],
    });
    worker.unref();
    channel.port1.unref();
    workers.push({ worker, port: channel.port1 });
  }
  const stop = (): void => {
    Atomics.store(ctrl, 0, STOPPED);
    Atomics.notify(ctrl, 0);
    for (const { port } of workers) port.close();
  };
  const started = Date.now();
  for (let w = 0; w < workers.length; w++) {
    while (Atomics.load(ctrl, 1 + w) !== 0) {
      const left = START_MS - (Date.now() - started);
      if (left <= 0) {
        stop();
        for (const { worker } of workers) void worker.terminate();
        return single;
      }
      Atomics.wait(ctrl, 1 + w, -3, Math.min(left, 100));
    }
  }
  let generation = 0;
  let closed = false;
  return {
    threads,
    floats: (length) => new Float64Array(new SharedArrayBuffer(8 * length)),
    ints: (length) => new Int32Array(new SharedArrayBuffer(4 * length)),
    run(job) {
      if (closed) throw new Error('k-means threads are closed');
      generation++;
      for (const { port } of workers) port.postMessage(job);
      Atomics.store(ctrl, 0, generation);
      Atomics.notify(ctrl, 0);
      runKernel(job, 0, threads);
      for (let w = 0; w < workers.length; w++) {
        const slot = 1 + w;
        const began = Date.now();
        for (;;) {
          const done = Atomics.load(ctrl, slot);
          if (done === generation) break;
          if (done === FAILED) {
            const reason = receiveMessageOnPort((workers[w] as { port: MessagePort }).port)?.message as
              string | undefined;
            this.close();
            throw new Error(`a k-means worker thread failed: ${reason ?? 'no reason given'}`);
          }
          if (Date.now() - began > JOB_MS) {
            this.close();
            throw new Error(`a k-means worker thread did not answer within ${JOB_MS / 1000} s`);
          }
          Atomics.wait(ctrl, slot, done, 1000);
        }
      }
    },
    close() {
      if (closed) return;
      closed = true;
      stop();
    },
  };
}
