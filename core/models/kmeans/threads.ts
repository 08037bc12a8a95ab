/**
 * Worker threads for k-means and the silhouette. The calling thread stays synchronous (the model runner is called
 * synchronously, inside the compute worker): each job is posted to the workers, the calling thread does its own
 * share, then waits on a shared word with `Atomics.wait`. The workers run plain JavaScript (the kernels' own source,
 * evaluated), so they never go through the TypeScript loader, and they need nothing from the calling thread's event
 * loop while it waits.
 *
 * Workers are kept warm between fits: closing the threads of a fit hands its healthy workers back to a pool of the
 * calling thread (their code already compiled, nothing to start), and a worker left idle there for {@link IDLE_MS}
 * leaves by itself. A fit that finds no idle worker starts one.
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
import { sharedFloats } from '../numeric/index.js';
import { BLOCK_ROWS, KERNEL_FUNCTIONS, runKernel, SUM_ROWS, type KernelJob } from './kernels.js';

/**
 * Rows × k from which k-means and automatic k use a second thread by default. With warm workers and hand-offs through
 * shared memory, two threads spend within about 10% of one thread's CPU time from rows × k = 75,000 up; the threshold
 * leaves room for the hand-offs' wake-up latency (`npm run bench -- models` shows the crossover).
 */
export const PARALLEL_WORK = 1_000_000;

const START_MS = 10_000;
/** A worker whose progress counter stands still this long while it owes a job is given up (default). */
const STALL_MS = 60_000;
/** How often the calling thread looks at a worker it waits for (it wakes at once when the worker finishes). */
const TICK_MS = 25;
/** How often a waiting calling thread probes whether the worker thread still exists. */
const PROBE_MS = 100;
/** A pooled worker idle this long leaves the pool and ends. */
const IDLE_MS = 30_000;

/** A worker's control words (its own shared memory). */
const JOB = 0; // the generation of the job posted to it; STOPPED ends it
const DONE = 1; // the last generation it finished, or FAILED / STARTING / EXITED
const PROGRESS = 2; // bumped per block of rows
const HELD = 3; // IN_POOL, IN_USE or RETIRED (it left the pool)
const IDLE = 4; // milliseconds it waits idle in the pool before it ends
const FORGET = 5; // 1: drop every array it holds before anything else (its threads were closed)
const WORDS = 6;

/**
 * A worker keeps the arrays of the jobs it was given (a shared array crosses to it once, not with every job: each
 * crossing makes a new handle that the worker's heap counts as fresh external memory, and enough of them set off full
 * collections); it drops one unused for this many jobs, and the calling thread, which runs the same rule, sends it
 * again if it is needed after that.
 */
const KEEP_JOBS = 8;

const STOPPED = -1;
const FAILED = -2;
const STARTING = -3;
const EXITED = -4;
const IN_POOL = 0;
const IN_USE = 1;
const RETIRED = 2;

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
 * `process.exit()`; threads opened with it start workers of their own, which never join the pool. `afterPost` runs
 * on the calling thread after each job is posted, and `afterClose` once the workers are back in the pool; either may
 * terminate a worker.
 */
export interface ThreadFaults {
  worker?: string;
  afterPost?: (generation: number, terminate: (worker: number) => void) => void;
  afterClose?: (terminate: (worker: number) => void) => void;
}

