import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  automaticK,
  idleWorkers,
  kMeans,
  openThreads,
  seededRandom,
  type KMeansResult,
  type Matrix,
  type ThreadFaults,
} from '../../core/models/index.js';

/** 40,000 rows × 2 features: ten blocks of rows, so each thread has blocks of its own in every job. */
function blobs(rows: number, seed: number): Matrix {
  const rng = seededRandom(seed);
  const values = new Float64Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    const c = rng.int(4);
    values[2 * i] = c * 3 + rng.normal();
    values[2 * i + 1] = (c % 2) * 4 + rng.normal();
  }
  return { values, rows, features: 2 };
}

const matrix = blobs(40_000, 11);

type Fault =
  | { kind: 'none' }
  | { kind: 'delay' | 'throw' | 'exit' | 'stall'; event: 'job' | 'block'; generation: number; ms: number }
  | { kind: 'terminate'; generation: number };

/**
 * The worker-side hook for a fault, as plain JavaScript: it acts once, at the first matching event of the chosen
 * job. A delay sleeps; a stall waits forever (no progress); throw and exit end the worker the two other ways.
 */
function workerHook(fault: Fault): string | undefined {
  if (fault.kind === 'none' || fault.kind === 'terminate') return undefined;
  return `(() => {
    const fault = ${JSON.stringify(fault)};
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    let fired = false;
    return (event, generation) => {
      if (fired || event !== fault.event || generation < fault.generation) return;
      fired = true;
      if (fault.kind === 'delay') Atomics.wait(sleeper, 0, 0, fault.ms);
      else if (fault.kind === 'stall') Atomics.wait(sleeper, 0, 0);
      else if (fault.kind === 'throw') throw new Error('injected failure');
      else process.exit(3);
    };
  })()`;
}

function faultsOf(fault: Fault): ThreadFaults {
  const worker = workerHook(fault);
  return {
    ...(worker ? { worker } : {}),
    ...(fault.kind === 'terminate'
      ? { afterPost: (generation, terminate) => (generation === fault.generation ? terminate(0) : undefined) }
      : {}),
  };
}

function same(a: KMeansResult, b: KMeansResult): boolean {
  return (
    a.inertia === b.inertia &&
    a.iterations === b.iterations &&
    Buffer.from(a.labels.buffer).equals(Buffer.from(b.labels.buffer))
  );
}

describe('k-means threads when the worker is slow, fails, exits, is killed or stalls', () => {
  const kOptions = { k: 4, nInit: 1, seed: 5 };
  const sweepOptions = { seed: 1, maxK: 4, nInit: 1, silhouetteSample: 400 };
  const kReference = kMeans(matrix, { ...kOptions, threads: 1 });
  const sweepReference = automaticK(matrix, { ...sweepOptions, threads: 1 });

  it('either gives the one-thread result or throws an error naming the worker, every time, without waiting', () => {
    const rng = seededRandom(2026);
    const kinds = ['none', 'delay', 'throw', 'exit', 'stall', 'terminate'] as const;
    const seen = new Map<string, number>();
    for (let round = 0; round < 24; round++) {
      const kind = kinds[round % kinds.length] as (typeof kinds)[number];
      const generation = 1 + rng.int(round % 2 === 0 ? 12 : 40);
      const fault: Fault =
        kind === 'none'
          ? { kind }
          : kind === 'terminate'
            ? { kind, generation }
            : { kind, event: rng.next() < 0.5 ? 'job' : 'block', generation, ms: 1 + rng.int(40) };
      const threads = openThreads(2, { stallMs: 1_000, faults: faultsOf(fault) });
      expect(threads.threads).toBe(2);
      let outcome: string;
      try {
        if (round % 2 === 0) {
          const result = kMeans(matrix, { ...kOptions, threads });
          expect(same(result, kReference)).toBe(true);
        } else {
          const result = automaticK(matrix, { ...sweepOptions, threads });
          expect(result.sweep).toEqual(sweepReference.sweep);
          expect(same(result.model, sweepReference.model)).toBe(true);
        }
        outcome = 'same result';
      } catch (error) {
        const message = (error as Error).message;
        expect(message).toMatch(/k-means worker thread (failed|exited|ended|has ended|made no progress)/);
        if (kind === 'throw') expect(message).toMatch(/injected failure/);
        outcome = 'error';
      } finally {
        threads.close();
      }
      // A slow worker never turns into an error; a fault that struck always does.
      if (kind === 'none' || kind === 'delay') expect(outcome).toBe('same result');
      seen.set(`${kind}: ${outcome}`, (seen.get(`${kind}: ${outcome}`) ?? 0) + 1);
    }
    for (const kind of ['throw', 'exit', 'stall', 'terminate']) expect(seen.get(`${kind}: error`)).toBeGreaterThan(0);
  }, 60_000);

  it('runs on the calling thread alone, with the same result, when the worker dies before it starts', () => {
    const threads = openThreads(2, { faults: { worker: '(() => { process.exit(4); })()' } });
    expect(threads.threads).toBe(1);
    expect(same(kMeans(matrix, { ...kOptions, threads }), kReference)).toBe(true);
  });

  it('hands a warm worker from one fit to the next, and replaces one that left the pool or was killed there', async () => {
    const warm = openThreads(2);
    expect(same(kMeans(matrix, { ...kOptions, threads: warm }), kReference)).toBe(true);
    warm.close();
    expect(idleWorkers()).toBeGreaterThan(0);
    const reused = openThreads(2);
    expect(reused.threads).toBe(2);
    expect(same(kMeans(matrix, { ...kOptions, threads: reused }), kReference)).toBe(true);
    reused.close();

    // A worker idle past its time ends by itself; the next fit starts another.
    const brief = openThreads(2, { idleMs: 20 });
    brief.close();
    for (let waited = 0; idleWorkers() > 0 && waited < 5_000; waited += 20) await sleep(20);
    expect(idleWorkers()).toBe(0);
    const after = openThreads(2);
    expect(after.threads).toBe(2);
    expect(same(kMeans(matrix, { ...kOptions, threads: after }), kReference)).toBe(true);
    after.close();

    // A fit that claims a worker just as its idle time runs out either keeps it or starts another: never a failure.
    for (let round = 0; round < 20; round++) {
      const racing = openThreads(2, { idleMs: 1 + (round % 3) });
      racing.close();
      const next = openThreads(2);
      expect(next.threads).toBe(2);
      expect(same(kMeans(matrix, { ...kOptions, threads: next }), kReference)).toBe(true);
      next.close();
    }

    // A worker killed while it waits in the pool is not handed out once its end is known.
    const doomed = openThreads(2, { faults: { afterClose: (terminate) => terminate(0) } });
    doomed.close();
    for (let waited = 0; idleWorkers() > 0 && waited < 5_000; waited += 20) await sleep(20);
    const replaced = openThreads(2);
    expect(replaced.threads).toBe(2);
    expect(same(kMeans(matrix, { ...kOptions, threads: replaced }), kReference)).toBe(true);
    replaced.close();
  });
});
