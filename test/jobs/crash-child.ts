/**
 * A child process that runs job `nightly` of a config and stops dead at a named point so the parent can SIGKILL it
 * there: `page:N` (the Nth page written, not committed), `delivery:N` (the Nth push batch accepted by the destination
 * and its results written, not committed), `compute` (features committed, segments being evaluated in the worker),
 * or `none` (runs to the end; the parent kills it at a random moment). Prints `started`, the marker, `finished`.
 */
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runJob } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import { createRegistry } from '../../plugins/index.js';

const [file, point = 'none', now] = process.argv.slice(2) as [string, string?, string?];
const registry = createRegistry([...BUILTIN_CONNECTORS]);
const config = await loadConfig(file, { registry, env: {} });
const [kind, nth] = point.split(':') as [string, string?];
const counts = { page: 0, delivery: 0 };
const hold = (marker: string) => {
  process.stdout.write(`${marker}\n`);
  // Block this thread inside the open transaction until the parent's SIGKILL arrives.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
};
const at = (what: 'page' | 'delivery') => () => {
  counts[what]++;
  if (kind === what && counts[what] === Number(nth)) hold(`at ${point}`);
};
process.stdout.write('started\n');
const result = await runJob(config, 'nightly', {
  registry,
  holder: 'crash-test',
  ...(now ? { now: new Date(now) } : {}),
  computeIn: kind === 'compute' ? 'worker' : 'here',
  retryDelayMs: 1,
  beforeCommit: { page: at('page'), delivery: at('delivery') },
  onProgress: (p) => {
    if (kind === 'compute' && p.kind === 'compute' && p.phase === 'segments' && !p.done)
      process.stdout.write('at compute\n');
  },
});
process.stdout.write(`finished ${result.status}\n`);
process.exit(0);
