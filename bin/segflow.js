#!/usr/bin/env -S node --max-semi-space-size=64
// The `segflow` command. The published package runs the compiled JavaScript in dist/; a clone (which has the
// TypeScript sources next to this file, and tsx as a devDependency) runs its sources, so an edit needs no rebuild.
// SEGFLOW_FROM=dist makes a clone run its build instead (`npm run build` first).
// A 64 MiB young generation: ingestion and delivery make many short-lived objects per event; with the default 16 MiB
// the thread that answers HTTP ran 396 scavenges over the real-time benchmark's minute instead of 83.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { setInterval, clearInterval } from 'node:timers';
import { URL } from 'node:url';

const source = new URL('../cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
const fromSource = process.env.SEGFLOW_FROM !== 'dist' && existsSync(source);
if (!fromSource && !existsSync(compiled)) {
  process.stderr.write('segflow: dist/ is missing; run `npm run build` in the segflow folder\n');
  process.exit(1);
}
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
}
// Under npm (`npx segflow serve`, `npm run segflow`) a shell sits between npm and this process; on SIGTERM npm passes
// the signal to that shell, which exits without passing it on, and segflow would go on serving as an orphan. So when
// npm started us and our parent goes away, stop the way the signal would have stopped us.
if (process.env.npm_command) {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, 'SIGTERM');
  }, 500);
  watch.unref();
}
const { main } = await import((fromSource ? source : compiled).href);
process.exitCode = await main(process.argv.slice(2));
