/**
 * A second thread for the whole-base feature aggregate: a worker opens the same SQLite file (WAL lets it read while
 * the computation holds the write lock, and it sees exactly what the computation sees, since nothing else can commit
 * meanwhile), aggregates the upper half of the contact id range into a scratch file, and the calling thread, which
 * aggregated the lower half itself, inserts both. The calling thread awaits the worker's exit, so a worker that dies
 * any way at all (an error, an exit, its thread terminated) ends the wait at once. The worker runs plain JavaScript
 * (evaluated source), so it never goes through the TypeScript loader. Any failure of the worker leaves the upper half
 * to the calling thread: never a hang, never a missing row.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { setTimeout as timer, clearTimeout } from 'node:timers';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { SqlValue } from '../store/dialect.js';

/** Contacts from which `computeFeatures` aggregates on two threads by default. */
export const PARALLEL_CONTACTS = 200_000;

const JOB_MS = 30 * 60_000;
const DONE = 1;
const FAILED = 2;

const WORKER_SOURCE = `'use strict';
const { workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
try {
  const Database = require(workerData.driver);
  const db = new Database(workerData.path);
  try {
    db.pragma('busy_timeout = 10000');
    db.pragma('cache_size = -65536');
    db.prepare('ATTACH DATABASE ? AS scratch').run(workerData.scratch);
    db.exec('PRAGMA scratch.journal_mode = OFF; PRAGMA scratch.synchronous = OFF;');
    db.exec(workerData.setup);
    const rate = db.prepare('INSERT OR REPLACE INTO temp.feature_rates (code, rate) VALUES (?, ?)');
    for (const [code, value] of workerData.rates) rate.run(code, value);
    db.exec(workerData.create);
    db.prepare(workerData.insert).run(...workerData.params);
  } finally {
    db.close();
  }
  Atomics.store(state, 0, ${DONE});
} catch (error) {
  workerData.port.postMessage(String((error && error.stack) || error));
  Atomics.store(state, 0, ${FAILED});
}
workerData.port.close();`;

/** The upper half's aggregate, as the worker runs it. */
export interface AggregateJob {
  /** The store's SQLite file. */
  path: string;
  /** The scratch file the worker writes `scratch.aggregates` into (attached by the caller as `scratch`). */
  scratch: string;
  /** SQL creating temp.feature_rates; the rates to put in it. */
  setup: string;
  rates: [string, number][];
  /** CREATE TABLE scratch.aggregates ...; INSERT INTO scratch.aggregates SELECT ... and its parameters. */
  create: string;
  insert: string;
  params: SqlValue[];
}

/** Whether a computation over `contacts` contacts uses a second thread (on this machine: a SQLite store). */
export function aggregateThreads(contacts: number, threads: number | undefined): number {
  return aggregateParts(contacts, { singleFile: true, threads });
}

/** Connections a whole-base feature computation may use on a database server by default (`store.compute_connections`). */
export const DEFAULT_COMPUTE_CONNECTIONS = 2;

/** How a whole-base computation may be split, as `computeFeatures` is given it. */
export interface AggregateSizing {
  /** The store is one file on this machine (SQLite): the work runs on this machine's cores. */
  singleFile: boolean;
  /** Parts forced by the caller (1 or 2), whatever the base's size. */
  threads?: number | undefined;
  /** On a server: the connections the computation may use (default {@link DEFAULT_COMPUTE_CONNECTIONS}). */
  connections?: number | undefined;
}

/**
 * In how many parts (1 or 2) a whole-base aggregate over `contacts` contacts runs: `threads` when given; one below
 * PARALLEL_CONTACTS contacts; above, on a store in one file as many as this machine has cores, and on a database
 * server (PostgreSQL) as many as the computation may use connections there, since the server's cores do the work and
 * this process cannot see them (a 2-core worker may drive a 16-core server, or the reverse).
 *
 * @example
 * aggregateParts(1_000_000, { singleFile: false, connections: 1 }); // 1: the server is asked for one connection only
 */
export function aggregateParts(contacts: number, sizing: AggregateSizing): number {
  const allowed = () =>
    sizing.singleFile ? availableParallelism() : (sizing.connections ?? DEFAULT_COMPUTE_CONNECTIONS);
  return Math.max(1, Math.min(2, sizing.threads ?? (contacts >= PARALLEL_CONTACTS ? allowed() : 1)));
}

/** A running upper-half job: `wait()` resolves true once the worker has filled the scratch file, false if it failed. */
export interface RunningAggregate {
  wait(): Promise<boolean>;
}

/** What a test may change: the worker's source, and how long a worker may run before it is given up. */
export interface AggregateWorkerOptions {
  source?: string;
  timeoutMs?: number;
}

/** Starts the worker; `wait()` resolves when it is done, has failed, has died or ran out of time. */
export function startAggregate(job: AggregateJob, options: AggregateWorkerOptions = {}): RunningAggregate {
  const state = new Int32Array(new SharedArrayBuffer(4));
  const channel = new MessageChannel();
  let worker: Worker;
  try {
    worker = new Worker(options.source ?? WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: {
        ...job,
        state: state.buffer,
        port: channel.port2,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      },
      transferList: [channel.port2],
    });
  } catch {
    channel.port1.close();
    return { wait: () => Promise.resolve(false) };
  }
  channel.port1.unref();
  // The worker keeps the process alive until it exits; the time limit alone does not.
  const exited = new Promise<void>((resolve) => {
    worker.once('error', () => {});
    worker.once('exit', () => resolve());
  });
  const limit = timer(() => void worker.terminate(), options.timeoutMs ?? JOB_MS);
  limit.unref();
  return {
    async wait() {
      await exited;
      clearTimeout(limit);
      const done = Atomics.load(state, 0) === DONE;
      if (!done) {
        const reason = receiveMessageOnPort(channel.port1)?.message as string | undefined;
        process.emitWarning(
          `features: the second aggregate thread ${reason ? `failed (${reason.split('\n')[0] ?? ''})` : 'stopped without finishing'}, computing its half here`,
        );
      }
      channel.port1.close();
      return done;
    },
  };
}
