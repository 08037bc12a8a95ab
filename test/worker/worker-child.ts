/**
 * A worker child process for the kill tests: runs workers' tasks of the config's store until idle, and stops dead at a
 * named point so the parent can SIGKILL (or SIGSTOP) it there: `page:N` (the Nth page written, not committed),
 * `delivery:N` (the Nth push batch accepted and recorded, not committed), `slice:N` (the Nth compute slice's features
 * written, not committed; computed in this thread), `compute` (segments being evaluated in the compute thread), `claim:<kind>` (a task of that kind just claimed: waits 3 s outside any transaction, then goes on).
 * Prints `started`, the marker, each task's outcome (`task <id> <what>: <outcome>`) and `finished`.
 */
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { runWorker } from '../../sync/index.js';
import { loadConfig } from '../../config/index.js';
import { createRegistry } from '../../plugins/index.js';

const [file, point = 'none', leaseMs = '60000'] = process.argv.slice(2) as [string, string?, string?];
const registry = createRegistry([...BUILTIN_CONNECTORS]);
const config = await loadConfig(file, { registry, env: {} });
const [kind, nth] = point.split(':') as [string, string?];
const counts = { page: 0, delivery: 0, slice: 0 };
const wait = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const hold = (marker: string) => {
  process.stdout.write(`${marker}\n`);
  // Block this thread inside the open transaction until the parent's SIGKILL arrives.
  wait(60_000);
};
const at = (what: 'page' | 'delivery' | 'slice') => () => {
  counts[what]++;
  if (kind === what && counts[what] === Number(nth)) hold(`at ${point}`);
};
process.stdout.write('started\n');
await runWorker(config, {
  registry,
  holder: `child-${process.pid}`,
  leaseTtlMs: Number(leaseMs),
  pollMs: 100,
  untilIdle: true,
  computeIn: kind === 'compute' ? 'worker' : 'here',
  retryDelayMs: 1,
  beforeCommit: { page: at('page'), delivery: at('delivery'), slice: at('slice') },
  afterClaim: (task) => {
    if (kind === 'claim' && task.kind === nth) {
      process.stdout.write(`at ${point}\n`);
      wait(3_000);
    }
  },
  onProgress: (p) => {
    if (kind === 'compute' && p.kind === 'compute' && p.phase === 'segments' && !p.done)
      process.stdout.write('at compute\n');
  },
  onTask: (e) => process.stdout.write(`task ${e.task.id} ${e.what}: ${e.type === 'finished' ? e.status : e.type}\n`),
});
process.stdout.write('finished\n');
process.exit(0);
