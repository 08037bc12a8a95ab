/**
 * Worker threads for k-means and the silhouette. The calling thread stays synchronous (the model runner is called
 * synchronously, inside the compute worker): each job is posted to the workers, the calling thread does its own
 * share, then waits on a shared counter with `Atomics.wait`. The workers run plain JavaScript (the kernels' own
 * source, evaluated), so they never go through the TypeScript loader, and they need nothing from the calling thread's
 * event loop while it waits.
 *
 * The calling thread cannot hear a worker's `error` or `exit` events while it waits (they arrive on its event loop),
 * so a worker's fate is written where the calling thread can read it synchronously: a worker that throws or exits
 * says so in shared memory before it goes; one that is terminated or runs out of memory writes nothing, and is seen
 * dead when a probe posted to its port is refused; one that is alive but makes no progress (its progress counter, bumped
 * per block of rows, stands still) for `stallMs` is given up. Each is an error naming what happened, and the workers
 * are terminated: never a wait.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { BLOCK_ROWS, KERNEL_FUNCTIONS, runKernel, SUM_ROWS, type KernelJob } from './kernels.js';

/**
 * Rows × k from which k-means and automatic k use a second thread by default: the crossover `npm run bench -- models`
 * measured on a shared two-core machine (below it the second thread's hand-offs cost more than its share saves).
 */
export const PARALLEL_WORK = 4_000_000;

const START_MS = 10_000;
/** A worker whose progress counter stands still this long while it owes a job is given up (default). */
const STALL_MS = 60_000;
/** How often the calling thread looks at a worker it waits for (it wakes at once when the worker finishes). */
const TICK_MS = 25;
/** How often a waiting calling thread probes whether the worker thread still exists. */
const PROBE_MS = 100;

/**
 * Shared control words. ctrl[0]: job generation (−1 stops). Per worker w: ctrl[1 + 2w] is the last generation it
 * finished (or one of the states below); ctrl[2 + 2w] counts its progress (bumped per block of rows).
 */
const STOPPED = -1;
const FAILED = -2;
const STARTING = -3;
const EXITED = -4;
const doneAt = (w: number): number => 1 + 2 * w;
const progressAt = (w: number): number => 2 + 2 * w;

/** Threads that share the row loops of one fit: the calling thread and `threads - 1` workers. */
export interface KMeansThreads {
  readonly threads: number;
  /** A Float64Array the workers can see. */
  floats(length: number): Float64Array;
  ints(length: number): Int32Array;
  /** Runs a job across every thread and returns when all have finished; throws if a worker failed or died. */
  run(job: KernelJob): void;
  close(): void;
}

/**
 * Fault injection for tests (the stress test delays and kills workers at random points); never used otherwise.
 * `worker` is the source of a plain-JavaScript function `(event, generation, worker) => void` that each worker calls
 * when it picks up a job (`'job'`) and after each block of rows (`'block'`); it may sleep, throw, or call
 * `process.exit()`. `afterPost` runs on the calling thread after each job is posted, and may terminate a worker.
 */
export interface ThreadFaults {
  worker?: string;
  afterPost?: (generation: number, terminate: (worker: number) => void) => void;
}

export interface ThreadOptions {
  /** Give up on a worker whose progress stands still this long while it owes a job (default 60 s). */
  stallMs?: number;
  /** Wait this long for the workers to start before running on the calling thread alone (default 10 s). */
  startMs?: number;
  faults?: ThreadFaults;
}

/**
 * How many threads a fit of k clusters on `rows` rows uses when the caller does not say: two from rows × k =
 * {@link PARALLEL_WORK} (k = 10 when not given), else one.
 */
export function defaultThreads(rows: number, k = 10): number {
  return rows * k >= PARALLEL_WORK ? Math.min(2, availableParallelism()) : 1;
}

const single: KMeansThreads = {
  threads: 1,
  floats: (length) => new Float64Array(length),
  ints: (length) => new Int32Array(length),
  run: (job) => runKernel(job, 0, 1),
  close: () => {},
};

