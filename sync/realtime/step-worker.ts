/**
 * The step worker: a thread with its own store connection that runs `runStep` each time the pipeline asks, so
 * loading and recomputing never hold the thread that answers HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../core/index.js';
import { runStep, type StepInput } from './step.js';

const { storePath, input } = workerData as { storePath: string; input: StepInput };
const store = openStore(storePath);
parentPort?.on('message', (message: { type: 'step'; now: string } | { type: 'stop' }) => {
  if (message.type === 'stop') {
    store.close();
    parentPort?.close();
    return;
  }
  try {
    parentPort?.postMessage({ type: 'stepped', report: runStep(store, input, new Date(message.now)) });
  } catch (error) {
    parentPort?.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
