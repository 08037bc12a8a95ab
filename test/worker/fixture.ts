/**
 * The shop of the crash tests (150 customers, 450 purchases, two segments pushed to a Segment sandbox) with its store
 * anywhere (a SQLite file or a PostgreSQL URL), run by workers: in this process, or as child processes that stop dead
 * at a named point (see worker-child.ts).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { loadConfig, type Config } from '../../config/index.js';
import type { SegmentSandbox } from '../../connectors/segment/index.js';
import { createRegistry, type Registry } from '../../plugins/index.js';
import { writeConfigAt } from '../jobs/crash-fixture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./worker-child.ts', import.meta.url));

/** Writes the shop's config with its store at `location` (a file path or a postgres:// URL); returns its path. */
export const writeShopConfig = (dir: string, name: string, location: string, sandbox: SegmentSandbox): string =>
  writeConfigAt(dir, name, sandbox, location);

export function registry(): Registry {
  return createRegistry([...BUILTIN_CONNECTORS]);
}

export async function load(file: string): Promise<Config> {
  return loadConfig(file, { registry: registry(), env: {} });
}

/** A worker child process: its output so far, a promise of its exit, and a wait for a line it prints. */
export interface WorkerChild {
  process: ChildProcessByStdio<null, Readable, Readable>;
  out(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

function watch(child: ChildProcessByStdio<null, Readable, Readable>): WorkerChild {
  let out = '';
  let err = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters.splice(0))
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    out: () => out,
    exited,
    waitFor: (text, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`the worker did not print "${text}" in ${timeoutMs} ms:\n${out}\n${err}`)),
          timeoutMs,
        );
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(() => {
          if (!out.includes(text)) reject(new Error(`the worker exited before printing "${text}":\n${out}\n${err}`));
        });
      }),
  };
}

/**
 * A worker child (worker-child.ts) that stops dead at `point`: `page:N`, `delivery:N`, `compute` (as the crash
 * child), or `claim:<kind>` (it prints `at claim:<kind>` right after claiming such a task and waits 3 s, outside any
 * transaction, so the parent can SIGSTOP it there); `none` runs until idle.
 */
export function startWorkerChild(file: string, point: string, leaseMs: number): WorkerChild {
  return watch(
    spawn(process.execPath, ['--import', 'tsx', CHILD, file, point, String(leaseMs)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** `segflow worker <file>` as a child process. */
export function startSegflowWorker(file: string, ...args: string[]): WorkerChild {
  return watch(
    spawn(process.execPath, ['bin/segflow.js', 'worker', file, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}