function workerSource(hook: string | undefined): string {
  return `'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
var __name = (f) => f;
const BLOCK_ROWS = ${BLOCK_ROWS};
const SUM_ROWS = ${SUM_ROWS};
${KERNEL_FUNCTIONS.map((f) => f.toString()).join('\n')}
const ctrl = new Int32Array(workerData.ctrl);
const port = workerData.port;
const done = ${doneAt(0)} + 2 * workerData.worker;
const progressed = done + 1;
const hook = ${hook ?? 'null'};
let generation = 0;
const progress = hook
  ? () => { Atomics.add(ctrl, progressed, 1); hook('block', generation, workerData.worker); }
  : () => { Atomics.add(ctrl, progressed, 1); };
let failed = false;
process.on('exit', () => {
  if (failed) return;
  Atomics.store(ctrl, done, ${EXITED});
  Atomics.notify(ctrl, done);
});
/**
 * The job of this generation (probes, posted as null to see whether this thread is alive, are skipped), or null once
 * the threads are stopped (a job whose message never comes is not waited for).
 */
function nextJob() {
  for (;;) {
    const message = receiveMessageOnPort(port);
    if (message === undefined) {
      if (Atomics.load(ctrl, 0) === ${STOPPED}) return null;
      Atomics.wait(ctrl, 0, generation, 1);
      continue;
    }
    if (message.message !== null && message.message.generation === generation) return message.message.job;
  }
}
try {
  Atomics.store(ctrl, done, 0);
  Atomics.notify(ctrl, done);
  for (;;) {
    Atomics.wait(ctrl, 0, generation);
    generation = Atomics.load(ctrl, 0);
    if (generation === ${STOPPED}) break;
    const job = nextJob();
    if (job === null) break;
    Atomics.add(ctrl, progressed, 1);
    if (hook) hook('job', generation, workerData.worker);
    runKernel(job, workerData.worker + 1, workerData.threads, progress);
    Atomics.store(ctrl, done, generation);
    Atomics.notify(ctrl, done);
  }
} catch (error) {
  failed = true;
  port.postMessage(String((error && error.stack) || error));
  Atomics.store(ctrl, done, ${FAILED});
  Atomics.notify(ctrl, done);
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
export function openThreads(threads: number, options: ThreadOptions = {}): KMeansThreads {
  if (threads <= 1) return single;
  const stallMs = options.stallMs ?? STALL_MS;
  const faults = options.faults ?? {};
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (1 + 2 * threads)));
  ctrl.fill(STARTING);
  ctrl[0] = 0;
  const source = workerSource(faults.worker);
  const workers: { worker: Worker; port: MessagePort }[] = [];
  const terminate = (): void => {
    for (const { worker } of workers) worker.terminate().catch(() => {});
  };
  const stop = (): void => {
    Atomics.store(ctrl, 0, STOPPED);
    Atomics.notify(ctrl, 0);
    for (const { port } of workers) port.close();
  };
  try {
    for (let w = 0; w < threads - 1; w++) {
      const channel = new MessageChannel();
      const worker = new Worker(source, {
        eval: true,
        execArgv: [],
        workerData: { ctrl: ctrl.buffer, port: channel.port2, worker: w, threads },
        transferList: [channel.port2],
      });
      worker.unref();
      // The calling thread never listens: errors are read from shared memory. Without a listener an 'error' event
      // would be thrown on the event loop after the fit has already reported it.
      worker.on('error', () => {});
      channel.port1.unref();
      workers.push({ worker, port: channel.port1 });
    }
  } catch {
    stop();
    terminate();
    return single;
  }
  /** Posts to worker w; false when its end of the channel has gone (the thread ended): Node's postMessage says so. */
  const post = (w: number, message: unknown): boolean => {
    const posted: unknown = (workers[w] as { port: MessagePort }).port.postMessage(message);
    return posted !== false;
  };
  const alive = (w: number): boolean => post(w, null);
  const started = Date.now();
  const startMs = options.startMs ?? START_MS;
  for (let w = 0; w < workers.length; w++) {
    while (Atomics.load(ctrl, doneAt(w)) !== 0) {
      const left = startMs - (Date.now() - started);
      const state = Atomics.load(ctrl, doneAt(w));
      if (left <= 0 || state === FAILED || state === EXITED || !alive(w)) {
        stop();
        terminate();
        return single;
      }
      Atomics.wait(ctrl, doneAt(w), state, Math.min(left, PROBE_MS));
    }
  }
  let generation = 0;
  let closed = false;
  const claims = new Int32Array(new SharedArrayBuffer(4));
  const fail = (message: string): never => {
    closed = true;
    stop();
    terminate();
    throw new Error(message);
  };
  return {
    threads,
    floats: (length) => new Float64Array(new SharedArrayBuffer(8 * length)),
    ints: (length) => new Int32Array(new SharedArrayBuffer(4 * length)),
    run(job) {
      if (closed) throw new Error('k-means threads are closed');
      generation++;
      if (job.op !== 'silhouette') {
        claims[0] = 0;
        job.next = claims;
      }
      for (let w = 0; w < workers.length; w++)
        if (!post(w, { generation, job })) fail(`a k-means worker thread has ended (it took no job ${generation})`);
      Atomics.store(ctrl, 0, generation);
      Atomics.notify(ctrl, 0);
      faults.afterPost?.(generation, (w) => {
        workers[w]?.worker.terminate().catch(() => {});
      });
      try {
        runKernel(job, 0, threads);
      } catch (error) {
        fail(`k-means failed on the calling thread: ${(error as Error).message}`);
      }
      for (let w = 0; w < workers.length; w++) waitFor(w);
    },
    close() {
      if (closed) return;
      closed = true;
      stop();
    },
  };

  /** Returns once worker w has finished this generation's job; throws if it failed, ended or stalled. */
  function waitFor(w: number): void {
    let progress = Atomics.load(ctrl, progressAt(w));
    let progressed = Date.now();
    let probed = progressed;
    for (;;) {
      const done = Atomics.load(ctrl, doneAt(w));
      if (done === generation) return;
      if (done === FAILED) {
        const reason = receiveMessageOnPort((workers[w] as { port: MessagePort }).port)?.message as string | undefined;
        fail(`a k-means worker thread failed: ${reason ?? 'no reason given'}`);
      }
      if (done === EXITED) fail(`a k-means worker thread exited during job ${generation}`);
      const now = Date.now();
      if (now - probed >= PROBE_MS) {
        probed = now;
        if (!alive(w)) fail(`a k-means worker thread ended (terminated or out of memory) during job ${generation}`);
      }
      const seen = Atomics.load(ctrl, progressAt(w));
      if (seen !== progress) {
        progress = seen;
        progressed = now;
      } else if (now - progressed > stallMs)
        fail(`a k-means worker thread made no progress for ${Math.round(stallMs / 1000)} s on job ${generation}`);
      Atomics.wait(ctrl, doneAt(w), done, TICK_MS);
    }
  }
}
