import { typescriptWorker } from '../../core/index.js';
import type { ComputeInput, ComputePhase, ComputeReport } from './compute.js';

/** What the worker posts back. */
export type WorkerMessage =
  | { type: 'phase'; phase: ComputePhase; done: boolean }
  | { type: 'done'; report: ComputeReport }
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
export function computeInWorker(input: ComputeInput, options: ComputeInWorkerOptions = {}): Promise<ComputeReport> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
  const worker = typescriptWorker(new URL('./worker.ts', import.meta.url), input);
  return new Promise<ComputeReport>((resolve, reject) => {
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
      else if (message.type === 'done') settle(() => resolve(message.report));
      else settle(() => reject(new Error(message.message)));
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`the compute worker exited (code ${code}) before it finished`))),
    );
  });
}
