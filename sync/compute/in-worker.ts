import { typescriptWorker } from '../../core/index.js';
import type { ComputeInput, ComputeOutcome, ComputePhase, ComputeReport } from './compute.js';

/** What the worker posts back. */
export type WorkerMessage =
  | { type: 'phase'; phase: ComputePhase; done: boolean }
  | { type: 'done'; outcome: ComputeOutcome }
  | { type: 'failed'; message: string };

export interface ComputeInWorkerOptions {
  /** Aborting it stops the worker at once; its open transaction rolls back and the promise rejects. */
  signal?: AbortSignal;
  /** Called as each phase starts and ends. */
  onPhase?: (phase: ComputePhase, done: boolean) => void;
}

/**
 * Runs a compute step in a worker thread with its own store connection, so the calling thread (the API, ingestion,
 * the scheduler) keeps answering while features, models and segments are computed.
 *
 * @example
 * const report = await computeInWorker({ storePath, now: new Date().toISOString(), segments }, { signal });
 * report.segments.map((s) => [s.key, s.size]);
 */
export async function computeInWorker(
  input: ComputeInput,
  options: ComputeInWorkerOptions = {},
): Promise<ComputeReport> {
  const { part: _part, ...whole } = input;
  const outcome = await computeInputInWorker(whole, options);
  if (!('report' in outcome)) throw new Error(`the compute worker answered a ${outcome.part} part`);
  return outcome.report;
}

/**
 * Runs `input` (the whole compute, or its part of a compute split across workers) in a worker thread with its own
 * store connection, as {@link computeInWorker} does.
 *
 * @example
 * const outcome = await computeInputInWorker({ ...input, part: { part: 'prepare', slices: 2 } }, { signal });
 */
export function computeInputInWorker(
  input: ComputeInput,
  options: ComputeInWorkerOptions = {},
): Promise<ComputeOutcome> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
  const worker = typescriptWorker(new URL('./worker.ts', import.meta.url), input);
  return new Promise<ComputeOutcome>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      settle(() => reject(signal?.reason instanceof Error ? signal.reason : new Error('cancelled')));
      void worker.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'phase') options.onPhase?.(message.phase, message.done);
      else if (message.type === 'done') settle(() => resolve(message.outcome));
      else settle(() => reject(new Error(message.message)));
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`the compute worker exited (code ${code}) before it finished`))),
    );
  });
}
