import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Whether this code runs compiled (the published package's `dist/`, plain JavaScript) or from the TypeScript
 * sources of a clone (through tsx). Told by this module's own extension: tsc emits `typescript-worker.js`.
 */
const compiled = !import.meta.url.endsWith('.ts');

let tsxApiUrl: string | undefined;

/** The ESM entry of tsx's register API (the package's `./esm/api` import export); tsx is a devDependency. */
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
 * The module a thread or process should run for `entry`, written as a `.ts` URL next to its caller: the compiled
 * `.js` sibling when segflow runs from `dist/`, the entry itself when it runs from source.
 *
 * @example
 * runnableEntry(new URL('./worker.ts', import.meta.url)); // …/dist/sync/compute/worker.js when compiled
 */
export function runnableEntry(entry: URL): URL {
  if (!compiled || !entry.pathname.endsWith('.ts')) return entry;
  const js = new URL(entry.href);
  js.pathname = `${entry.pathname.slice(0, -'.ts'.length)}.js`;
  return js;
}

/**
 * The Node flags a child process needs to run `entry` (see {@link runnableEntry}): none for compiled JavaScript,
 * tsx's loader for a TypeScript source.
 *
 * @example
 * spawn(process.execPath, [...nodeFlagsFor(entry), fileURLToPath(runnableEntry(entry))]);
 */
export function nodeFlagsFor(entry: URL): string[] {
  return runnableEntry(entry).pathname.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
}

/**
 * Starts a worker thread on a module written as TypeScript: from `dist/` the worker runs the compiled `.js` directly;
 * from source it registers tsx itself, then imports the `.ts` entry.
 *
 * @example
 * const worker = typescriptWorker(new URL('./worker.ts', import.meta.url), { storePath });
 */
export function typescriptWorker(entry: URL, workerData: unknown): Worker {
  const runnable = runnableEntry(entry);
  if (!runnable.pathname.endsWith('.ts')) return new Worker(runnable, { workerData });
  const boot = `import { register } from ${JSON.stringify(tsxApi())}; register(); await import(${JSON.stringify(runnable.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData });
}