export interface ThreadOptions {
  /** Give up on a worker whose progress stands still this long while it owes a job (default 60 s). */
  stallMs?: number;
  /** Wait this long for the workers to start before running on the calling thread alone (default 10 s). */
  startMs?: number;
  /** Once closed, the workers leave the pool after this long idle there (default 30 s). */
  idleMs?: number;
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
const hook = ${hook ?? 'null'};
let generation = 0;
let thread = 0;
const progress = hook
  ? () => { Atomics.add(ctrl, ${PROGRESS}, 1); hook('block', generation, thread - 1); }
  : () => { Atomics.add(ctrl, ${PROGRESS}, 1); };
let failed = false;
process.on('exit', () => {
  if (failed) return;
  Atomics.store(ctrl, ${DONE}, ${EXITED});
  Atomics.notify(ctrl, ${DONE});
});
const arrays = new Map();
const used = new Map();
/** Rebuilds the job in its own key order, arrays taken from those this thread keeps (new ones added first). */
function unpack(message) {
  for (const [id, array] of message.arrays) arrays.set(id, array);
  const job = {};
  for (const [key, kind, value] of message.layout) {
    if (kind === 0) job[key] = value;
    else if (kind === 1) {
      job[key] = arrays.get(value);
      used.set(value, generation);
    } else {
      job[key] = value.map((id) => arrays.get(id));
      for (const id of value) used.set(id, generation);
    }
  }
  for (const [id, last] of used)
    if (last <= generation - ${KEEP_JOBS}) {
      used.delete(id);
      arrays.delete(id);
    }
  return job;
}
function forget() {
  if (Atomics.exchange(ctrl, ${FORGET}, 0) !== 1) return;
  arrays.clear();
  used.clear();
}
/**
 * The message of this generation (probes, posted as null to see whether this thread is alive, are skipped), or null
 * once the thread is stopped (a job whose message never comes is not waited for).
 */
function nextJob() {
  for (;;) {
    const message = receiveMessageOnPort(port);
    if (message === undefined) {
      if (Atomics.load(ctrl, ${JOB}) === ${STOPPED}) return null;
      Atomics.wait(ctrl, ${JOB}, generation, 1);
      continue;
    }
    if (message.message !== null && message.message.generation === generation) return message.message;
  }
}
try {
  Atomics.store(ctrl, ${DONE}, 0);
  Atomics.notify(ctrl, ${DONE});
  for (;;) {
    const woke = Atomics.wait(ctrl, ${JOB}, generation, Atomics.load(ctrl, ${IDLE}));
    const posted = Atomics.load(ctrl, ${JOB});
    if (posted === ${STOPPED}) break;
    forget();
    if (posted === generation) {
      if (woke === 'timed-out' && Atomics.compareExchange(ctrl, ${HELD}, ${IN_POOL}, ${RETIRED}) === ${IN_POOL}) break;
      continue;
    }
    generation = posted;
    const message = nextJob();
    if (message === null) break;
    thread = message.thread;
    const job = unpack(message);
    Atomics.add(ctrl, ${PROGRESS}, 1);
    if (hook) hook('job', generation, thread - 1);
    runKernel(job, thread, message.threads, progress);
    Atomics.store(ctrl, ${DONE}, generation);
    Atomics.notify(ctrl, ${DONE});
  }
} catch (error) {
  failed = true;
  port.postMessage(String((error && error.stack) || error));
  Atomics.store(ctrl, ${DONE}, ${FAILED});
  Atomics.notify(ctrl, ${DONE});
}
port.close();`;
}

/** One worker thread and what the calling thread knows of it. */
interface Member {
  worker: Worker;
  port: MessagePort;
  ctrl: Int32Array;
  /** The generation of the last job posted to it. */
  generation: number;
  /** Whether it returns to the pool when its threads are closed (workers with fault hooks do not). */
  poolable: boolean;
  /** The arrays it keeps (by id) and the generation of the last job that used each: the worker's own rule, mirrored. */
  used: Map<number, number>;
}

/** Ids of the arrays sent to workers. */
const arrayIds = new WeakMap<object, number>();
let lastArrayId = 0;

function idOf(array: object): number {
  let id = arrayIds.get(array);
  if (id === undefined) {
    id = ++lastArrayId;
    arrayIds.set(array, id);
  }
  return id;
}

/**
 * A job as the worker rebuilds it: its fields in order, each a value (0), an array (1, by id) or a list of arrays (2),
 * and the arrays the worker does not keep yet. Records the job's arrays as kept, and drops those unused for
 * {@link KEEP_JOBS} jobs, as the worker will.
 */
function pack(job: KernelJob, member: Member): { layout: [string, number, unknown][]; arrays: [number, unknown][] } {
  const layout: [string, number, unknown][] = [];
  const arrays: [number, unknown][] = [];
  const generation = member.generation;
  const keep = (array: object): number => {
    const id = idOf(array);
    if (!member.used.has(id)) arrays.push([id, array]);
    member.used.set(id, generation);
    return id;
  };
  for (const [key, value] of Object.entries(job)) {
    if (ArrayBuffer.isView(value)) layout.push([key, 1, keep(value)]);
    else if (Array.isArray(value) && value.length > 0 && value.every((v) => ArrayBuffer.isView(v)))
      layout.push([key, 2, value.map(keep)]);
    else layout.push([key, 0, value]);
  }
  for (const [id, last] of member.used) if (last <= generation - KEEP_JOBS) member.used.delete(id);
  return { layout, arrays };
}

/** Idle workers of this thread, warm, waiting for the next fit. */
const pool: Member[] = [];

function startMember(source: string, poolable: boolean): Member | null {
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * WORDS));
  ctrl[JOB] = 0;
  ctrl[DONE] = STARTING;
  ctrl[HELD] = IN_USE;
  ctrl[IDLE] = IDLE_MS;
  try {
    const channel = new MessageChannel();
    const worker = new Worker(source, {
      eval: true,
      execArgv: [],
      workerData: { ctrl: ctrl.buffer, port: channel.port2 },
      transferList: [channel.port2],
    });
    worker.unref();
    // The calling thread never listens: errors are read from shared memory. Without a listener an 'error' event
    // would be thrown on the event loop after the fit has already reported it.
    worker.on('error', () => {});
    channel.port1.unref();
    const member: Member = { worker, port: channel.port1, ctrl, generation: 0, poolable, used: new Map() };
    worker.on('exit', () => {
      const at = pool.indexOf(member);
      if (at >= 0) pool.splice(at, 1);
    });
    return member;
  } catch {
    return null;
  }
}

/** Posts to a worker; false when its end of the channel has gone (the thread ended): Node's postMessage says so. */
function post(member: Member, message: unknown): boolean {
  const posted: unknown = member.port.postMessage(message);
  return posted !== false;
}

const alive = (member: Member): boolean => post(member, null);

function stop(member: Member): void {
  Atomics.store(member.ctrl, JOB, STOPPED);
  Atomics.notify(member.ctrl, JOB);
  member.port.close();
}

function terminate(member: Member): void {
  member.worker.terminate().catch(() => {});
}

/** An idle worker from the pool, claimed before it can retire, and still alive; or null. */
function fromPool(): Member | null {
  for (let member = pool.pop(); member; member = pool.pop()) {
    if (Atomics.compareExchange(member.ctrl, HELD, IN_POOL, IN_USE) !== IN_POOL) continue;
    if (Atomics.load(member.ctrl, DONE) >= 0 && alive(member)) return member;
    stop(member);
    terminate(member);
  }
  return null;
}

/**
 * Opens `threads` threads (the caller's and `threads - 1` workers, warm ones from the pool when there are); with 1,
 * or if a worker does not start, the work runs on the calling thread alone with the same results. Close it when the
 * fit is done: that returns the workers to the pool.
 *
 * @example
 * const threads = openThreads(2);
 * try { kMeans(matrix, { k: 8, threads }); } finally { threads.close(); }
 */
export function openThreads(threads: number, options: ThreadOptions = {}): KMeansThreads {
  if (threads <= 1) return single;
  const stallMs = options.stallMs ?? STALL_MS;
  const faults = options.faults ?? {};
  const own = faults.worker !== undefined;
  const source = own ? workerSource(faults.worker) : pooledSource();
  const idleMs = options.idleMs ?? IDLE_MS;
  const members: Member[] = [];
  const dismiss = (): KMeansThreads => {
    for (const member of members) {
      stop(member);
      terminate(member);
    }
    return single;
  };
  for (let w = 0; w < threads - 1; w++) {
    const member = (own ? null : fromPool()) ?? startMember(source, !own);
    if (!member) return dismiss();
    members.push(member);
  }
  const started = Date.now();
  const startMs = options.startMs ?? START_MS;
  for (const member of members) {
    while (Atomics.load(member.ctrl, DONE) < 0) {
      const left = startMs - (Date.now() - started);
      const state = Atomics.load(member.ctrl, DONE);
      if (left <= 0 || state === FAILED || state === EXITED || !alive(member)) return dismiss();
      Atomics.wait(member.ctrl, DONE, state, Math.min(left, PROBE_MS));
    }
  }
  let generation = 0;
  let closed = false;
  const claims = new Int32Array(new SharedArrayBuffer(4));
  const fail = (message: string): never => {
    closed = true;
    dismiss();
    throw new Error(message);
  };
  return {
    threads,
    floats: sharedFloats,
    ints: (length) => new Int32Array(new SharedArrayBuffer(4 * length)),
    run(job) {
      if (closed) throw new Error('k-means threads are closed');
      generation++;
      if (job.op !== 'silhouette') {
        claims[0] = 0;
        job.next = claims;
      }
      members.forEach((member, w) => {
        member.generation++;
        if (!post(member, { generation: member.generation, ...pack(job, member), thread: w + 1, threads }))
          fail(`a k-means worker thread has ended (it took no job ${generation})`);
        Atomics.store(member.ctrl, JOB, member.generation);
        Atomics.notify(member.ctrl, JOB);
      });
      faults.afterPost?.(generation, (w) => {
        const member = members[w];
        if (member) terminate(member);
      });
      try {
        runKernel(job, 0, threads);
      } catch (error) {
        fail(`k-means failed on the calling thread: ${(error as Error).message}`);
      }
      for (const member of members) waitFor(member);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const member of members) {
        if (member.poolable) {
          // the fit's arrays are let go while the worker waits in the pool
          member.used.clear();
          Atomics.store(member.ctrl, FORGET, 1);
          Atomics.store(member.ctrl, IDLE, idleMs);
          Atomics.store(member.ctrl, HELD, IN_POOL);
          // wakes the worker to wait again with this idle time
          Atomics.notify(member.ctrl, JOB);
          pool.push(member);
        } else stop(member);
      }
      faults.afterClose?.((w) => {
        const member = members[w];
        if (member) terminate(member);
      });
    },
  };

  /** Returns once a worker has finished this generation's job; throws if it failed, ended or stalled. */
  function waitFor(member: Member): void {
    const { ctrl } = member;
    let progress = Atomics.load(ctrl, PROGRESS);
    let progressed = Date.now();
    let probed = progressed;
    for (;;) {
      const done = Atomics.load(ctrl, DONE);
      if (done === member.generation) return;
      if (done === FAILED) {
        const reason = receiveMessageOnPort(member.port)?.message as string | undefined;
        fail(`a k-means worker thread failed: ${reason ?? 'no reason given'}`);
      }
      if (done === EXITED) fail(`a k-means worker thread exited during job ${generation}`);
      const now = Date.now();
      if (now - probed >= PROBE_MS) {
        probed = now;
        if (!alive(member))
          fail(`a k-means worker thread ended (terminated or out of memory) during job ${generation}`);
      }
      const seen = Atomics.load(ctrl, PROGRESS);
      if (seen !== progress) {
        progress = seen;
        progressed = now;
      } else if (now - progressed > stallMs)
        fail(`a k-means worker thread made no progress for ${Math.round(stallMs / 1000)} s on job ${generation}`);
      Atomics.wait(ctrl, DONE, done, TICK_MS);
    }
  }
}

/** How many idle workers wait in this thread's pool (for tests and diagnostics). */
export function idleWorkers(): number {
  return pool.length;
}

let pooledWorkerSource: string | undefined;

function pooledSource(): string {
  pooledWorkerSource ??= workerSource(undefined);
  return pooledWorkerSource;
}
