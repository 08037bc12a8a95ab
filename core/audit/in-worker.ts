import { typescriptWorker } from '../threads/index.js';
import type { AuditOptions } from './options.js';
import type { AuditReport } from './report.js';

/** What the audit worker posts back. */
export type AuditWorkerMessage = { type: 'done'; report: AuditReport } | { type: 'failed'; message: string };

/**
 * Builds the audit in a worker thread with its own store connection, so the calling thread (the API, ingestion)
 * keeps answering while the report reads the whole store (seconds at tens of thousands of contacts).
 *
 * @example
 * const report = await buildAuditInWorker(config.store.path, { now: new Date(), protectedAttributes: ['gender'] });
 */
export function buildAuditInWorker(storePath: string, options: AuditOptions): Promise<AuditReport> {
  const worker = typescriptWorker(new URL('./worker.ts', import.meta.url), { storePath, options });
  return new Promise<AuditReport>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    worker.on('message', (message: AuditWorkerMessage) =>
      settle(() => (message.type === 'done' ? resolve(message.report) : reject(new Error(message.message)))),
    );
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`the audit worker exited (code ${code}) before it finished`))),
    );
  });
}
