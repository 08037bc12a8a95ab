/**
 * The sandbox worker's entry, as a thread or a child process (see startSandboxesInWorker): draws the world, starts
 * the asked sandboxes on it, posts back where they listen, and closes them (saving their state) when told to.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { reasonOf } from '../plugins/index.js';
import { createWorld } from '../plugins/sandbox/index.js';
import { SANDBOXES, type RunningSandbox, type SandboxThreadMessage, type SandboxThreadOptions } from './sandboxes.js';

/** The parent: a worker thread's port, or a child process's IPC channel (options then come as the last argument). */
const parent = parentPort
  ? {
      options: workerData as SandboxThreadOptions,
      post: (m: SandboxThreadMessage) => parentPort!.postMessage(m),
      hangUp: () => parentPort!.close(),
    }
  : process.send
    ? {
        options: JSON.parse(process.argv.at(-1)!) as SandboxThreadOptions,
        post: (m: SandboxThreadMessage) => process.send!(m),
        hangUp: () => process.disconnect(),
      }
    : undefined;
if (!parent) throw new Error('cli/sandbox-worker.ts runs as a worker thread or a child process with an IPC channel');
const { options, post } = parent;
const running: RunningSandbox[] = [];

let closing = false;
const close = () => {
  if (closing) return;
  closing = true;
  void Promise.all(running.map((s) => s.close())).finally(() => {
    if (!parentPort && !process.connected) return;
    post({ type: 'closed' });
    parent.hangUp();
  });
};
(parentPort ?? process).on('message', (message: unknown) => {
  if (message === 'close') close();
});
// A child process whose parent died closes its sandboxes (saving their state) and ends.
if (!parentPort) process.on('disconnect', close);

try {
  const world = createWorld({
    seed: options.seed,
    people: options.people,
    ...(options.historyDays === undefined ? {} : { historyDays: options.historyDays }),
  });
  for (const tool of options.tools) {
    const start = SANDBOXES[tool];
    if (!start) throw new Error(`no sandbox for "${tool}" (there are: ${Object.keys(SANDBOXES).join(', ')})`);
    running.push(
      await start({
        world,
        ...(options.stateDir === undefined ? {} : { statePath: join(options.stateDir, `${tool}.json`) }),
        ...(options.limits?.[tool] === undefined ? {} : { limits: options.limits[tool] }),
        ...(options.recordBodies === undefined ? {} : { recordBodies: options.recordBodies }),
      }),
    );
  }
  post({
    type: 'started',
    sandboxes: running.map(({ tool, url, credentials, config }) => ({ tool, url, credentials, config })),
  });
} catch (error) {
  await Promise.all(running.map((s) => s.close()));
  post({ type: 'failed', message: reasonOf(error) });
  parent.hangUp();
}
