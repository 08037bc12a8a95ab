import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
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
  // segflow runs TypeScript through tsx: the worker registers tsx itself, then imports its .ts entry.
  const entry = new URL('./worker.ts', import.meta.url).href;
  const boot = `import { register } from ${JSON.stringify(tsxApi())}; register(); await import(${JSON.stringify(entry)});`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: { storePath, options } });
  return new Promise<AuditReport>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    worker.on('message', (message: AuditWorkerMessage) => settle(() => (message.type === 'done' ? resolve(message.report) : reject(new Error(message.message)))));
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new Error(`the audit worker exited (code ${code}) before it finished`))));
  });
}

let tsxApiUrl: string | undefined;

/** The ESM entry of tsx's register API (the package's `./esm/api` import export). */
function tsxApi(): string {
  if (tsxApiUrl) return tsxApiUrl;
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = require(pkgPath) as { exports: Record<string, { import?: { default?: string } }> };
  const relative = pkg.exports['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs';
  tsxApiUrl = pathToFileURL(join(dirname(pkgPath), relative)).href;
  return tsxApiUrl;
}
