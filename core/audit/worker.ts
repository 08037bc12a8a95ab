/** The audit worker's entry: opens its own store connection, builds the report and posts it back. */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import { lowerThreadPriority } from '../threads/index.js';
import type { AuditOptions } from './options.js';
import { buildAudit } from './report.js';
import type { AuditWorkerMessage } from './in-worker.js';

const port = parentPort;
if (!port) throw new Error('core/audit/worker.ts runs as a worker thread');
// An audit reads the whole store: batch work, yielding the CPU to the API and ingestion as computes do.
lowerThreadPriority();
const input = workerData as { storePath: string; options: AuditOptions };
let answer: AuditWorkerMessage;
try {
  const store = await openStore(input.storePath);
  try {
    answer = { type: 'done', report: await buildAudit(store, input.options) };
  } finally {
    // Closed before answering, as the compute worker is: a last connection's close copies the log into the file.
    await store.close();
  }
} catch (error) {
  answer = { type: 'failed', message: error instanceof Error ? error.message : String(error) };
}
port.postMessage(answer);
