import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

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

/**
 * Starts a worker thread on a TypeScript module: segflow runs TypeScript through tsx, so the worker registers tsx
 * itself, then imports its .ts entry.
 *
 * @example
 * const worker = typescriptWorker(new URL('./worker.ts', import.meta.url), { storePath });
 */
export function typescriptWorker(entry: URL, workerData: unknown): Worker {
  const boot = `import { register } from ${JSON.stringify(tsxApi())}; register(); await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData });
}
